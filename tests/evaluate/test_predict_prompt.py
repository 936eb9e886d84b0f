"""Parsing of the action model's completion and the prompt it sees (with and without traces)."""

from __future__ import annotations

import pytest

from benchmark.evaluate import parse_prediction
from benchmark.evaluate._format import format_context
from benchmark.evaluate.predict import prediction_messages


@pytest.mark.parametrize(("completion", "action", "ok"), [
    ("Reasoning: he attacks.\nResponse: The right hon. Gentleman has no plan.", "The right hon. Gentleman has no plan.",
     True),
    ("Reasoning: a\nResponse: first\nReasoning: b\nResponse: second", "second", True),  # the last Response wins
    ("**Response:** We will.", "We will.", True),
    ('David Cameron responds by saying:\n\n"Spending is up."\n\nMore.', "Spending is up.", False),
    ("David Cameron: We have cut the deficit.\n\nDavid Cameron: again", "We have cut the deficit.", False),
    ("Reasoning: only reasoning here", "only reasoning here", False),
    ("Response:", "", False),
    ("", "", False),
])
def test_prediction_parsing_recovers_the_action_and_flags_failures(completion, action, ok):
    parsed = parse_prediction(completion, "David Cameron")
    assert (parsed["action"], parsed["parse_ok"]) == (action, ok)


def _rec(i, action):
    return {"id": f"p/u/{i}", "context": [{"speaker": "Q", "text": f"question {i}"}], "action": action}


def test_no_reasoning_prompt_is_the_same_prompt_minus_traces():
    demos = [(_rec(1, "answer one"), "TRACE ONE"), (_rec(2, "answer two"), "TRACE TWO")]
    with_traces = prediction_messages(_rec(9, "?"), demos, "Jen Psaki")
    without = prediction_messages(_rec(9, "?"), [(r, None) for r, _ in demos], "Jen Psaki")
    text_with, text_without = "\n".join(m["content"] for m in with_traces), "\n".join(m["content"] for m in without)
    assert "Reasoning: TRACE ONE" in text_with and "TRACE" not in text_without
    assert text_with.replace("Reasoning: TRACE ONE\n", "").replace("Reasoning: TRACE TWO\n", "") == text_without
    # most similar demonstration (first given) is shown last, right before the test conversation
    assert text_with.index("answer two") < text_with.index("answer one") < text_with.index("question 9")


def test_context_budget_drops_the_oldest_turns_first():
    context = [{"speaker": "A", "text": "old " * 20}, {"speaker": "B", "text": "newest turn"}]
    assert format_context(context, 30) == "B: newest turn"
    assert format_context(context).startswith("A: old")
    assert format_context([{"speaker": "B", "text": "x" * 100}], 20).startswith("...")
