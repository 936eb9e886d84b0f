"""Run a submission in a Docker container, isolated: no network, read-only root, all capabilities dropped,
no-new-privileges, memory/cpu/pids limits, a wall-clock timeout, a non-root user, and GPUs only when the manifest asks.

Mounts: the input folder read-only at /reconbench/input, the output folder writable at /reconbench/output, model
weights read-only at /reconbench/models, and, when the manifest needs it, the folder of the LM endpoint's Unix socket
read-only at /reconbench/lm. /tmp is a small tmpfs (counted against the memory limit).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import docker
import requests

from ._contract import ENV_INPUT, ENV_LM_URL, ENV_MODELS, ENV_OUTPUT, MAX_LOG_BYTES, RunResult, Submission
from ._engine import client as engine_client
from .images import build
from .failures import InfrastructureFailure

IN, OUT, MODELS, LM = "/reconbench/input", "/reconbench/output", "/reconbench/models", "/reconbench/lm"
RUN_UID = 10001  # the non-root user every submission runs as, whatever its image says
TMPFS_MB = 256


def build_image(sub: Submission, *, build_args: dict[str, str] | None = None,
                client: docker.DockerClient | None = None) -> tuple[str, str]:
    """Make the submission's image available locally: build it from its Dockerfile (no network, never pulling),
    or check that the named image exists. Returns (tag, image id)."""
    c = client or engine_client()
    image = sub.manifest["image"]
    tag = sub.image_tag
    if "name" in image:
        try:
            return tag, c.images.get(tag).id
        except docker.errors.ImageNotFound:
            raise InfrastructureFailure("image_missing", f"image {tag!r} is not on this engine (nothing is pulled; "
                                        "build or load it first)") from None
    context = (sub.folder / image.get("context", ".")).resolve()
    dockerfile = (sub.folder / image["dockerfile"]).resolve()
    args = {**image.get("build_args", {}), **(build_args or {})}
    rel = dockerfile.relative_to(context) if context in dockerfile.parents else dockerfile
    return tag, build(c, tag=tag, path=str(context), dockerfile=str(rel), buildargs=args)


def run(sub: Submission, input_dir: Path, output_dir: Path, *, models_dir: Path | None = None,
        lm_socket: Path | None = None, build_args: dict[str, str] | None = None) -> RunResult:
    """Run ``sub`` once on ``input_dir``, writing into ``output_dir``. Raises InfrastructureFailure when the run
    could not happen; every way the submission itself ends is reported in the RunResult."""
    c = engine_client()
    tag, image_id = build_image(sub, build_args=build_args, client=c)
    res = sub.resources
    # the non-root user must be able to write the output folder and nothing else
    os.chown(output_dir, RUN_UID, RUN_UID) if os.geteuid() == 0 else os.chmod(output_dir, 0o777)
    volumes = {str(Path(input_dir).resolve()): {"bind": IN, "mode": "ro"},
               str(Path(output_dir).resolve()): {"bind": OUT, "mode": "rw"}}
    env = {ENV_INPUT: IN, ENV_OUTPUT: OUT, ENV_MODELS: MODELS, "HOME": "/tmp", "TMPDIR": "/tmp",
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if models_dir is not None and Path(models_dir).is_dir():
        volumes[str(Path(models_dir).resolve())] = {"bind": MODELS, "mode": "ro"}
    if sub.manifest.get("needs_lm_endpoint"):
        if lm_socket is None:
            raise InfrastructureFailure("engine_down", "the manifest needs an LM endpoint and none was given "
                                        "(start `reconbench serve` and pass --lm-socket)")
        volumes[str(Path(lm_socket).resolve().parent)] = {"bind": LM, "mode": "ro"}
        env[ENV_LM_URL] = f"unix://{LM}/{Path(lm_socket).name}"
    gpus = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])] if res["gpu"] else None
    try:
        container = c.containers.create(
            tag, command=sub.manifest["command"], user=f"{RUN_UID}:{RUN_UID}", environment=env, volumes=volumes,
            network_mode="none", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            mem_limit=f"{res['memory_mb']}m", memswap_limit=f"{res['memory_mb']}m",
            nano_cpus=int(res["cpus"] * 1e9), pids_limit=res["pids"], device_requests=gpus,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={TMPFS_MB}m,mode=1777"}, labels={"reconbench.submission": sub.name})
    except docker.errors.APIError as e:
        raise InfrastructureFailure("engine_down", f"the engine refused to create the container: {e.explanation}") \
            from None
    timed_out = False
    t0 = time.monotonic()
    try:
        container.start()
        try:
            exit_code = container.wait(timeout=res["timeout_s"])["StatusCode"]
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            container.kill()
            exit_code = container.wait(timeout=30)["StatusCode"]
        duration = time.monotonic() - t0
        container.reload()
        oom = bool(container.attrs["State"].get("OOMKilled"))
        logs = container.logs(stdout=True, stderr=True)[-MAX_LOG_BYTES:].decode("utf-8", "replace")
    finally:
        container.remove(force=True)
    return RunResult(exit_code=exit_code, timed_out=timed_out, oom_killed=oom, duration_s=round(duration, 3),
                     logs=logs, image=tag, image_id=image_id)
