"""RECON-Select (training-free): sample N backward traces, let the frozen reconstruction model predict the action
from (context, trace) without the real action, score each reconstruction against the real action with a fidelity
scorer, keep the best trace. Cost with the judge scorer: N trace samples + N reconstructions + 1 judge request =
2N+1 LM calls per record; with ``loglik``: N samples + N scoring passes and no reconstruction (docs/methods.md)."""

from __future__ import annotations

from tqdm.auto import tqdm

from ..models import stage
from ._run import Synthesis, batches
from ._store import TraceStore
from .fidelity import FIDELITY


def reconstruct(run: Synthesis, records: list[dict], traces: list[list[str]]) -> list[list[str]]:
    """The reconstruction model's predicted action for each candidate trace (greedy; it never sees the action)."""
    prompts = [run.reconstruction_prompt(r, t) for r, cands in zip(records, traces) for t in cands]
    outputs = run.lm("reconstruction").generate(prompts, run.gen("reconstruction"))
    flat = [run.strip_speaker(outs[0]) for outs in outputs]
    out, at = [], 0
    for cands in traces:
        out.append(flat[at:at + len(cands)])
        at += len(cands)
    return out


def fidelity(run: Synthesis, scorer: str, records: list[dict], traces: list[list[str]], *,
             stage_prefix: str = "synthesize") -> tuple[list[list[float]], list[list[str]] | None]:
    """Fidelity scores of each record's candidate traces, and the reconstructions when the scorer needs them.
    Usage goes to stages ``<prefix>/reconstruction`` and ``<prefix>/fidelity``."""
    fid = FIDELITY[scorer]
    recons = None
    if fid.reconstructs:
        with stage(f"{stage_prefix}/reconstruction"):
            recons = reconstruct(run, records, traces)
    with stage(f"{stage_prefix}/fidelity"):
        return fid.score(run, records, traces, recons), recons


def synthesize(records: list[dict], run: Synthesis, store: TraceStore) -> None:
    """RECON-Select over the training split; meta records every candidate, its reconstruction and its score."""
    cfg = run.config["recon_select"]
    n, scorer = cfg["n"], cfg["fidelity"]
    lm = run.lm("synthesizer")
    params = run.gen("trace", n=n, temperature=cfg.get("temperature", 0.9), top_p=cfg.get("top_p", 1.0),
                     **({"seed": cfg["seed"]} if "seed" in cfg else {}))
    todo = store.pending(records)
    with tqdm(total=len(todo), desc=f"recon_select ({scorer})", unit="trace", disable=None) as bar:
        for batch in batches(todo, run.config.get("batch_size", 8)):
            with stage("synthesize/trace"):
                samples = lm.generate([run.backward_prompt(r) for r in batch], params)
            cleaned = [[run.clean_trace(t, r) for t in cands] for r, cands in zip(batch, samples)]
            traces = [[t for t, _ in cands] for cands in cleaned]
            scores, recons = fidelity(run, scorer, batch, traces)
            docs = []
            for i, record in enumerate(batch):
                best = max(range(n), key=lambda j: scores[i][j])  # ties: the first sample wins
                candidates = [{"trace": traces[i][j], "score": scores[i][j], "redacted_spans": cleaned[i][j][1],
                               **({"reconstruction": recons[i][j]} if recons else {})} for j in range(n)]
                docs.append({"id": record["id"], "trace": traces[i][best],
                             "meta": {"model": lm.fingerprint, "fidelity": scorer, "selected": best,
                                      "candidates": candidates}})
            store.add(docs)
            bar.update(len(batch))
