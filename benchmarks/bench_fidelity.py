"""Compare the fidelity scorers of RECON-Select on one real user slice.

The N candidate traces and (for the scorers that need them) the reconstructions are generated once and shared, so
every scorer ranks the same candidates. For each scorer: LM calls and seconds per record (candidate sampling +
reconstruction when needed + scoring, from benchmark.models' usage accounting with the cache off), and how often it
selects the same candidate as the paper's judge.

    python benchmarks/bench_fidelity.py --pack scotus --user sotomayor --limit 8 --out benchmarks/results/fidelity.md
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import click
import torch
from tabulate import tabulate

from benchmark.io import atomic_write_text
from benchmark.models import stage
from benchmark.packs import load_split
from benchmark.synthesize import Synthesis, load_config
from benchmark.synthesize.fidelity import FIDELITY
from benchmark.synthesize.recon_select import reconstruct


def _timed(run: Synthesis, name: str, fn):
    """``fn()`` under usage stage ``name``; returns its value, the calls it made and its wall seconds."""
    before = run.usage().stages.get(name)
    start = time.perf_counter()
    with stage(name):
        value = fn()
    seconds = time.perf_counter() - start
    calls = run.usage().stages[name].calls - (before.calls if before else 0) if name in run.usage().stages else 0
    return value, calls, seconds


def _spearman(a: list[float], b: list[float]) -> float:
    ra, rb = (torch.tensor(x).argsort().argsort().float() for x in (a, b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = (ra.norm() * rb.norm()).item()
    return float((ra @ rb).item() / denom) if denom else 0.0


@click.command()
@click.option("--pack", default="scotus", show_default=True)
@click.option("--user", default="sotomayor", show_default=True)
@click.option("--limit", default=8, show_default=True, help="training records of the slice")
@click.option("--n", "n", default=4, show_default=True, help="candidates per record")
@click.option("--config", default="cpu", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="benchmarks/results/fidelity.md", show_default=True)
def main(pack, user, limit, n, config, out):
    """Calls, seconds and agreement with the judge of the judge, loglik and embedding fidelity scorers."""
    cfg = load_config(config)
    records = load_split(pack, user, "train")[:limit]
    run = Synthesis(config=cfg, task={"pack": pack, "user": user}, workdir=Path("."), lm_cache=False)
    params = run.gen("trace", n=n, temperature=cfg["recon_select"]["temperature"], top_p=cfg["recon_select"]["top_p"])
    samples, trace_calls, trace_s = _timed(
        run, "trace", lambda: run.lm("synthesizer").generate([run.backward_prompt(r) for r in records], params))
    traces = [[run.clean_trace(t, r)[0] for t in cands] for r, cands in zip(records, samples)]
    recons, recon_calls, recon_s = _timed(run, "reconstruction", lambda: reconstruct(run, records, traces))
    scores, cost = {}, {}
    for name, fid in FIDELITY.items():
        given = recons if fid.reconstructs else None
        scores[name], calls, seconds = _timed(
            run, f"fidelity/{name}", lambda fid=fid, given=given: fid.score(run, records, traces, given))
        cost[name] = (trace_calls + calls + (recon_calls if fid.reconstructs else 0),
                      trace_s + seconds + (recon_s if fid.reconstructs else 0), calls, seconds)
    best = {name: [max(range(n), key=lambda j: s[j]) for s in sc] for name, sc in scores.items()}
    rows = []
    for name in FIDELITY:
        same = sum(a == b for a, b in zip(best[name], best["judge"]))
        rho = sum(_spearman(a, b) for a, b in zip(scores[name], scores["judge"])) / len(records)
        total_calls, total_s, calls, seconds = cost[name]
        rows.append([name, f"{total_calls / len(records):.1f}", f"{total_s / len(records):.1f}",
                     f"{calls / len(records):.1f}", f"{seconds / len(records):.2f}",
                     f"{same}/{len(records)} ({same / len(records):.0%})", f"{rho:+.2f}"])
    headers = ["scorer", "LM calls / record", "seconds / record", "scoring calls / record", "scoring s / record",
               "same pick as judge", "mean Spearman vs judge"]
    table = tabulate(rows, headers=headers, tablefmt="github")
    click.echo(table)
    models = ", ".join(f"{role}={m['name']}" for role, m in sorted(run.models.items()))
    text = f"""# Fidelity scorers compared (RECON-Select candidates)

Written by `python benchmarks/bench_fidelity.py --pack {pack} --user {user} --limit {limit} --n {n} --config {config}`
on {datetime.now(UTC).strftime('%Y-%m-%d')} ({platform.machine()}, {torch.get_num_threads()} torch threads,
a CPU shared with other jobs: read the seconds as an order of magnitude). Slice: the first {limit} training records of
`{pack}/{user}`; N = {n} candidates per record, sampled once and shared by every scorer; models: {models};
LM cache off. A call is one request counted by `benchmark.models` usage accounting (docs/methods.md). Chance
agreement with the judge's pick is 1/N = {1 / n:.0%}.

{table}

- **LM calls / record** and **seconds / record** count the whole RECON-Select step for that scorer: N candidate
  samples, the N reconstructions when the scorer needs them (`judge`, `embedding`), and the scoring itself.
- `loglik` scores the real action directly (N prefill-only requests, no reconstruction is generated); `embedding`
  needs the reconstructions but no LM call to score them (all-MiniLM-L6-v2 on the CPU).
"""
    atomic_write_text(out, text)
    click.echo(f"-> {out}")


if __name__ == "__main__":
    main()
