"""The guard that keeps the real action out of traces: the harness fails runs whose traces copy their actions, and a
GRPO reward must not pay for quoting the answer."""

from benchmark.runners import copied_share
from benchmark.synthesize._leak import REDACTED, redact_action

ACTION = "I think the statute plainly says the agency must give notice before it acts, and it did not here."


def test_copied_span_is_removed_and_passes_the_harness_check():
    trace = f"She wants to press the point. {ACTION} That is her concern about fairness."
    assert copied_share(trace, ACTION) == 1.0
    cleaned, spans = redact_action(trace, ACTION)
    assert spans == 1
    assert REDACTED in cleaned and "She wants to press the point." in cleaned and "fairness" in cleaned
    assert copied_share(cleaned, ACTION) == 0.0


def test_paraphrase_and_short_overlaps_are_kept():
    trace = "She believes the agency had to warn people first and thinks it failed to do so."
    assert redact_action(trace, ACTION) == (trace, 0)
    # seven shared words are fewer than the harness's 8-gram: not a copy
    trace = "statute plainly says the agency must give, she notes"
    assert redact_action(trace, ACTION) == (trace, 0)


def test_short_action_copied_whole_is_removed_but_tiny_actions_are_not_checked():
    assert redact_action("She answered: yes we can do it now.", "Yes, we can do it now.")[1] == 1
    assert redact_action("Yes.", "Yes.") == ("Yes.", 0)
