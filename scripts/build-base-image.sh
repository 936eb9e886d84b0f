#!/usr/bin/env bash
# Build the small local base image (Debian bookworm minbase + python3, venv, pip) without any registry:
# debootstrap a root file system, then `docker import` it. Submissions and the project Dockerfile build FROM it
# on machines that cannot pull images.
#
#   bash scripts/build-base-image.sh [IMAGE]      # default reconbench-base:bookworm; skips if it already exists
#   RECONBENCH_FORCE=1 bash scripts/build-base-image.sh   # rebuild
#
# Needs root, debootstrap and a Debian mirror (RECONBENCH_DEBIAN_MIRROR, default http://deb.debian.org/debian).
# Uses DOCKER_HOST if set, else starts the project's private engine (scripts/docker-engine.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:-reconbench-base:bookworm}
MIRROR=${RECONBENCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -z "${DOCKER_HOST:-}" ]; then export "$(bash scripts/docker-engine.sh start)"; fi
if [ "${RECONBENCH_FORCE:-0}" != 1 ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build-base-image: $IMAGE already exists (RECONBENCH_FORCE=1 rebuilds)" >&2
  exit 0
fi
command -v debootstrap >/dev/null || { echo "build-base-image: debootstrap not installed (apt-get install debootstrap)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "build-base-image: debootstrap needs root" >&2; exit 1; }

DIR=$(mktemp -d /tmp/reconbench-rootfs.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
echo "build-base-image: debootstrap bookworm into $DIR" >&2
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip bookworm "$DIR" "$MIRROR" >"$DIR.log" 2>&1 \
  || { tail -n 30 "$DIR.log" >&2; rm -f "$DIR.log"; exit 1; }
rm -f "$DIR.log"
# smaller and reproducible-ish: no package lists or caches in the image
rm -rf "$DIR"/var/lib/apt/lists/* "$DIR"/var/cache/apt/*.bin "$DIR"/var/cache/apt/archives/*.deb "$DIR"/tmp/* 
tar -C "$DIR" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$IMAGE" >/dev/null
echo "build-base-image: built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)" >&2
