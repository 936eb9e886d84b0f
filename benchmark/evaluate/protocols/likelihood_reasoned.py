"""``likelihood-reasoned``: judge-free, after the action model's own reasoning (closer to the paper's pipeline).

``likelihood`` asks the action model for the real turn straight after the demonstrations, although every
demonstration it was shown puts a "Reasoning:" before its "Response:". This variant first lets the action model
predict as the judge protocols do (``benchmark/prompts/action_prediction.v1.txt``, greedy, the same saved and cached
predictions), then reads the log-probability of the REAL action as the continuation of the model's own text up to
its "Response:" label: ``log p(prompt + own reasoning + "Response:" + " " + real action) - log p(prompt + own
reasoning + "Response:")``, two prefill passes per side. The side's traces thus act twice: as demonstrations, and
through the reasoning they led the model to write. A prediction without a "Response:" label (a parse failure) is
continued as its whole text followed by a new line and "Response:". The subtraction is exact when the tokenizer
splits at the label's colon (byte-level BPE pre-tokenization does: punctuation and the following space-word are
separate pieces; tests/evaluate/test_protocols.py checks it on the real tokenizer).

Verdicts, margin (nats per byte of the real action), health and re-scoring are ``likelihood``'s (the same raw
numbers); whether each side's prediction parsed is in the example rows, as for the judge protocols.
"""

from __future__ import annotations

from ...models import stage
from ...prompts import prompt_hash, prompt_id
from ..predict import PROMPT as PREDICT_PROMPT
from ..predict import reasoning_prefix
from . import likelihood
from ._base import Job, Protocol, register


def measure(job: Job) -> list[dict]:
    """Four log-likelihood requests per test record (each side: own reasoning + real action, own reasoning
    alone), one batch; the LM cache makes a rerun free."""
    requests = []
    for prompts, predictions in ((job.method_prompts, job.method_predictions),
                                 (job.baseline_prompts, job.baseline_predictions)):
        for messages, prediction, record in zip(prompts, predictions, job.test):
            prefix = reasoning_prefix(prediction["completion"])
            requests += [(messages, prefix + " " + record["action"]), (messages, prefix)]
    with stage("likelihood"):
        logps = job.action_model.loglikelihood(requests, desc="likelihood")
    n = len(job.test)
    side = [logps[2 * i] - logps[2 * i + 1] for i in range(2 * n)]  # log p(real action | prompt, own reasoning)
    return [{"method_logprob": round(side[i], 6), "baseline_logprob": round(side[n + i], 6),
             "action_bytes": max(1, len(r["action"].encode("utf-8")))} for i, r in enumerate(job.test)]


def prompts() -> dict[str, str]:
    return {prompt_id(PREDICT_PROMPT): prompt_hash(PREDICT_PROMPT)}


register(Protocol(
    name="likelihood-reasoned", uses_judge=False, predicts=True, template=PREDICT_PROMPT,
    dimensions=("overall",), params={"tie_band": 0.0}, measure=measure, decide=likelihood.decide,
    health=likelihood.health, prompts=prompts, summary_extra=likelihood.summary_extra, modes=(),
    controls=likelihood.CONTROLS,
    description="judge-free, after the action model's own greedy reasoning: the log-probability of the real "
                "action as the continuation of the model's prediction up to its 'Response:'; the higher one wins"))
