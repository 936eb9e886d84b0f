"""Throughput of the transformers backend on this machine (not a test): tokens/s one prompt at a time vs batched
(batch 1, 4, 16), fp32 vs bf16, the speedup of a cache hit, and peak memory. Usage:

    python benchmarks/bench_models.py [--model smollm2-135m] [--max-tokens 48] [--write benchmarks/results/models.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import torch
from tabulate import tabulate

from benchmark.models import GenParams
from benchmark.models._cache import CachedLM, LMCache
from benchmark.models._convert import ensure_pulled
from benchmark.models.transformers_lm import TransformersLM

TOPICS = ["the ocean", "a city at night", "learning to cook", "the moon", "old libraries", "winter mornings",
          "trains", "a garden", "chess", "rain on a roof", "mountains", "a market", "bicycles", "the desert",
          "a thunderstorm", "friendship"]
PROMPTS = [[{"role": "user", "content": f"Write a short paragraph about {t}."}] for t in TOPICS]


def throughput(backend: TransformersLM, prompts: list, params: GenParams, batch_size: int) -> tuple[float, int]:
    """Generated tokens per second with ``batch_size`` rows per forward pass, and the outputs' token count."""
    backend.batch_size = batch_size
    before = backend.usage.total.completion_tokens
    start = time.perf_counter()
    backend.generate(prompts, params)
    seconds = time.perf_counter() - start
    tokens = backend.usage.total.completion_tokens - before
    return tokens / seconds, tokens


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}; {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads); "
            f"load average while running: {load}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--dtypes", default="float32,bfloat16", help="comma-separated dtypes to measure")
    ap.add_argument("--write", type=Path, help="also write the results as Markdown to this file")
    args = ap.parse_args()
    ensure_pulled(args.model)
    params = GenParams(max_tokens=args.max_tokens)
    rows, notes = [], []
    for dtype in args.dtypes.split(","):
        backend = TransformersLM(args.model, dtype=dtype)
        backend.generate(PROMPTS[:1], GenParams(max_tokens=4))  # warm-up
        seq, _ = throughput(backend, PROMPTS[:4], params, 1)
        rows.append([dtype, "sequential (batch 1)", 4, f"{seq:.1f}", "1.0x"])
        for bs in (4, 16):
            tps, _ = throughput(backend, PROMPTS[:bs], params, bs)
            rows.append([dtype, f"batch {bs}", bs, f"{tps:.1f}", f"{tps / seq:.1f}x"])
            print(*rows[-1], flush=True)
        backend.batch_size = 4
        batched = backend.generate(PROMPTS[:4], params)
        backend.batch_size = 1
        equal = batched == backend.generate(PROMPTS[:4], params)
        notes.append(f"{dtype}: batched greedy output {'equals' if equal else 'DIFFERS from'} one-by-one output")
    with tempfile.TemporaryDirectory() as tmp:
        lm = CachedLM(backend, LMCache(Path(tmp) / "cache.sqlite"))
        backend.batch_size = 16
        start = time.perf_counter()
        lm.generate(PROMPTS, params)
        miss = time.perf_counter() - start
        start = time.perf_counter()
        lm.generate(PROMPTS, params)
        hit = time.perf_counter() - start
    notes.append(f"cache: 16 prompts computed in {miss:.2f} s, served from the cache in {hit * 1000:.1f} ms "
                 f"({miss / hit:.0f}x faster)")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    notes.append(f"peak memory (max RSS of this process): {peak_mib:.0f} MiB")
    table = tabulate(rows, headers=["dtype", "mode", "prompts", "tokens/s", "vs sequential"], tablefmt="github")
    text = (f"Model {args.model}, greedy, max_tokens={args.max_tokens}.\n\n{table}\n\n"
            + "\n".join(f"- {n}" for n in notes) + f"\n\nMachine: {machine()}\n")
    print(text)
    if args.write:
        args.write.write_text(f"# LM backend measurements (`python benchmarks/bench_models.py`)\n\n{text}")


if __name__ == "__main__":
    main()
