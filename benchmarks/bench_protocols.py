"""Cost of each scoring protocol per evaluated test example, measured in ONE run on the same slice (not a test):
``likelihood`` (prefill only) against predict + ``pairwise`` judge (and ``pointwise``), CPU seconds and wall seconds
per example, from a cold LM cache in a scratch runs folder. Records the load average beside the numbers. Usage:

    python benchmarks/bench_protocols.py [--pack debates --user biden --limit 8 --train-limit 8]
                                         [--write benchmarks/results/protocols.md]

The baseline side is Backward Synthesis (cpu config, synthesized first, not timed); the method side is the same
traces shuffled across training records (the shuffled-traces control), so the two sides' prompts differ and every
request is really computed: with identical sides the LM cache computes each request once (the same request twice in
one call), which halves both protocols' work and measures a comparison nobody runs (results before 2026-11-30 did).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from tabulate import tabulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="debates")
    ap.add_argument("--user", default="biden")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--train-limit", type=int, default=8)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--protocols", default="likelihood,likelihood-reasoned,pairwise,pointwise")
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-protocols-"))
    traces_home = os.environ.get("RECONBENCH_RUNS")
    from benchmark.controls.definitions import shuffle_traces
    from benchmark.evaluate import evaluate, load_splits, load_traces
    from benchmark.evaluate.predict import first
    from benchmark.models import get_lm
    from benchmark.orchestrate.controls import backward_traces
    from benchmark.orchestrate.slices import ensure_pack

    ensure_pack(args.pack)
    train = first(load_splits(args.pack, args.user)[0], args.train_limit)
    backward = dict(load_traces(backward_traces(args.pack, args.user, train), args.pack, args.user, train))
    shuffled, _ = shuffle_traces(backward, train, seed=0)  # untimed: the two sides every protocol scores
    rows, stages, load_before = [], [], os.getloadavg()
    for protocol in args.protocols.split(","):
        os.environ["RECONBENCH_RUNS"] = str(scratch / protocol)  # no saved predictions or verdicts
        lm = get_lm(args.model, cache=scratch / f"{protocol}.sqlite")  # cold cache
        wall, cpu = time.perf_counter(), time.process_time()
        result = evaluate(shuffled, backward, args.pack, args.user, method_name="shuffled", action_model=lm, judge=lm,
                          protocol=protocol, limit=args.limit, train_limit=args.train_limit,
                          out=scratch / f"{protocol}.json")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        n = result["test"]["n_evaluated"]
        costs = result["run"]["costs"]
        rows.append({"protocol": protocol, "examples": n, "cpu_s": cpu, "wall_s": wall,
                     "calls": sum(c.get("calls", 0) for c in costs.values() if isinstance(c, dict)),
                     "per_cpu_s": n / cpu})
        for stage, c in sorted(costs.items()):  # where the time goes: the model stages' own timers (wall)
            if isinstance(c, dict) and c.get("calls"):
                stages.append([protocol, stage, c["calls"], f"{c['seconds']:.1f}", f"{c['seconds'] / n:.2f}",
                               round(c.get("prompt_tokens", 0) / c["calls"]),
                               round(c.get("completion_tokens", 0) / c["calls"])])
    if traces_home is not None:
        os.environ["RECONBENCH_RUNS"] = traces_home
    base = next(r for r in rows if r["protocol"] == "likelihood")
    table = tabulate([[r["protocol"], r["examples"], r["calls"], f"{r['cpu_s']:.1f}", f"{r['wall_s']:.1f}",
                       f"{r['cpu_s'] / r['examples']:.2f}", f"{r['per_cpu_s']:.4f}",
                       f"{base['per_cpu_s'] / r['per_cpu_s']:.1f}x"] for r in rows],
                     headers=["protocol", "test examples", "model calls", "CPU s", "wall s", "CPU s / example",
                              "examples / CPU s", "likelihood's advantage"], tablefmt="github")
    breakdown = tabulate(stages, headers=["protocol", "stage", "model calls", "wall s", "wall s / example",
                                          "prompt tokens / call", "generated tokens / call"],
                         tablefmt="github")
    load_after = os.getloadavg()
    note = (f"{args.pack}/{args.user}, {args.limit} test examples, {args.train_limit} training examples, k = 4, "
            f"shuffled Backward Synthesis traces against Backward Synthesis, "
            f"action model and judge {args.model}, cold cache; {platform.platform()}, {os.cpu_count()} CPUs; "
            f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(table + "\n\n" + breakdown + "\n\n" + note)
    if args.write:
        args.write.write_text(f"# Scoring protocols: cost per evaluated example\n\n"
                              f"`python benchmarks/bench_protocols.py --write {args.write}`\n\n{table}\n\n"
                              f"Where the time goes (each model stage's own timer, wall seconds):\n\n{breakdown}\n\n"
                              f"{note}\n")


if __name__ == "__main__":
    main()
