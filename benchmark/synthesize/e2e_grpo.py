"""E2E-GRPO, the paper's RL alternative: GRPO-train a model that writes reasoning and then an action from the
context alone (the real action never enters its prompt); the reward is the fidelity of its action to the real one,
with the same scorer as RECON. Its reasoning on each training context becomes the trace."""

from __future__ import annotations

import re

from tqdm.auto import tqdm

from ..errors import DataError
from ..models import stage
from ._grpo import REWARD_STAGE, train
from ._run import Synthesis, batches
from ._store import TraceStore
from .fidelity import FIDELITY

_REPLY = re.compile(r"reply\s*:", re.I)
_REASONING = re.compile(r"^\s*reasoning\s*:\s*", re.I)


def prompt(run: Synthesis, record: dict) -> list[dict]:
    """The E2E prompt: the context and the user's name only."""
    return run.prompt("e2e", record)


def split(text: str) -> tuple[str, str]:
    """(reasoning, action) of an E2E completion: the text before and after the last ``Reply:``. Without the marker
    the whole text serves as both, so a malformed completion is still scored (and usually scores low)."""
    marks = list(_REPLY.finditer(text))
    if not marks:
        return _REASONING.sub("", text).strip(), text.strip()
    cut = marks[-1]
    return _REASONING.sub("", text[:cut.start()]).strip(), text[cut.end():].strip()


def synthesize(records: list[dict], run: Synthesis, store: TraceStore) -> None:
    """Train the end-to-end model (or find its checkpoint), then write its reasoning on every training context."""
    scorer = run.config["grpo"]["fidelity"]
    fid = FIDELITY[scorer]
    if not fid.reconstructs:
        raise DataError(f"e2e_grpo rewards the action the model writes; fidelity {scorer!r} scores a trace without "
                        f"an action (use one of: {', '.join(k for k, v in FIDELITY.items() if v.reconstructs)})",
                        field="grpo/fidelity")

    def score_groups(group_records: list[dict], completions: list[list[str]]) -> list[list[float]]:
        parts = [[split(c) for c in comps] for comps in completions]
        with stage(f"{REWARD_STAGE}/fidelity"):
            return fid.score(run, group_records, [[r for r, _ in p] for p in parts], [[a for _, a in p] for p in parts])

    todo = store.pending(records)
    if not todo:
        return
    tuned = train(run, records, method="e2e_grpo", prompt=lambda r: prompt(run, r), score_groups=score_groups)
    lm = run.lm("synthesizer", name=str(tuned))
    params = run.gen("e2e")
    with tqdm(total=len(todo), desc="e2e_grpo", unit="trace", disable=None) as bar, stage("synthesize/trace"):
        for batch in batches(todo, run.config.get("batch_size", 8)):
            outs = lm.generate([prompt(run, r) for r in batch], params)
            docs = []
            for record, (text, *_) in zip(batch, outs):
                reasoning, action = split(text)
                trace, redacted = run.clean_trace(reasoning, record)  # the contract's leak rule applies to all
                docs.append({"id": record["id"], "trace": trace,
                             "meta": {"model": lm.fingerprint, "predicted_action": action, "redacted_spans": redacted}})
            store.add(docs)
            bar.update(len(batch))
