"""Backward Synthesis, the baseline: the synthesizer sees the context and the real action and explains why the user
said it (post-hoc rationalization). One greedy generation per training record."""

from __future__ import annotations

from tqdm.auto import tqdm

from ..models import stage
from ._run import Synthesis, batches
from ._store import TraceStore


def write_traces(records: list[dict], run: Synthesis, store: TraceStore, *, model: str | None = None,
                 desc: str = "backward") -> None:
    """Write a backward trace for every record without one, with the configured synthesizer or the checkpoint at
    ``model`` (RECON-GRPO's tuned synthesizer uses the same prompt)."""
    lm = run.lm("synthesizer", name=model)
    params = run.gen("trace")
    todo = store.pending(records)
    with tqdm(total=len(todo), desc=desc, unit="trace", disable=None) as bar, stage("synthesize/trace"):
        for batch in batches(todo, run.config.get("batch_size", 8)):
            outs = lm.generate([run.backward_prompt(r) for r in batch], params)
            docs = []
            for record, (text, *_) in zip(batch, outs):
                trace, redacted = run.clean_trace(text, record)
                docs.append({"id": record["id"], "trace": trace,
                             "meta": {"model": lm.fingerprint, "redacted_spans": redacted}})
            store.add(docs)
            bar.update(len(batch))


def synthesize(records: list[dict], run: Synthesis, store: TraceStore) -> None:
    """Backward Synthesis over the training split."""
    write_traces(records, run, store)
