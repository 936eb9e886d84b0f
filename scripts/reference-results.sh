#!/usr/bin/env bash
# Remake every published number from the repository alone: for each user split, the four reference methods' traces
# (Backward Synthesis, RECON-Select, RECON-GRPO, E2E-GRPO; cpu config, SmolLM2-135M), their evaluation against
# Backward Synthesis plus the no-reasoning control with the scoring protocol, that protocol's validity controls
# (recorded in leaderboard/controls/; the wrong-user control synthesizes the other user's Backward Synthesis traces
# itself), then the board. Every LM call is cached and every stage resumes, so a rerun of a finished script makes no
# model call. Settings come from the environment:
#   PROTOCOL=likelihood TRAIN=16 TEST=30 SPLITS="debates/biden debates/trump scotus/sotomayor briefings/psaki" \
#   MODEL=smollm2-135m bash scripts/reference-results.sh
# The protocol comparison behind docs/controls.md is scripts/controls-grid.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOCOL=${PROTOCOL:-likelihood} TRAIN=${TRAIN:-16} TEST=${TEST:-30} MODEL=${MODEL:-smollm2-135m}
SPLITS=${SPLITS:-"debates/biden debates/trump scotus/sotomayor briefings/psaki"}
RUNS=$(python3 -c "from benchmark import paths; print(paths.runs_dir())")/reference
results=()
for split in $SPLITS; do
  pack=${split%/*} user=${split#*/}
  dir="$RUNS/$pack/$user/train$TRAIN"
  reconbench packs verify "$pack" >/dev/null 2>&1 || reconbench packs build "$pack"
  for method in backward recon_select recon_grpo e2e_grpo; do
    reconbench baselines run --method "$method" --pack "$pack" --user "$user" --limit "$TRAIN" --out "$dir/$method"
  done
  EVAL=(--pack "$pack" --user "$user" --train-limit "$TRAIN" --limit "$TEST" --protocol "$PROTOCOL"
        --action-model "$MODEL" --judge "$MODEL" --baseline "$dir/backward/output/traces.jsonl")
  for method in recon_select recon_grpo e2e_grpo; do
    reconbench evaluate "${EVAL[@]}" --name "$method" --traces "$dir/$method/output/traces.jsonl" \
      --out "$dir/results/$method--$PROTOCOL.json"
    results+=("$dir/results/$method--$PROTOCOL.json")
  done
  reconbench evaluate "${EVAL[@]}" --name no_reasoning --no-reasoning --out "$dir/results/no_reasoning--$PROTOCOL.json"
  results+=("$dir/results/no_reasoning--$PROTOCOL.json")
  reconbench controls --pack "$pack" --user "$user" --protocol "$PROTOCOL" --train-limit "$TRAIN" --limit "$TEST" \
    --action-model "$MODEL" --judge "$MODEL" --traces "$dir/backward/output/traces.jsonl" --out leaderboard/controls
done
# replace this protocol's reference results on the board, all or nothing
python3 - "$PROTOCOL" "$MODEL" <<'PY'
import sys
from pathlib import Path
from benchmark.evaluate.result import protocol_of
from benchmark.io import read_json
for p in Path("leaderboard/results").rglob("*.json"):
    d = read_json(p)
    if protocol_of(d) == sys.argv[1] and d["action_model"]["name"] == sys.argv[2] and \
            d["method"]["name"] in ("recon_select", "recon_grpo", "e2e_grpo", "no_reasoning"):
        p.unlink()
PY
reconbench leaderboard add "${results[@]}"
