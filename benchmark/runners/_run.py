"""One submission on one user split: prepare the input, run, validate the output, classify, record.

Each run gets its own folder ``<runs>/submissions/<name>/<version>/<pack>/<user>/<run_id>/`` holding
``outcome.json`` (schema ``run_outcome``), ``logs.txt`` and, when the output passed validation, ``traces.jsonl``.
The folder is assembled under a hidden name and renamed into place in one step, so a reader sees a whole run or
none, and a failed or interrupted run never touches an earlier one. ``latest.json`` beside the runs points at the
newest successful run and is only replaced by another success.
"""

from __future__ import annotations

import os
import platform
import secrets
import shutil
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ..io import atomic_write_text, sha256_file, write_json
from ..paths import runs_dir
from ..schema import validate
from . import docker_runner, local_runner
from ._contract import TRACES_FILE, TRAIN_FILE, Limits, RunResult, Submission, prepare_input
from .failures import InfrastructureFailure, blame
from .validate import LeakCheck, validate_output

# runner name -> run(submission, input_dir, output_dir, *, models_dir, lm_socket, build_args) -> RunResult
RUNNERS = {"docker": docker_runner.run, "local": local_runner.run}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def submission_runs_dir(sub: Submission, pack: str, user: str, root: Path | None = None) -> Path:
    """Where the runs of ``sub`` on (pack, user) are kept."""
    return (root or runs_dir()) / "submissions" / sub.name / sub.version / pack / user


def run_split(sub: Submission, pack: str, user: str, records: list[dict], *, runner: str = "docker",
              models_dir: Path | None = None, lm_socket: Path | None = None,
              build_args: dict[str, str] | None = None, limits: Limits = Limits(),
              check: LeakCheck = LeakCheck(), root: Path | None = None) -> tuple[dict, Path]:
    """Run ``sub`` on the training ``records`` of (pack, user) and record the outcome. Returns (outcome, run
    folder). Never raises for a failure of the submission or the infrastructure: both are recorded."""
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; choose from {sorted(RUNNERS)}")
    base = submission_runs_dir(sub, pack, user, root)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)
    staging = base / f".{run_id}.partial"
    input_dir, output_dir = staging / "input", staging / "output"
    output_dir.mkdir(parents=True)
    prepare_input(input_dir, pack=pack, user=user, records=records, limits=limits)
    for f in input_dir.iterdir():  # read-only for the local runner too (the Docker runner mounts it read-only)
        f.chmod(0o444)
    res = sub.resources
    outcome: dict = {
        "schema_version": 1, "run_id": run_id,
        "submission": {"name": sub.name, "version": sub.version, "manifest_sha256": sub.manifest_sha256,
                       "image": None, "image_id": None},
        "pack": pack, "user": user, "runner": runner, "status": "failed", "failure": None,
        "started_at": _now(), "finished_at": None, "n_records": len(records),
        "input_sha256": sha256_file(input_dir / TRAIN_FILE),
        "limits": {"gpu": res["gpu"], "memory_mb": res["memory_mb"], "cpus": res["cpus"],
                   "timeout_s": res["timeout_s"], "pids": res["pids"],
                   "network": "none" if runner == "docker" else "host (local runner)",
                   "max_trace_chars": limits.max_trace_chars, "max_line_bytes": limits.max_line_bytes,
                   "max_file_bytes": limits.max_file_bytes},
        "process": None, "validation": None, "traces": None, "logs": "logs.txt", "versions": _versions(runner),
    }
    logs = ""
    try:
        result = RUNNERS[runner](sub, input_dir, output_dir, models_dir=models_dir, lm_socket=lm_socket,
                                 build_args=build_args)
    except InfrastructureFailure as e:
        outcome["failure"] = {"kind": e.kind, "blame": blame(e.kind), "message": e.message}
        logs = e.logs
    else:
        logs = result.logs
        outcome["submission"].update(image=result.image, image_id=result.image_id)
        outcome["process"] = {"exit_code": result.exit_code, "timed_out": result.timed_out,
                              "oom_killed": result.oom_killed, "duration_s": result.duration_s}
        _judge(outcome, result, output_dir, records, limits, check, staging)
    outcome["finished_at"] = _now()
    atomic_write_text(staging / "logs.txt", logs)
    validate("run_outcome", outcome, file=staging / "outcome.json")
    write_json(staging / "outcome.json", outcome)
    shutil.rmtree(input_dir)
    shutil.rmtree(output_dir, ignore_errors=True)
    final = base / run_id
    os.rename(staging, final)
    if outcome["status"] == "ok":
        write_json(base / "latest.json", {"run_id": run_id, "traces": f"{run_id}/{TRACES_FILE}"})
    return outcome, final


def _judge(outcome: dict, result: RunResult, output_dir: Path, records: list[dict], limits: Limits,
           check: LeakCheck, staging: Path) -> None:
    """Classify the run: a process failure first (it explains a bad output), then the validator's verdict."""
    if result.timed_out:
        failure = ("timeout", f"stopped after the {outcome['limits']['timeout_s']} s wall-clock limit")
    elif result.oom_killed:
        failure = ("oom", f"killed for exceeding the {outcome['limits']['memory_mb']} MB memory limit")
    elif result.exit_code != 0:
        failure = ("nonzero_exit", f"exited with status {result.exit_code}")
    else:
        failure = None
    v = validate_output(output_dir, records, limits=limits, check=check)
    outcome["validation"] = v.as_dict()
    if failure is None and not v.ok:
        failure = ("bad_output", "; ".join(v.problems[:3]) + (f" (+{len(v.problems) - 3} more)"
                                                             if len(v.problems) > 3 else ""))
    if failure is None and v.leaked:
        failure = ("leak", f"{len(v.leaks)} of {len(v.traces)} traces copy the real action (over "
                           f"{check.max_fraction:.0%} with >= {check.threshold:.0%} of its {check.n}-grams)")
    if failure is not None:
        outcome["failure"] = {"kind": failure[0], "blame": blame(failure[0]), "message": failure[1]}
        return
    # only validated bytes leave the output folder: the file was checked to be a plain file, not a link
    os.replace(output_dir / TRACES_FILE, staging / TRACES_FILE)
    outcome.update(status="ok", traces=TRACES_FILE, traces_sha256=sha256_file(staging / TRACES_FILE))


def _versions(runner: str) -> dict[str, str]:
    versions = {"reconbench": metadata.version("reconbench"), "python": platform.python_version()}
    if runner == "docker":
        try:
            from ._engine import client
            versions["docker_engine"] = client(timeout=10).version()["Version"]
        except InfrastructureFailure:
            pass  # the run itself records engine_down
    return versions
