"""``likelihood``: judge-free. How probable does each side's prompt make the REAL action?

For every test record, the frozen action model gets the same retrieval-augmented prompt it predicts from
(``benchmark/prompts/action_likelihood.v1.txt``: the k nearest training examples of the user with the side's traces
as "Reasoning:", then the test conversation; it asks for the next turn only), and we read the log-probability of
the real action as the continuation (prefill only, no generation). The side whose prompt gives the real action the
higher log-probability wins the example; an exact tie (identical prompts) is a tie. The margin is reported in nats
per UTF-8 byte of the action (the same action on both sides, so the sign is that of the summed log-probabilities;
bytes rather than tokens keep the unit comparable across action models with different tokenizers), with a paired
users-then-examples bootstrap CI of its mean.
"""

from __future__ import annotations

from ...models import stage
from ...prompts import prompt_hash, prompt_id
from ...records.stats import mean_difference
from ._base import Job, Protocol, empty_health, register, side_by_margin

PROMPT = "action_likelihood"
CONTROLS = ("wrong_user", "self", "shuffled_traces", "no_reasoning")  # the oracle does not apply: no prediction


def measure(job: Job) -> list[dict]:
    """Two log-likelihood requests per test record (method's prompt, baseline's prompt), one batch; the LM cache
    makes a rerun free."""
    requests = [(m, r["action"]) for m, r in zip(job.method_prompts, job.test)] + \
               [(b, r["action"]) for b, r in zip(job.baseline_prompts, job.test)]
    with stage("likelihood"):
        logps = job.action_model.loglikelihood(requests, desc="likelihood")
    n = len(job.test)
    return [{"method_logprob": round(logps[i], 6), "baseline_logprob": round(logps[n + i], 6),
             "action_bytes": max(1, len(r["action"].encode("utf-8")))} for i, r in enumerate(job.test)]


def margin(raw: dict) -> float:
    """Method minus baseline log-probability of the real action, nats per byte."""
    return (raw["method_logprob"] - raw["baseline_logprob"]) / raw["action_bytes"]


def decide(raw: dict, params: dict) -> dict[str, dict]:
    return {"overall": {"final": side_by_margin(margin(raw), params["tie_band"])}}


def prompts() -> dict[str, str]:
    return {prompt_id(PROMPT): prompt_hash(PROMPT)}


def summary_extra(examples: list[dict], seed: int, n_boot: int) -> dict:
    """The mean margin (nats per byte) with a paired users-then-examples bootstrap CI."""
    by_user: dict[str, list[float]] = {}
    for ex in examples:
        by_user.setdefault(ex["user"], []).append(margin(ex["raw"]))
    return {"likelihood": {"unit": "nats per byte of the real action",
                           "mean_margin": mean_difference(by_user, seed=seed, n_boot=n_boot)}}


def health(examples: list[dict]) -> dict:
    finals = [ex["verdicts"]["overall"]["final"] for ex in examples]
    valid = [f for f in finals if f != "invalid"]
    tie_rate = round(sum(f == "tie" for f in valid) / len(valid), 6) if valid else None
    h = empty_health(2 * len(examples), tie_rate, None)
    return h | {"by_dimension": {"overall": dict(h)}}


register(Protocol(
    name="likelihood", uses_judge=False, dimensions=("overall",), params={"tie_band": 0.0}, measure=measure,
    decide=decide, health=health, prompts=prompts, summary_extra=summary_extra, modes=(), controls=CONTROLS,
    predicts=False, template=PROMPT,
    description="judge-free: the action model's log-probability of the real action given each side's "
                "retrieval-augmented prompt; the higher one wins the example"))
