#!/usr/bin/env bash
# Recompute the reference results published in leaderboard/: the four reference methods (and the no-reasoning
# control) on a CPU-sized slice of pmq-sample/cameron, evaluated against Backward Synthesis with the default
# SmolLM2-135M action model and two judges, plus the validity controls for both judges. Every LM call is cached,
# so a rerun of a finished script makes no model call. About an hour on 2 CPU cores.
#   bash scripts/reference-results.sh            # writes leaderboard/results, leaderboard/controls, the board
set -euo pipefail
cd "$(dirname "$0")/.."
PACK=${PACK:-pmq-sample} USER_ID=${USER_ID:-cameron} TRAIN=${TRAIN:-32} TEST=${TEST:-10}
JUDGES=${JUDGES:-"smollm2-135m qwen2.5-coder-1.5b"}
RUNS=$(python3 -c "from benchmark import paths; print(paths.runs_dir())")/reference/$PACK/$USER_ID
EVAL=(--pack "$PACK" --user "$USER_ID" --train-limit "$TRAIN" --limit "$TEST" --k 4 --max-tokens 128)

reconbench packs verify "$PACK" >/dev/null 2>&1 || reconbench packs build "$PACK"
for method in backward recon_select recon_grpo e2e_grpo; do
  reconbench baselines run --method "$method" --pack "$PACK" --user "$USER_ID" --limit "$TRAIN" --out "$RUNS/$method"
done
for judge in $JUDGES; do
  for method in recon_select recon_grpo e2e_grpo; do
    reconbench evaluate "${EVAL[@]}" --judge "$judge" --name "$method" \
      --traces "$RUNS/$method/output/traces.jsonl" --baseline "$RUNS/backward/output/traces.jsonl" \
      --out "$RUNS/results/$method--$judge.json"
  done
  reconbench evaluate "${EVAL[@]}" --judge "$judge" --name no_reasoning --no-reasoning \
    --baseline "$RUNS/backward/output/traces.jsonl" --out "$RUNS/results/no_reasoning--$judge.json"
  for f in "$RUNS"/results/*--"$judge".json; do
    reconbench leaderboard add "$f" || echo "already on the board or refused: $f"
  done
  reconbench controls --pack "$PACK" --user "$USER_ID" --limit "$TEST" --train-limit "$TRAIN" --max-tokens 128 \
    --traces "$RUNS/backward/output/traces.jsonl" --judge "$judge" --out leaderboard/controls
done
reconbench leaderboard build
