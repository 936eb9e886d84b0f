"""Keep the real action out of the traces. The harness fails a run whose traces copy their actions (word n-gram
overlap, ``benchmark.runners.LeakCheck``); a synthesizer that sees the action (backward, RECON) removes every run of
``n`` words it shares with the action before a trace is written or handed to the reconstruction model, so that
neither the output nor a GRPO reward can profit from quoting the answer."""

from __future__ import annotations

import re

from ..runners.validate import LeakCheck

_WORD = re.compile(r"\w+")
REDACTED = "[...]"


def redact_action(trace: str, action: str, check: LeakCheck = LeakCheck()) -> tuple[str, int]:
    """``trace`` with every span of at least ``check.n`` consecutive words (the whole action if it is shorter)
    that also occurs in ``action`` replaced by ``[...]``; returns the text and the number of spans replaced."""
    action_words = _WORD.findall(action.lower())
    if len(action_words) < check.min_words:
        return trace, 0
    n = min(check.n, len(action_words))
    grams = {tuple(action_words[i:i + n]) for i in range(len(action_words) - n + 1)}
    matches = list(_WORD.finditer(trace))
    words = [m.group().lower() for m in matches]
    covered = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in grams:
            covered[i:i + n] = [True] * n
    out, last, spans, i = [], 0, 0, 0
    while i < len(words):
        if not covered[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and covered[j + 1]:
            j += 1
        out += [trace[last:matches[i].start()], REDACTED]
        last, spans, i = matches[j].end(), spans + 1, j + 1
    out.append(trace[last:])
    return "".join(out), spans
