"""The leak check sees through cosmetic disguises (invisible characters, look-alike letters, joined words) and finds
gapped, reordered and cut-up copies, while leaving paraphrase and short shared phrases alone; a real submission that
uses the disguises fails as a leak."""

from __future__ import annotations

import json

import pytest

from benchmark.leak import leak_scores, normalize, redact_action
from benchmark.runners import load_submission, run_split

ACTION = ("I think the statute plainly says the agency must give notice before it acts, and it did not do that here "
          "at all, which is why the petitioners lost their hearing and now ask this Court for relief.")


def _words(text):
    return text.split()


def zero_width(text):  # a zero-width space and a soft hyphen inside every word
    return " ".join(w[:1] + "\u200b" + w[1:2] + "\u00ad" + w[2:] for w in _words(text))


def lookalikes(text):  # Cyrillic a, e, o, p, c and Greek omicron for their Latin twins
    return text.translate(str.maketrans({"a": "а", "e": "е", "o": "ο", "p": "р", "c": "с"}))


def joined(text):
    return "_".join(_words(text))


def every_fifth_dropped(text):
    return " ".join(w for i, w in enumerate(_words(text)) if i % 5 != 4)


def reversed_order(text):
    return " ".join(reversed(_words(text)))


def seven_word_pieces(text):
    ws = _words(text)
    pieces = [" ".join(ws[i:i + 7]) for i in range(0, len(ws), 7)]
    return " ... and also ... ".join(reversed(pieces))


def fullwidth_upper(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text.upper())


EVASIONS = [zero_width, lookalikes, joined, every_fifth_dropped, reversed_order, seven_word_pieces, fullwidth_upper]


@pytest.mark.parametrize("evade", EVASIONS, ids=lambda f: f.__name__)
def test_each_evasion_is_flagged(evade):
    trace = f"The justice reasons about fairness. {evade(ACTION)} That is the point she presses."
    scores = leak_scores(trace, ACTION)
    assert scores is not None and scores.fired, (evade.__name__, scores)


@pytest.mark.parametrize("evade", EVASIONS, ids=lambda f: f.__name__)
def test_redaction_removes_what_the_check_would_flag(evade):
    trace = f"The justice reasons about fairness. {evade(ACTION)} That is the point she presses."
    cleaned, spans = redact_action(trace, ACTION)
    assert spans >= 1 and not leak_scores(cleaned, ACTION).fired, cleaned
    assert "fairness" in cleaned


def test_normalisation():
    assert normalize("Ag\u00adеn\u200bсу_MUST") == "agency_must"
    assert normalize("ｎｏｔｉｃｅ") == "notice" and normalize("café") == "cafe"


@pytest.mark.parametrize("trace", [
    "She believes the agency had to warn people first and thinks it failed to do so, so the hearing was unfair.",
    "The justice wants to know whether notice was required; she doubts the agency complied and sees harm.",
    "statute plainly says the agency must give, she notes",  # seven shared words, under half of the action
])
def test_paraphrase_and_short_quotes_are_not_flagged(trace):
    assert not leak_scores(trace, ACTION).fired


def test_short_actions_are_only_checked_whole():
    assert leak_scores("so he said yes okay fine then", "Yes okay fine then sure.").fired == ()
    assert leak_scores("Yes.", "Yes.") is None


def test_a_real_submission_hiding_copies_fails_as_a_leak(train_records, tmp_path):
    folder = tmp_path / "sneaky"
    folder.mkdir()
    (folder / "sub.py").write_text(r'''
import json, os
inp, out = os.environ["RECONBENCH_INPUT"], os.environ["RECONBENCH_OUTPUT"]
records = [json.loads(l) for l in open(os.path.join(inp, "train.jsonl"), encoding="utf-8")]
def hide(text):  # a zero-width space inside each word, words joined by "_", every fifth word dropped
    words = [w[:1] + "\u200b" + w[1:] for i, w in enumerate(text.split()) if i % 5 != 4]
    return "_".join(words)
with open(os.path.join(out, "traces.jsonl"), "w", encoding="utf-8") as f:
    for r in records:
        f.write(json.dumps({"id": r["id"], "trace": "Reasoning: " + hide(r["action"])}) + "\n")
''', encoding="utf-8")
    manifest = {"schema_version": 1, "name": "sneaky", "version": "1", "authors": ["tests"], "models": [],
                "method": "copies the action in disguise", "image": {"name": "none"},
                "command": ["python3", "sub.py"],
                "resources": {"gpu": False, "memory_mb": 256, "cpus": 1, "timeout_s": 60}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    outcome, _ = run_split(load_submission(folder), "scotus", train_records[0]["user"], train_records,
                           runner="local", root=tmp_path / "runs")
    assert outcome["failure"]["kind"] == "leak", outcome["failure"]
    flagged = outcome["validation"]["leak_check"]["flagged"]
    assert flagged and all(f["how"] for f in flagged)
