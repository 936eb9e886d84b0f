"""Run a submission as a plain subprocess, under the same contract as the Docker runner: the same environment
variables, input folder and output folder, run from the submission folder. For machines without a Docker engine and
for debugging. It enforces the wall-clock timeout and nothing else: no isolation, no network cut, no memory limit.
A command starting with ``python``/``python3`` runs with the harness's own interpreter, so the reference methods work
from a checkout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._contract import ENV_INPUT, ENV_LM_URL, ENV_MODELS, ENV_OUTPUT, MAX_LOG_BYTES, RunResult, Submission
from .failures import InfrastructureFailure

_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "TMPDIR", "PYTHONPATH", "HF_HOME", "RECONBENCH_HOME",
               "RECONBENCH_LM_CACHE")


def run(sub: Submission, input_dir: Path, output_dir: Path, *, models_dir: Path | None = None,
        lm_socket: Path | None = None, build_args: dict[str, str] | None = None) -> RunResult:
    """Run ``sub``'s command in its folder with the contract's environment; see the module docstring."""
    argv = list(sub.manifest["command"])
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    env.update({ENV_INPUT: str(Path(input_dir).resolve()), ENV_OUTPUT: str(Path(output_dir).resolve())})
    if models_dir is not None:
        env[ENV_MODELS] = str(Path(models_dir).resolve())
    if sub.manifest.get("needs_lm_endpoint"):
        if lm_socket is None:
            raise InfrastructureFailure("engine_down", "the manifest needs an LM endpoint and none was given")
        env[ENV_LM_URL] = f"unix://{Path(lm_socket).resolve()}"
    timed_out = False
    with tempfile.TemporaryFile() as log:
        t0 = time.monotonic()
        try:
            # own session: on timeout the whole process group is killed, children included
            proc = subprocess.Popen(argv, cwd=sub.folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            # the command cannot even start: the submission's own doing, reported like a failed exit
            return RunResult(exit_code=127, timed_out=False, oom_killed=False, duration_s=0.0,
                             logs=f"cannot run {argv[0]!r}: {e.strerror}\n")
        try:
            exit_code = proc.wait(timeout=sub.resources["timeout_s"])
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            exit_code = proc.wait()
        duration = time.monotonic() - t0
        log.seek(max(0, log.seek(0, os.SEEK_END) - MAX_LOG_BYTES))
        logs = log.read().decode("utf-8", "replace")
    return RunResult(exit_code=exit_code, timed_out=timed_out, oom_killed=False, duration_s=round(duration, 3),
                     logs=logs)
