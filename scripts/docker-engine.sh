#!/usr/bin/env bash
# Start, stop or query a private Docker engine for RECON-Bench: Debian's dockerd started by hand with its own
# data-root, exec-root, pidfile and Unix socket, and no networking of its own (no bridge, no iptables, no IP
# forwarding), so it touches nothing else on the machine and containers can only ever run with --network none.
#
#   bash scripts/docker-engine.sh start    # idempotent; prints DOCKER_HOST=unix://... on stdout
#   bash scripts/docker-engine.sh status   # prints DOCKER_HOST=... and exits 0 when it answers, exits 1 otherwise
#   bash scripts/docker-engine.sh stop     # stops the engine this script started (by its pidfile)
#
# State lives in RECONBENCH_DOCKER_ROOT (default ~/.cache/reconbench-docker), kept across runs so that built
# images stay cached. Use the engine with:  export $(bash scripts/docker-engine.sh start)
set -euo pipefail

ROOT=${RECONBENCH_DOCKER_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/reconbench-docker}
SOCK=$ROOT/docker.sock
PIDFILE=$ROOT/dockerd.pid
LOG=$ROOT/dockerd.log
HOST=unix://$SOCK

answers() {
  # the engine answers on its socket (the docker CLI is optional: fall back to Python's docker SDK)
  if command -v docker >/dev/null; then
    docker -H "$HOST" version >/dev/null 2>&1
  else
    python3 -c "import docker,sys; docker.DockerClient(base_url='$HOST', timeout=5).ping()" >/dev/null 2>&1
  fi
}

alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-}" in
  start)
    if alive && answers; then echo "DOCKER_HOST=$HOST"; exit 0; fi
    command -v dockerd >/dev/null || { echo "docker-engine: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "docker-engine: dockerd must be started as root" >&2; exit 1; }
    if alive; then   # started but not answering yet (or hung): give it a moment before starting another
      for _ in $(seq 1 30); do answers && { echo "DOCKER_HOST=$HOST"; exit 0; }; sleep 1; done
      echo "docker-engine: dockerd $(cat "$PIDFILE") runs but does not answer on $SOCK; see $LOG" >&2; exit 1
    fi
    mkdir -p "$ROOT/data" "$ROOT/exec"
    rm -f "$PIDFILE" "$SOCK"
    nohup dockerd --data-root "$ROOT/data" --exec-root "$ROOT/exec" --pidfile "$PIDFILE" -H "$HOST" \
      --bridge=none --iptables=false --ip6tables=false --ip-forward=false >>"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
      if answers; then echo "DOCKER_HOST=$HOST"; exit 0; fi
      kill -0 $! 2>/dev/null || { echo "docker-engine: dockerd exited; last lines of $LOG:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
      sleep 1
    done
    echo "docker-engine: dockerd did not answer on $SOCK within 60 s; see $LOG" >&2; exit 1
    ;;
  stop)
    if ! alive; then echo "docker-engine: not running" >&2; exit 0; fi
    pid=$(cat "$PIDFILE")
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || { echo "docker-engine: stopped" >&2; exit 0; }; sleep 1; done
    echo "docker-engine: dockerd $pid did not stop within 30 s" >&2; exit 1
    ;;
  status)
    if alive && answers; then echo "DOCKER_HOST=$HOST"; exit 0; fi
    echo "docker-engine: not running (state in $ROOT)" >&2; exit 1
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2; exit 2
    ;;
esac
