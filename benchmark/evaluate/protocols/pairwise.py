"""``pairwise`` (the paper's rule) and ``pairwise-calibrated`` (balanced position calibration): the same judge
calls, two decision rules.

Both show the judge the real action and the two predictions, on every dimension, in both orders
(``benchmark.evaluate.judge``). ``pairwise`` keeps the paper's rule: the two single-order choices must agree, a flip
is a tie. ``pairwise-calibrated`` follows Wang et al. 2023 ("Large Language Models are not Fair Evaluators"):
average the judge's probability for the method's prediction over the two orders,
``p = (P(A | method first) + P(B | baseline first)) / 2``, and call the method ahead when ``p - 1/2`` exceeds the
tie band. A judge that always prefers "A" by the same margin then cancels out instead of turning every verdict
into a tie. The raw per-order probabilities stay in the result, so either rule (or another band) can be applied
to the same judgments afterwards.
"""

from __future__ import annotations

from ...records.verdicts import DIMENSIONS, ORDERS, final_verdict
from .. import judge as judge_mod
from ..health import judge_health, pearson
from ..predict import prompts_used as predict_prompts
from ._base import Job, Protocol, length_controlled, register, side_by_margin

CONTROLS = ("oracle", "wrong_user", "self", "shuffled_traces", "no_reasoning", "length", "judge_injection")


def measure(job: Job) -> list[dict]:
    """Judge every test record on every dimension in both orders; ``raw`` keeps the choices and the per-order
    probabilities (options mode) or replies (text mode)."""
    key = judge_mod.verdicts_key(job.method_predictions, job.baseline_predictions, job.judge, job.judge_mode,
                                 job.seed)
    rows = judge_mod.judge_pairs(job.test, job.method_predictions, job.baseline_predictions, job.judge,
                                 user_name=job.user_name, mode=job.judge_mode, seed=job.seed,
                                 path=None if job.save_dir is None else job.save_dir / "pairwise" / f"{key}.jsonl")
    return [{"choices": {d: {o: row["verdicts"][d][o] for o in ORDERS} for d in DIMENSIONS},
             "detail": row["detail"]} for row in rows]


def decide_pairwise(raw: dict, params: dict) -> dict[str, dict]:
    out = {}
    for d, c in raw["choices"].items():
        out[d] = {"method_first": c["method_first"], "baseline_first": c["baseline_first"],
                  "final": final_verdict(c["method_first"], c["baseline_first"])}
    return out


def method_preference(detail: dict) -> float | None:
    """``(P(A | method first) + P(B | baseline first)) / 2`` from one dimension's per-order detail; None without
    option probabilities (text mode)."""
    try:
        return (detail["method_first"]["probs"]["A"] + detail["baseline_first"]["probs"]["B"]) / 2
    except (KeyError, TypeError):
        return None


def decide_calibrated(raw: dict, params: dict) -> dict[str, dict]:
    out = {}
    for d, c in raw["choices"].items():
        p = method_preference(raw["detail"][d])
        out[d] = {"method_first": c["method_first"], "baseline_first": c["baseline_first"],
                  "final": side_by_margin(None if p is None else p - 0.5, params["tie_band"])}
    return out


def prompts() -> dict[str, str]:
    return predict_prompts() | judge_mod.prompts_used()


def health_calibrated(examples: list[dict]) -> dict:
    """The pairwise health figures, but the length correlation is that of the calibrated preference
    (p - 1/2, what this rule decides from) with the length difference: a judge that always names "A" has constant
    choices, so the choice-based correlation would be undefined even when its probabilities follow length."""
    out = judge_health(examples)

    def corr(dims) -> float | None:
        prefs, lengths = [], []
        for ex in examples:
            for d in dims:
                p = method_preference(ex["raw"]["detail"][d])
                if p is not None:
                    prefs.append(p - 0.5)
                    lengths.append(float(ex["method_chars"] - ex["baseline_chars"]))
        return pearson(prefs, lengths)

    out["length_correlation"] = corr(DIMENSIONS)
    for d in DIMENSIONS:
        out["by_dimension"][d]["length_correlation"] = corr((d,))
    return out


register(Protocol(
    name="pairwise", uses_judge=True, dimensions=DIMENSIONS, params={}, measure=measure, decide=decide_pairwise,
    health=judge_health, prompts=prompts, summary_extra=length_controlled, modes=("options", "text"),
    controls=CONTROLS,
    description="the paper's rule: the judge compares both predictions with the real action in both orders; a "
                "verdict that flips with the order is a tie"))

register(Protocol(
    name="pairwise-calibrated", uses_judge=True, dimensions=DIMENSIONS, params={"tie_band": 0.01},
    measure=measure, decide=decide_calibrated, health=health_calibrated, prompts=prompts,
    summary_extra=length_controlled, modes=("options",), controls=CONTROLS,
    description="balanced position calibration (Wang et al. 2023): the judge's probability for the method's "
                "prediction averaged over both orders; within the tie band of 1/2 is a tie"))
