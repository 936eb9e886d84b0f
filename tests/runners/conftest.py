"""Fixtures for the runner tests: a real Docker engine (scripts/docker-engine.sh) and the small Debian base image
(built once per machine by scripts/build-base-image.sh and reused while it exists), real training records from the
scotus pack, and a helper that writes small test submissions onto that base image."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from benchmark.paths import REPO_ROOT

BASE_IMAGE = "reconbench-base:bookworm"


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """DOCKER_HOST of a running engine; started by scripts/docker-engine.sh unless DOCKER_HOST is set."""
    import docker

    host = os.environ.get("DOCKER_HOST")
    if not host:
        proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "docker-engine.sh"), "start"], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            pytest.skip(f"no Docker engine could start here: {proc.stderr.strip().splitlines()[-1:]}")
        host = proc.stdout.strip().split("=", 1)[1]
        os.environ["DOCKER_HOST"] = host
    try:
        docker.DockerClient(base_url=host, timeout=10).ping()
    except Exception as e:
        pytest.skip(f"the Docker engine at {host} does not answer: {e}")
    return host


@pytest.fixture(scope="session")
def base_image(docker_engine) -> str:
    """The local Debian base image; built on first use (about a minute), then reused across sessions."""
    proc = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "build-base-image.sh"), BASE_IMAGE],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"building {BASE_IMAGE} failed: {proc.stderr[-2000:]}")
    return BASE_IMAGE


@pytest.fixture(scope="session")
def train_records(build_pack_once) -> list[dict]:
    """Six real training records (scotus, first user): small enough for fast runs."""
    from benchmark import packs

    build_pack_once("scotus")
    user = packs.users("scotus")[0]
    return packs.load_split("scotus", user, "train")[:6]


# A test submission in Python on the base image; MODE picks its behaviour (see submission.py below).
SUBMISSION_PY = r'''
import json, os, socket, sys, time
mode = sys.argv[1]
inp, out = os.environ["RECONBENCH_INPUT"], os.environ["RECONBENCH_OUTPUT"]
records = [json.loads(l) for l in open(os.path.join(inp, "train.jsonl"), encoding="utf-8")]
task = json.load(open(os.path.join(inp, "task.json"), encoding="utf-8"))
def trace(r):
    return f"{r['user']} answers after {len(r['context'])} turns, weighing the last speaker's point."
lines = [json.dumps({"id": r["id"], "trace": trace(r)}) for r in records]
if mode == "network":
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=3).close()
        result = "connected"
    except OSError as e:
        result = f"refused: {type(e).__name__}"
    ifaces = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:])
    lines = [json.dumps({"id": r["id"], "trace": trace(r), "meta": {"network": result, "interfaces": ifaces}})
             for r in records]
elif mode == "oom":
    hog = []
    while True:
        hog.append(b"x" * (16 << 20))
elif mode == "sleep":
    time.sleep(600)
elif mode == "exit3":
    sys.exit(3)
elif mode == "malformed":
    lines[1] = lines[1][:-5]
elif mode == "duplicate":
    lines.append(lines[0])
elif mode == "missing":
    lines = lines[:-2]
elif mode == "unknown":
    lines.append(json.dumps({"id": "scotus/nobody/x1", "trace": "t"}))
elif mode == "oversize":
    lines[2] = json.dumps({"id": records[2]["id"], "trace": "y" * (task["limits"]["max_trace_chars"] + 1)})
elif mode == "copy":
    lines = [json.dumps({"id": r["id"], "trace": "They said: " + r["action"]}) for r in records]
elif mode == "symlink":
    os.symlink("/etc/passwd", os.path.join(out, "traces.jsonl"))
    sys.exit(0)
elif mode == "extra":
    open(os.path.join(out, "notes.txt"), "w").write("scratch")
with open(os.path.join(out, "traces.jsonl"), "w", encoding="utf-8") as f:
    f.write("\n".join(lines) + "\n")
print(f"wrote {len(lines)} lines in mode {mode}")
'''

DOCKERFILE = f"""ARG BASE_IMAGE={BASE_IMAGE}
FROM ${{BASE_IMAGE}}
COPY submission.py /submission/
WORKDIR /submission
"""


@pytest.fixture
def make_submission(tmp_path):
    """``make_submission(mode, *args, memory_mb=256, timeout_s=60, image=None) -> folder`` of a test submission."""

    def make(mode: str, *args: str, memory_mb: int = 256, timeout_s: int = 60, image: dict | None = None,
             dockerfile: str = DOCKERFILE) -> Path:
        folder = tmp_path / f"sub-{mode}"
        folder.mkdir()
        (folder / "submission.py").write_text(SUBMISSION_PY, encoding="utf-8")
        (folder / "Dockerfile").write_text(dockerfile, encoding="utf-8")
        manifest = {
            "schema_version": 1, "name": f"test-{mode}", "version": "1", "authors": ["RECON-Bench tests"],
            "method": f"test submission that behaves as {mode!r}", "models": [],
            "image": image or {"dockerfile": "Dockerfile"},
            "command": ["python3", "submission.py", mode, *args],
            "resources": {"gpu": False, "memory_mb": memory_mb, "cpus": 1, "timeout_s": timeout_s},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return folder

    return make
