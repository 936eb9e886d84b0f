"""Why ``likelihood`` is about 7.5x, not 20x, cheaper than predict + pairwise judge on this CPU: prefill against
decoding, in fp32 and bf16, measured in ONE run (not a test). Usage:

    python benchmarks/bench_prefill_decode.py [--model smollm2-135m --prompt-tokens 1366 --new-tokens 220
                                              --judge-tokens 761 --write benchmarks/results/prefill-decode.md]

The defaults are the per-call sizes ``benchmarks/bench_protocols.py`` reports for debates/biden (a prediction reads
1,366 prompt tokens and writes 220; a likelihood request reads about 1,421; a judge pass reads 761). Per test example
``likelihood`` costs two prefills; predict + ``pairwise`` costs two predictions (prefill + decoding) and eight judge
passes, so its cost over likelihood's is 1 + (decoding + judging) / prefill: the ratio is set by how slow
sequential decoding is against one parallel prefill on this machine. Random token ids (the cost depends on the
lengths only); best of three after a warm-up; the load average is recorded beside the numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch
from tabulate import tabulate


def _best(f, n: int = 3) -> tuple[float, float]:
    """(wall s, CPU s) of the fastest of ``n`` calls after one warm-up."""
    f()
    best = (float("inf"), 0.0)
    for _ in range(n):
        wall, cpu = time.perf_counter(), time.process_time()
        f()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best = min(best, (wall, cpu))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--prompt-tokens", type=int, default=1366)
    ap.add_argument("--likelihood-tokens", type=int, default=1421)
    ap.add_argument("--new-tokens", type=int, default=220)
    ap.add_argument("--judge-tokens", type=int, default=761)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()

    from benchmark.models.transformers_lm import TransformersLM

    lm = TransformersLM(args.model)
    gen = torch.Generator().manual_seed(0)

    def ids(n: int) -> torch.Tensor:
        return torch.randint(100, lm.tokenizer.vocab_size - 100, (1, n), generator=gen)

    prompt, scored, judged = ids(args.prompt_tokens), ids(args.likelihood_tokens), ids(args.judge_tokens)
    load_before = os.getloadavg()
    rows = []

    def measure(model) -> tuple[tuple, tuple, tuple, float]:
        """(likelihood prefill, judge pass, prediction) as (wall, CPU) and decoding ms per token."""
        prefill = _best(lambda: model(input_ids=scored, logits_to_keep=args.new_tokens))
        judge = _best(lambda: model(input_ids=judged, logits_to_keep=1))
        predict = _best(lambda: model.generate(
            input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=args.new_tokens,
            min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=lm.tokenizer.pad_token_id,
            temperature=None, top_p=None, top_k=None))
        prompt_prefill = _best(lambda: model(input_ids=prompt, logits_to_keep=1))
        return prefill, judge, predict, 1000 * (predict[0] - prompt_prefill[0]) / args.new_tokens

    with torch.inference_mode():
        for dtype in ("float32", "bfloat16"):
            prefill, judge, predict, decode_ms = measure(lm.model.to(getattr(torch, dtype)))
            likelihood_cpu = 2 * prefill[1]
            pairwise_cpu = 2 * predict[1] + 8 * judge[1]
            rows.append([dtype, f"{prefill[0]:.2f}", f"{decode_ms:.1f}", f"{predict[0]:.2f}", f"{judge[0]:.2f}",
                         f"{likelihood_cpu:.1f}", f"{pairwise_cpu:.1f}", f"{pairwise_cpu / likelihood_cpu:.1f}x"])
    lm.model.to(torch.float32)
    load_after = os.getloadavg()
    table = tabulate(rows, headers=[
        "dtype", f"likelihood prefill ({args.likelihood_tokens} tok), wall s", "decoding, ms / token (wall)",
        f"prediction ({args.prompt_tokens} + {args.new_tokens} tok), wall s",
        f"judge pass ({args.judge_tokens} tok), wall s", "likelihood CPU s / example (2 prefills)",
        "predict + pairwise CPU s / example (2 predictions, 8 judge passes)", "likelihood's advantage"],
        tablefmt="github")
    note = (f"{args.model} on the transformers backend, one row per forward pass (no batching), best of 3; "
            f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(table + "\n\n" + note)
    if args.write:
        args.write.write_text(f"# Prefill against decoding: what bounds likelihood's advantage\n\n"
                              f"`python benchmarks/bench_prefill_decode.py --write {args.write}`\n\n"
                              f"{table}\n\n{note}\n")


if __name__ == "__main__":
    main()
