#!/usr/bin/env bash
# Remake the recorded protocol comparison (docs/controls.md, leaderboard/controls/): the validity controls of each
# scoring protocol on real user splits. Backward Synthesis traces (cpu config, SmolLM2-135M) for the training slices
# of both users of a pack are synthesized by the controls themselves; every LM call is cached, so a rerun of a
# finished grid makes no model call. About 3 hours on 2 CPU cores (most of it likelihood prefill of ~1,300-token
# prompts, Backward Synthesis and Qwen judge calls); each line can be run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-leaderboard/controls}
for pack in debates scotus briefings forum pmq-sample; do
  reconbench packs verify "$pack" >/dev/null 2>&1 || reconbench packs build "$pack"
done
# judge-free likelihood (the CPU default), SmolLM2-135M as action model: the first 60 test turns, each user's whole
# training split as the demonstration pool (Backward Synthesis only for the turns shown as demonstrations)
reconbench controls --pack debates --user biden --protocol likelihood --test-limit 60 --reports-dir "$OUT"
reconbench controls --pack debates --user trump --protocol likelihood --test-limit 60 --reports-dir "$OUT"
reconbench controls --pack scotus --user sotomayor --protocol likelihood --test-limit 60 --reports-dir "$OUT"
reconbench controls --pack briefings --user jean-pierre --protocol likelihood --test-limit 60 --reports-dir "$OUT"
# forum: the whole test split (300 turns); with 60 the wrong-user CI did not clear 50% (docs/controls.md)
reconbench controls --pack forum --user steeeeve --protocol likelihood --reports-dir "$OUT"
# pmq-sample has one user: no wrong-user control, so no positive control applies to likelihood there
# judge protocols, SmolLM2-135M as action model and judge: 24 training and 8 test turns, 64-token predictions
for protocol in pairwise pairwise-calibrated pointwise; do
  reconbench controls --pack pmq-sample --user cameron --protocol "$protocol" --train-limit 24 --test-limit 8 \
    --max-tokens 64 --reports-dir "$OUT"
done
# every judge protocol x judge on three packs, the oracle control only (the gate a judge protocol must pass first;
# a probe, so these never rank): 24 training and 8 test turns, 64-token predictions. About 75 min, most of it
# Qwen2.5-Coder-1.5B (about 9 s per judge pass here); `reconbench models pull` the two Qwen models first.
for judge in smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b; do
  for split in pmq-sample/cameron debates/biden scotus/sotomayor; do
    for protocol in pairwise pairwise-calibrated pointwise; do
      [ "$judge" = smollm2-135m ] && [ "$split" = pmq-sample/cameron ] && continue  # the full controls above
      reconbench controls --pack "${split%/*}" --user "${split#*/}" --protocol "$protocol" --judge "$judge" \
        --only oracle --train-limit 24 --test-limit 8 --max-tokens 64 --reports-dir "$OUT"
    done
  done
done
# the one judge whose oracle passes, with every control: pointwise x Qwen2.5-Coder-1.5B (pmq-sample recorded with
# judge prompt v2, fenced; the recorded debates/biden report was made with v1, so this line remakes it under v2)
for split in pmq-sample/cameron debates/biden; do
  reconbench controls --pack "${split%/*}" --user "${split#*/}" --protocol pointwise --judge qwen2.5-coder-1.5b \
    --train-limit 24 --test-limit 8 --max-tokens 64 --reports-dir "$OUT"
done
# likelihood after the action model's own reasoning (docs/controls.md: does it change the measurement?)
reconbench controls --pack debates --user biden --protocol likelihood-reasoned --test-limit 30 --reports-dir "$OUT"
# superseded probes in docs/controls.md (kept out of leaderboard/controls): the oldest and newest 48 training turns
reconbench controls --pack debates --user biden --protocol likelihood --train-limit 48 --test-limit 60 \
  --reports-dir "${PROBE_OUT:-/tmp/controls-probes}/oldest48"
reconbench controls --pack debates --user biden --protocol likelihood --train-window newest --train-limit 48 \
  --test-limit 60 --reports-dir "${PROBE_OUT:-/tmp/controls-probes}/newest48"
