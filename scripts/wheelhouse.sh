#!/usr/bin/env bash
# Collect every wheel the project image needs into a folder (default ./wheels, git-ignored), so that the image builds
# with `pip install --no-index` and no network. Resolves the full dependency closure of pyproject.toml's
# dependencies plus the pinned CPU torch and the build backend; sdists are built into wheels here on the host.
#
#   bash scripts/wheelhouse.sh [DIR]
#   RECONBENCH_TORCH="torch==2.13.0" bash scripts/wheelhouse.sh   # another torch build (e.g. a CUDA one for GPUs)
#
# The wheels must match the image's Python (3.11 in the local Debian bookworm base).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-wheels}
PY=${PYTHON:-python3}
TORCH=${RECONBENCH_TORCH:-torch==2.13.0}
mkdir -p "$DIR"
mapfile -t deps < <($PY - <<'PYEOF'
import tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if not dep.startswith("torch"):  # pinned separately
        print(dep)
PYEOF
)
# what the image installs: the wheelhouse carries its own requirements, so the image's dependency layer depends on
# the wheelhouse alone (a pyproject.toml edit that does not touch dependencies rebuilds nothing heavy)
printf '%s\n' "$TORCH" "${deps[@]}" "setuptools>=68" wheel > "$DIR/requirements.txt"
# `pip wheel` copies existing wheels and builds the rest; a second run finds everything already there
$PY -m pip wheel -q --wheel-dir "$DIR" --find-links "$DIR" "$TORCH" "${deps[@]}" "setuptools>=68" wheel 2> >(grep -v "neither a file nor a directory" >&2)
echo "wheelhouse: $(ls "$DIR" | wc -l) wheels, $(du -sh "$DIR" | cut -f1) in $DIR" >&2
