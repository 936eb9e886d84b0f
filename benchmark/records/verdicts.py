"""The vocabulary of pairwise verdicts, shared by the judge, the statistics and the health checks.

The judge sees two predictions labelled A and B, twice: once with the method's prediction as A
(``method_first``) and once with the baseline's as A (``baseline_first``). A single-order choice is ``"A"``,
``"B"`` or ``None`` (reply could not be parsed). The final verdict of an example is ``"method"`` or ``"baseline"``
when both orders agree on the same prediction, ``"tie"`` when the choice flips with the order (the judge preferred
a position, not a prediction), and ``"invalid"`` when either reply could not be parsed.
"""

from __future__ import annotations

DIMENSIONS = ("overall", "style", "intent", "values")  # "overall" is the headline, as in the paper
ORDERS = ("method_first", "baseline_first")
FINALS = ("method", "baseline", "tie", "invalid")


def winner(order: str, choice: str | None) -> str | None:
    """Which side a single-order choice picked: ``"method"``, ``"baseline"`` or None (unparseable)."""
    if choice is None:
        return None
    method_is_a = order == "method_first"
    return "method" if (choice == "A") == method_is_a else "baseline"


def final_verdict(method_first: str | None, baseline_first: str | None) -> str:
    """Combine the two orders: agreement wins, an order flip is a tie, an unparseable reply is invalid."""
    w1, w2 = winner("method_first", method_first), winner("baseline_first", baseline_first)
    if w1 is None or w2 is None:
        return "invalid"
    return w1 if w1 == w2 else "tie"
