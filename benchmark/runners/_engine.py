"""Finding the Docker engine: DOCKER_HOST if set, else the project's private engine (scripts/docker-engine.sh),
else the system default socket."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import docker

from ..paths import REPO_ROOT
from .failures import InfrastructureFailure

ENGINE_SCRIPT = REPO_ROOT / "scripts" / "docker-engine.sh"


def private_engine_socket() -> Path:
    """The socket scripts/docker-engine.sh serves (same default as the script)."""
    root = os.environ.get("RECONBENCH_DOCKER_ROOT")
    if root:
        return Path(root).expanduser() / "docker.sock"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "reconbench-docker" / "docker.sock"


def engine_host() -> str | None:
    """The DOCKER_HOST to use; None means the SDK's default."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    sock = private_engine_socket()
    return f"unix://{sock}" if sock.exists() else None


def start_private_engine() -> str:
    """Start (or find running) the private engine and return its DOCKER_HOST; InfrastructureFailure if it cannot."""
    proc = subprocess.run(["bash", str(ENGINE_SCRIPT), "start"], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.startswith("DOCKER_HOST="):
        raise InfrastructureFailure("engine_down", f"scripts/docker-engine.sh start failed: {proc.stderr.strip()}")
    return proc.stdout.strip().split("=", 1)[1]


def client(timeout: int = 120) -> docker.DockerClient:
    """A connected client; InfrastructureFailure("engine_down") when no engine answers."""
    host = engine_host()
    try:
        c = docker.DockerClient(base_url=host, timeout=timeout) if host else docker.from_env(timeout=timeout)
        c.ping()
        return c
    except Exception as e:  # the SDK raises several unrelated types for "nothing listens there"
        raise InfrastructureFailure(
            "engine_down", f"no Docker engine answers at {host or 'the default socket'} ({type(e).__name__}); "
            "start one with `export $(bash scripts/docker-engine.sh start)`") from None
