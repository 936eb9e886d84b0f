"""RECON-GRPO: fine-tune the synthesizer with GRPO on the Backward Synthesis prompt; the reward of a sampled trace is
the reconstruction fidelity of the frozen reconstruction model's prediction from (context, trace). Then every
training trace is written by the tuned synthesizer with the same prompt."""

from __future__ import annotations

from ._grpo import REWARD_STAGE, train
from ._run import Synthesis
from ._store import TraceStore
from .backward import write_traces
from .recon_select import fidelity


def synthesize(records: list[dict], run: Synthesis, store: TraceStore) -> None:
    """Train (or find the finished checkpoint in the work folder), then write the traces with the tuned model."""
    scorer = run.config["grpo"]["fidelity"]

    def score_groups(group_records: list[dict], completions: list[list[str]]) -> list[list[float]]:
        # the copied-action spans go before reconstruction: quoting the answer must not earn reward
        traces = [[run.clean_trace(c, r)[0] for c in comps] for r, comps in zip(group_records, completions)]
        return fidelity(run, scorer, group_records, traces, stage_prefix=REWARD_STAGE)[0]

    if store.pending(records):
        tuned = train(run, records, method="recon_grpo", prompt=run.backward_prompt, score_groups=score_groups)
        write_traces(records, run, store, model=str(tuned), desc="recon_grpo")
