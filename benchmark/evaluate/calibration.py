"""Judge calibration: does the judge agree with people on the same pairs?

A human labels file (``human_labels.schema.json``, JSON Lines) holds pairs with a person's verdict: context, real
action, predictions ``a`` and ``b``, and ``label`` ("A", "B" or "tie") on one dimension (default "overall"). The
judge sees each pair in both orders, exactly as in an evaluation (an order flip is a tie), and we report raw
agreement and Cohen's kappa against the human labels (the paper: 77% and 0.623 on 100 pairs). Pairs whose judge
reply could not be parsed are counted as ``invalid`` and left out of both numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..io import iter_jsonl
from ..schema import validate
from . import judge as judge_mod

LABELS = ("A", "B", "tie")


def agreement(human: Sequence[str], judge: Sequence[str]) -> float | None:
    """Share of items where the two labels are equal; None for no items."""
    if len(human) != len(judge):
        raise ValueError("label lists differ in length")
    return sum(h == j for h, j in zip(human, judge)) / len(human) if human else None


def cohen_kappa(human: Sequence[str], judge: Sequence[str]) -> float | None:
    """Cohen's kappa: (observed - chance agreement) / (1 - chance), chance from each rater's label frequencies.
    None when undefined (no items, or both raters always give the same single label)."""
    p_obs = agreement(human, judge)
    if p_obs is None:
        return None
    n = len(human)
    ch, cj = Counter(human), Counter(judge)
    p_chance = sum(ch[c] * cj[c] for c in set(ch) | set(cj)) / (n * n)
    if p_chance == 1:
        return None
    return (p_obs - p_chance) / (1 - p_chance)


def load_labels(path: Path | str) -> list[dict]:
    path = Path(path)
    rows = []
    for i, row in enumerate(iter_jsonl(path), 1):
        validate("human_labels", row, file=path, record=row.get("id", f"line {i}") if isinstance(row, dict) else
                 f"line {i}")
        rows.append(row)
    return rows


def calibrate(labels_path: Path | str, judge, *, mode: str = "options", seed: int = 0) -> dict:
    """Judge every labelled pair in both orders and compare with the human labels.

    Returns ``{"n", "invalid", "agreement", "kappa", "confusion": {human label: {judge label: count}},
    "items": [{"id", "human", "judge"}]}``."""
    rows = load_labels(labels_path)
    prompts = []
    for row in rows:
        dim, name = row.get("dimension", "overall"), row.get("user_name", "the person")
        for a, b in ((row["a"], row["b"]), (row["b"], row["a"])):
            prompts.append(judge_mod.judge_messages(row["context"], row["action"], name, a, b, dim))
    answers = judge_mod.choose(judge, prompts, mode=mode, seed=seed, desc="calibrate")
    items = []
    for i, row in enumerate(rows):
        first, second = answers[2 * i]["choice"], answers[2 * i + 1]["choice"]
        if first is None or second is None:
            verdict = None
        else:
            # in the second order the letters are swapped: "B" there means the original "A"
            second_as_first = {"A": "B", "B": "A"}[second]
            verdict = first if first == second_as_first else "tie"
        items.append({"id": row["id"], "human": row["label"], "judge": verdict})
    valid = [it for it in items if it["judge"] is not None]
    human, judged = [it["human"] for it in valid], [it["judge"] for it in valid]
    confusion = {h: {j: sum(1 for x in valid if x["human"] == h and x["judge"] == j) for j in LABELS}
                 for h in LABELS}
    return {"n": len(valid), "invalid": len(items) - len(valid), "agreement": agreement(human, judged),
            "kappa": cohen_kappa(human, judged), "confusion": confusion, "items": items}
