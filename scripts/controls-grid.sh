#!/usr/bin/env bash
# Remake the recorded protocol comparison (docs/controls.md, leaderboard/controls/): the validity controls of each
# scoring protocol on real user splits. Backward Synthesis traces (cpu config, SmolLM2-135M) for the training slices
# of both users of a pack are synthesized by the controls themselves; every LM call is cached, so a rerun of a
# finished grid makes no model call. About 3 hours on 2 CPU cores (most of it likelihood prefill of ~2,500-token
# prompts and judge calls); each line can be run alone.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-leaderboard/controls}
for pack in debates scotus briefings pmq-sample; do
  reconbench packs verify "$pack" >/dev/null 2>&1 || reconbench packs build "$pack"
done
# judge-free likelihood (the CPU default), SmolLM2-135M as action model: 48 training and 60 test turns
reconbench controls --pack debates --user biden --protocol likelihood --train-limit 48 --limit 60 --out "$OUT"
reconbench controls --pack scotus --user sotomayor --protocol likelihood --train-limit 48 --limit 60 --out "$OUT"
# judge protocols, SmolLM2-135M as action model and judge: 24 training and 8 test turns, 64-token predictions
for protocol in pairwise pairwise-calibrated pointwise; do
  reconbench controls --pack pmq-sample --user cameron --protocol "$protocol" --train-limit 24 --limit 8 \
    --max-tokens 64 --out "$OUT"
done
# the newest-window probe in docs/controls.md (kept out of leaderboard/controls: the board's results use the oldest)
reconbench controls --pack debates --user biden --protocol likelihood --train-window newest --train-limit 48 \
  --limit 60 --out "${PROBE_OUT:-/tmp/controls-newest}"
