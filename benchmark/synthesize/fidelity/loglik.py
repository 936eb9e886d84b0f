"""Fidelity without generating a reconstruction: the reconstruction model's log-likelihood of the real action
given (context, trace), in nats. All candidates of a batch go to the model as one ``loglikelihood`` request list."""

from __future__ import annotations


def score(run, records: list[dict], traces: list[list[str]], reconstructions=None) -> list[list[float]]:
    """Sum of log p(real action | reconstruction prompt with the trace) per candidate trace."""
    requests = [(run.reconstruction_prompt(record, trace), record["action"])
                for record, candidates in zip(records, traces) for trace in candidates]
    flat = run.lm("reconstruction").loglikelihood(requests)
    out, at = [], 0
    for candidates in traces:
        out.append(flat[at:at + len(candidates)])
        at += len(candidates)
    return out
