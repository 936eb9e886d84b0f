"""Run a submission in a Docker container, isolated: no network, read-only root, all capabilities dropped,
no-new-privileges, memory/cpu/pids limits, a wall-clock timeout, a non-root user, and GPUs only when the manifest asks.

Resources are the manifest's requests capped by the operator's policy (``benchmark.runners.policy``). Logs are streamed
while the container runs into a head-and-tail buffer of the policy's ``log_bytes`` (the engine keeps at most two
rotated files of that size). The output folder is a tmpfs of the policy's ``output_bytes`` when the harness runs as
root (else a watchdog kills the container once the folder grows past it).

Mounts: the input folder read-only at /reconbench/input, the output folder writable at /reconbench/output, model
weights read-only at /reconbench/models, and, when the manifest needs it, the folder of the LM endpoint's Unix socket
read-only at /reconbench/lm. /tmp is a small tmpfs (counted against the memory limit).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import docker
import requests

from ._capture import HeadTail, OutputQuota
from ._contract import ENV_INPUT, ENV_LM_URL, ENV_MODELS, ENV_OUTPUT, RunResult, Submission
from ._engine import client as engine_client
from .failures import InfrastructureFailure, SubmissionFailure
from .images import build
from .policy import Policy, default_policy
from .validate import shown

IN, OUT, MODELS, LM = "/reconbench/input", "/reconbench/output", "/reconbench/models", "/reconbench/lm"
RUN_UID = 10001  # the non-root user every submission runs as, whatever its image says
TMPFS_MB = 256
SHM_MB = 64  # /dev/shm: writable, counted against the memory limit


def build_image(sub: Submission, *, build_args: dict[str, str] | None = None,
                client: docker.DockerClient | None = None, policy: Policy | None = None) -> tuple[str, str]:
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
    policy = policy or default_policy()
    return tag, build(c, tag=tag, path=str(context), dockerfile=str(rel), buildargs=args, submission=True,
                      timeout_s=policy.build_timeout_s, memory_mb=policy.build_memory_mb)


_COMMAND_ERRORS = ("executable file not found", "no such file or directory", "permission denied",
                   "not a directory", "exec format error")


def run(sub: Submission, input_dir: Path, output_dir: Path, *, models_dir: Path | None = None,
        lm_socket: Path | None = None, build_args: dict[str, str] | None = None, resources: dict | None = None,
        policy: Policy | None = None) -> RunResult:
    """Run ``sub`` once on ``input_dir``, writing into ``output_dir``. Raises RunFailure when the run could not
    happen (the engine's trouble, or a command that does not start); every way the submission's process itself ends
    is reported in the RunResult."""
    policy = policy or default_policy()
    res = resources or sub.resources
    c = engine_client()
    tag, image_id = build_image(sub, build_args=build_args, client=c, policy=policy)
    # the output folder: a tmpfs of output_bytes owned by the run's user when the harness may mount one
    quota = OutputQuota(Path(output_dir), policy.output_bytes, uid=RUN_UID).mount()
    if quota.mode != "tmpfs":
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
            quota.unmount()
            raise InfrastructureFailure("engine_down", "the manifest needs an LM endpoint and none was given "
                                        "(start `reconbench serve` and pass --lm-socket)")
        volumes[str(Path(lm_socket).resolve().parent)] = {"bind": LM, "mode": "ro"}
        env[ENV_LM_URL] = f"unix://{LM}/{Path(lm_socket).name}"
    gpus = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])] if res["gpu"] else None
    # the engine keeps at most this much of the logs on its disk; the harness streams them as they come
    engine_log = max(1 << 20, policy.log_bytes)
    try:
        container = c.containers.create(
            tag, command=sub.manifest["command"], user=f"{RUN_UID}:{RUN_UID}", environment=env, volumes=volumes,
            network_mode="none", read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"],
            mem_limit=f"{res['memory_mb']}m", memswap_limit=f"{res['memory_mb']}m",
            nano_cpus=int(res["cpus"] * 1e9), pids_limit=res["pids"], device_requests=gpus,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={TMPFS_MB}m,mode=1777"}, shm_size=f"{SHM_MB}m",
            labels={"reconbench.submission": sub.name},
            log_config=docker.types.LogConfig(type="json-file", config={"max-size": str(engine_log),
                                                                         "max-file": "2"}))
    except docker.errors.APIError as e:
        quota.unmount()
        raise InfrastructureFailure("engine_down", f"the engine refused to create the container: {e.explanation}") \
            from None
    logs = HeadTail(policy.log_bytes)
    timed_out = False
    t0 = time.monotonic()
    try:
        try:
            container.start()
        except docker.errors.APIError as e:
            text = str(e.explanation or e)
            if any(m in text.lower() for m in _COMMAND_ERRORS):
                hint = " (the base image has python3, not python)" if sub.manifest["command"][0] == "python" else ""
                raise SubmissionFailure("bad_command", f"the command {shown(sub.manifest['command'][0])} cannot be "
                                        f"started in {tag}: {shown(text, 300, quote=False)}{hint}",
                                        logs=text) from None
            raise InfrastructureFailure("engine_down", f"the engine could not start the container: "
                                        f"{shown(text, 300, quote=False)}") from None
        stream = container.logs(stdout=True, stderr=True, stream=True, follow=True)
        reader = threading.Thread(target=_drain, args=(stream, logs), daemon=True, name="reconbench-docker-logs")
        reader.start()
        quota.watch(lambda: _kill(container))
        try:
            exit_code = container.wait(timeout=res["timeout_s"])["StatusCode"]
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            timed_out = True
            _kill(container)
            exit_code = container.wait(timeout=30)["StatusCode"]
        duration = time.monotonic() - t0
        quota.stop()
        reader.join(timeout=30)
        try:
            stream.close()
        except Exception:  # noqa: BLE001 - closing a finished stream: nothing to do about it
            pass
        # the follower can fall behind a flood and lose a rotated log file: read the end again from what the
        # engine kept (it splits long lines into 16 KiB entries), so the log always ends with the real last lines
        try:
            logs.end_with(container.logs(stdout=True, stderr=True, tail=max(64, policy.log_bytes // 8192 + 2)))
        except docker.errors.APIError:
            pass
        container.reload()
        oom = bool(container.attrs["State"].get("OOMKilled"))
    except BaseException:
        quota.unmount()
        raise
    finally:
        container.remove(force=True)
    return RunResult(exit_code=exit_code, timed_out=timed_out, oom_killed=oom, duration_s=round(duration, 3),
                     logs=logs.text(), image=tag, image_id=image_id, output_exceeded=quota.exceeded,
                     output_quota=quota.mode, cleanup=quota.unmount)


def _kill(container) -> None:
    try:
        container.kill()
    except docker.errors.APIError:
        pass  # already gone


def _drain(stream, sink: HeadTail) -> None:
    try:
        for chunk in stream:
            sink.write(chunk)
    except Exception:  # noqa: BLE001 - the stream ends however the container ends
        pass
