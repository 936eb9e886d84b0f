"""Judge health: is the judge answering the question, or reacting to position and length?

Computed per run from the single-order choices, pooled over dimensions and per dimension:
- ``order_flip_rate``: share of examples (both orders parsed) whose choice follows the position, not the prediction;
- ``tie_rate``: share of valid final verdicts that are ties (a flip is a tie);
- ``first_position_win_rate``: share of parsed choices that pick A (0.5 = no position bias);
- ``length_correlation``: Pearson correlation of the choice (+1 A, -1 B) with len(A) - len(B), in characters.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..records.verdicts import DIMENSIONS


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 6) if den else None


def _health(items: list[tuple[dict, int, int]]) -> dict:
    """``items``: (verdict of one dimension, method chars, baseline chars) per example."""
    n_judgments = unparseable = first = parsed = flips = both = ties = valid = 0
    choice_sign, length_diff = [], []
    for v, m_chars, b_chars in items:
        for order, a_minus_b in (("method_first", m_chars - b_chars), ("baseline_first", b_chars - m_chars)):
            n_judgments += 1
            choice = v[order]
            if choice is None:
                unparseable += 1
                continue
            parsed += 1
            first += choice == "A"
            choice_sign.append(1.0 if choice == "A" else -1.0)
            length_diff.append(float(a_minus_b))
        if v["method_first"] is not None and v["baseline_first"] is not None:
            both += 1
            flips += v["method_first"] == v["baseline_first"]  # same letter twice = followed the position
        if v["final"] != "invalid":
            valid += 1
            ties += v["final"] == "tie"
    return {
        "n_judgments": n_judgments,
        "unparseable": unparseable,
        "order_flip_rate": _rate(flips, both),
        "tie_rate": _rate(ties, valid),
        "first_position_win_rate": _rate(first, parsed),
        "length_correlation": pearson(choice_sign, length_diff),
    }


def pearson(x: list[float], y: list[float]) -> float | None:
    """None when undefined (fewer than two points, or either side constant)."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return None
    return round(float(np.corrcoef(x, y)[0, 1]), 6)


def judge_health(examples: Iterable[dict]) -> dict:
    """Health over all dimensions, plus ``by_dimension``; examples as in the result file (``verdicts``,
    ``method_chars``, ``baseline_chars``)."""
    examples = list(examples)
    per_dim = {d: [(ex["verdicts"][d], ex["method_chars"], ex["baseline_chars"]) for ex in examples]
               for d in DIMENSIONS}
    pooled = [item for d in DIMENSIONS for item in per_dim[d]]
    return _health(pooled) | {"by_dimension": {d: _health(items) for d, items in per_dim.items()}}
