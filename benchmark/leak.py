"""Does a trace copy the real action? The one rule shared by the harness (a run whose traces copy their actions
fails as a leak, ``benchmark.runners``) and the synthesizers (which redact what would trip it,
``benchmark.synthesize``).

Both texts are first *normalised* to word tokens, so cosmetic disguises do not hide a copy:

- Unicode compatibility forms folded (NFKD: full-width letters, ligatures, mathematical letters) and combining
  marks dropped (accents: ``é`` = ``e``);
- invisible format characters removed (zero-width space/joiners, soft hyphen, word joiner, byte-order mark, bidi
  controls: every character of category ``Cf``), so ``ag\\u00adency`` = ``agency``;
- common look-alike letters of Cyrillic and Greek folded to the Latin letter they imitate (``а`` U+0430 = ``a``);
- case folded; every run of letters/digits is a token and anything else (spaces, ``_``, ``-``, ``.``) separates.

Then four measures, each against its own threshold (``LeakCheck``):

- ``ngram``: share of the action's word n-grams (n = 8, or the whole action when shorter) found in the trace;
- ``pieces``: share of the action's words covered by pieces of at least ``piece_n`` (5) consecutive words that occur
  in the trace, in any order (the action cut into 7-word pieces and shuffled);
- ``gapped``: the longest common subsequence of words between the action and a window of the trace (twice the
  action's length), over the action's length (words dropped, inserted or replaced here and there);
- ``reordered``: the share of the action's words (as a multiset) found within one such window, in any order
  (reversed or shuffled word order).

Actions under ``min_words`` words are not checked; ``gapped`` and ``reordered`` only apply to actions of at least
``gapped_min_words`` words (short actions share their few words with ordinary reasoning too easily).

What it does not catch, on purpose: encodings and transformations that need decoding (base64, hex, ROT13, a cipher,
words spelled backwards, words glued together without separators, translation into another language) and close
paraphrase. A trace is shown to the fixed action model as plain text; an encoded copy only helps a method whose
action model decodes it, and detecting every encoding is an arms race a word-overlap rule cannot win. Such traces
are a matter for review (every flagged id and score is recorded), not for this automatic check.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class LeakCheck:
    """The thresholds of the leak rule (see the module docstring). The run fails as a leak when more than
    ``max_fraction`` of the traces copy their action."""

    n: int = 8
    threshold: float = 0.5
    min_words: int = 5
    max_fraction: float = 0.1
    piece_n: int = 5
    piece_threshold: float = 0.5
    gapped_min_words: int = 10
    gapped_threshold: float = 0.7
    reordered_threshold: float = 0.8

    def as_dict(self) -> dict:
        return {"n": self.n, "threshold": self.threshold, "min_words": self.min_words,
                "max_fraction": self.max_fraction, "piece_n": self.piece_n, "piece_threshold": self.piece_threshold,
                "gapped_min_words": self.gapped_min_words, "gapped_threshold": self.gapped_threshold,
                "reordered_threshold": self.reordered_threshold}


# Cyrillic and Greek letters that look like Latin ones (both cases; upper case read as the Latin capital it imitates)
_CONFUSABLES = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t",
    "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "п": "n", "ԛ": "q", "ԝ": "w",
    "ь": "b",
    "ү": "y", "ɡ": "g",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y",
    # Greek lower case
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Greek upper case
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
    "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C",
}
_TOKEN = re.compile(r"[^\W_]+")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    out = []
    for c in unicodedata.normalize("NFKD", ch):
        if unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        out.append(_CONFUSABLES.get(c, c))
    return "".join(out).casefold()


def normalize(text: str) -> str:
    """``text`` folded as described in the module docstring (tokens are the runs of letters and digits)."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(c) for c in text)


def tokens_with_spans(text: str) -> list[tuple[str, int, int]]:
    """The normalised word tokens of ``text``, each with the [start, end) span of ``text`` it came from."""
    if text.isascii():
        low = text.lower()
        return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(low)]
    chars, origin = [], []
    for i, c in enumerate(text):
        folded = _fold_char(c)
        chars.append(folded)
        origin.extend([i] * len(folded))
    norm = "".join(chars)
    return [(m.group(), origin[m.start()], origin[m.end() - 1] + 1) for m in _TOKEN.finditer(norm)]


def words(text: str) -> list[str]:
    """The normalised word tokens of ``text``."""
    return _TOKEN.findall(normalize(text))


def _ngrams(ws: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def _lcs(a_masks: dict[str, int], m: int, seq: list[str]) -> int:
    """Length of the longest common subsequence of the action (as per-token bit masks over its m positions) and
    ``seq`` (bit-parallel, Hyyrö 2004)."""
    full = (1 << m) - 1
    v = full
    for tok in seq:
        u = v & a_masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
    return m - bin(v).count("1")


def _windows(n_trace: int, m: int) -> list[tuple[int, int]]:
    """Trace windows of 2m tokens every m tokens: any span of at most m tokens lies inside one of them."""
    w = 2 * m
    if n_trace <= w:
        return [(0, n_trace)]
    return [(s, min(s + w, n_trace)) for s in range(0, n_trace - m, m)]


@dataclass(frozen=True)
class LeakScores:
    """The four measures for one (trace, action); ``fired`` names those at or over their threshold."""

    ngram: float
    pieces: float
    gapped: float | None
    reordered: float | None
    fired: tuple[str, ...]
    window: tuple[int, int] | None  # token range of the trace behind ``gapped``/``reordered``

    @property
    def copied(self) -> float:
        """The highest of the measures that fired (or of all, when none did)."""
        values = {"ngram": self.ngram, "pieces": self.pieces, "gapped": self.gapped or 0.0,
                  "reordered": self.reordered or 0.0}
        return max(values[k] for k in (self.fired or values))


def _scores(trace_words: list[str], action_words: list[str], check: LeakCheck) -> LeakScores | None:
    m = len(action_words)
    if m < check.min_words:
        return None
    n = min(check.n, m)
    wanted = _ngrams(action_words, n)
    trace_grams = _ngrams(trace_words, n)
    ngram = len(wanted & trace_grams) / len(wanted)
    k = min(check.piece_n, m)
    trace_k = trace_grams if k == n else _ngrams(trace_words, k)
    covered = [False] * m
    for i in range(m - k + 1):
        if tuple(action_words[i:i + k]) in trace_k:
            covered[i:i + k] = [True] * k
    pieces = sum(covered) / m
    gapped = reordered = None
    window = None
    if m >= check.gapped_min_words and trace_words:
        masks: dict[str, int] = {}
        for i, tok in enumerate(action_words):
            masks[tok] = masks.get(tok, 0) | (1 << i)
        need = Counter(action_words)
        best_g, best_r, win_g, win_r = -1.0, -1.0, None, None
        for s, e in _windows(len(trace_words), m):
            seq = trace_words[s:e]
            g = _lcs(masks, m, seq) / m
            have = Counter(seq)
            r = sum(min(c, have[t]) for t, c in need.items()) / m
            if g > best_g:
                best_g, win_g = g, (s, e)
            if r > best_r:
                best_r, win_r = r, (s, e)
        gapped, reordered = best_g, best_r
        window = win_g if best_g >= check.gapped_threshold else win_r
    fired = tuple(name for name, value, threshold in (
        ("ngram", ngram, check.threshold), ("pieces", pieces, check.piece_threshold),
        ("gapped", gapped, check.gapped_threshold), ("reordered", reordered, check.reordered_threshold))
        if value is not None and value >= threshold)
    return LeakScores(ngram, pieces, gapped, reordered, fired, window)


def leak_scores(trace: str, action: str, check: LeakCheck = LeakCheck()) -> LeakScores | None:
    """The measures for ``trace`` against ``action``; None when the action is too short to check."""
    return _scores(words(trace), words(action), check)


def copied_share(trace: str, action: str, check: LeakCheck = LeakCheck()) -> float | None:
    """Share of the action's (normalised) word n-grams found in the trace, 0..1 -- the contiguous measure only;
    None if the action is too short to check. ``leak_scores`` gives every measure."""
    s = leak_scores(trace, action, check)
    return None if s is None else s.ngram


REDACTED = "[...]"


def _redact_spans(trace: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out += [trace[last:start], REDACTED]
        last = end
    out.append(trace[last:])
    return "".join(out)


def _merge(covered: list[bool], toks: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(toks):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(toks) and covered[j + 1]:
            j += 1
        spans.append((toks[i][1], toks[j][2]))
        i = j + 1
    return spans


def _tight(trace_words: list[str], action_words: list[str], window: tuple[int, int], check: LeakCheck,
           which: str) -> tuple[int, int]:
    """``window`` shrunk from both ends while the (gapped or reordered) measure stays at its threshold."""
    m = len(action_words)
    masks: dict[str, int] = {}
    for i, tok in enumerate(action_words):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    need = Counter(action_words)

    def score(s: int, e: int) -> float:
        seq = trace_words[s:e]
        if which == "gapped":
            return _lcs(masks, m, seq) / m
        have = Counter(seq)
        return sum(min(c, have[t]) for t, c in need.items()) / m

    threshold = check.gapped_threshold if which == "gapped" else check.reordered_threshold
    s, e = window
    while e - s > 1 and score(s + 1, e) >= threshold:
        s += 1
    while e - s > 1 and score(s, e - 1) >= threshold:
        e -= 1
    return s, e


def redact_action(trace: str, action: str, check: LeakCheck = LeakCheck()) -> tuple[str, int]:
    """``trace`` with the copies of ``action`` replaced by ``[...]``; returns the text and the number of spans
    replaced. Every span of at least ``check.n`` consecutive (normalised) words that also occurs in the action is
    replaced (the whole action if it is shorter); if the trace would still be flagged by ``leak_scores``, the shorter
    shared pieces and then the offending window are replaced too, until it is not."""
    action_words = words(action)
    if len(action_words) < check.min_words:
        return trace, 0
    total = 0
    for step in range(8):
        toks = tokens_with_spans(trace)
        trace_words = [t for t, _, _ in toks]
        if step == 0:
            n = min(check.n, len(action_words))
        else:
            s = _scores(trace_words, action_words, check)
            if s is None or not s.fired:
                break
            if "ngram" in s.fired or "pieces" in s.fired:
                n = min(check.piece_n, len(action_words))
            else:
                start, end = _tight(trace_words, action_words, s.window, check,
                                    "gapped" if "gapped" in s.fired else "reordered")
                trace, total = _redact_spans(trace, [(toks[start][1], toks[end - 1][2])]), total + 1
                continue
        grams = _ngrams(action_words, n)
        covered = [False] * len(toks)
        for i in range(len(toks) - n + 1):
            if tuple(trace_words[i:i + n]) in grams:
                covered[i:i + n] = [True] * n
        spans = _merge(covered, toks)
        if spans:
            trace, total = _redact_spans(trace, spans), total + len(spans)
        elif step > 0:  # nothing contiguous left to remove, yet still flagged: remove the whole best window
            s = _scores(trace_words, action_words, check)
            if s is not None and s.fired and s.window:
                start, end = s.window
                trace, total = _redact_spans(trace, [(toks[start][1], toks[end - 1][2])]), total + 1
            else:
                break
    return trace, total
