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
import re
import secrets
import shutil
import traceback
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .. import layout
from ..io import atomic_write_bytes, atomic_write_text, sha256_bytes, sha256_file, write_json
from ..leak import LeakCheck
from ..schema import validate
from . import docker_runner, local_runner
from ._contract import TRACES_FILE, TRAIN_FILE, Limits, RunResult, Submission, is_reference, prepare_input
from .failures import InfrastructureFailure, RunFailure, SubmissionFailure, blame
from .policy import Policy, default_policy
from .validate import shown, validate_output

# runner name -> run(submission, input_dir, output_dir, *, models_dir, lm_socket, build_args, resources, policy)
#   -> RunResult
RUNNERS = {"docker": docker_runner.run, "local": local_runner.run}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def submission_runs_dir(sub: Submission, pack: str, user: str, root: Path | None = None) -> Path:
    """Where the runs of ``sub`` on (pack, user) are kept."""
    return layout.submission_runs(sub.name, sub.version, pack, user, root)


def run_split(sub: Submission, pack: str, user: str, records: list[dict], *, runner: str = "docker",
              models_dir: Path | None = None, lm_socket: Path | None = None,
              build_args: dict[str, str] | None = None, limits: Limits | None = None,
              check: LeakCheck = LeakCheck(), root: Path | None = None,
              policy: Policy | None = None) -> tuple[dict, Path]:
    """Run ``sub`` on the training ``records`` of (pack, user) and record the outcome. Returns (outcome, run
    folder). Never raises for a failure of the submission or the infrastructure: both are recorded, and an
    unexpected error of the harness itself is recorded as ``harness_error`` (its traceback in the logs); no
    ``.partial`` folder is left behind."""
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; choose from {sorted(RUNNERS)}")
    policy = policy or default_policy()
    limits = limits or Limits(max_file_bytes=min(Limits.max_file_bytes, policy.output_bytes))
    base = submission_runs_dir(sub, pack, user, root)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)
    staging = base / f".{run_id}.partial"
    input_dir, output_dir = staging / "input", staging / "output"
    output_dir.mkdir(parents=True)
    try:
        return _run_split(sub, pack, user, records, runner=runner, models_dir=models_dir, lm_socket=lm_socket,
                          build_args=build_args, limits=limits, check=check, policy=policy, base=base,
                          run_id=run_id, staging=staging, input_dir=input_dir, output_dir=output_dir)
    finally:
        if staging.exists():  # only on an error while writing the outcome itself: leave nothing half-written
            _remove(staging)


def _remove(path: Path) -> None:
    """Remove a folder a submission wrote into (its files may be read-only or owned by another uid)."""
    def onerror(func, p, exc):
        try:
            os.chmod(os.path.dirname(p), 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=onerror)


def _run_split(sub: Submission, pack: str, user: str, records: list[dict], *, runner: str, models_dir, lm_socket,
               build_args, limits: Limits, check: LeakCheck, policy: Policy, base: Path, run_id: str,
               staging: Path, input_dir: Path, output_dir: Path) -> tuple[dict, Path]:
    prepare_input(input_dir, pack=pack, user=user, records=records, limits=limits)
    for f in input_dir.iterdir():  # read-only for the local runner too (the Docker runner mounts it read-only)
        f.chmod(0o444)
    requested = sub.resources
    res, over = policy.apply(requested)
    unisolated = runner != "docker"
    outcome: dict = {
        "schema_version": 1, "run_id": run_id,
        "submission": {"name": sub.name, "version": sub.version, "manifest_sha256": sub.manifest_sha256,
                       "image": None, "image_id": None, "reference": is_reference(sub)},
        "pack": pack, "user": user, "runner": runner, "unisolated": unisolated, "status": "failed", "failure": None,
        "started_at": _now(), "finished_at": None, "n_records": len(records),
        "input_sha256": sha256_file(input_dir / TRAIN_FILE),
        "limits": {"gpu": res["gpu"], "memory_mb": res["memory_mb"], "cpus": res["cpus"],
                   "timeout_s": res["timeout_s"], "pids": res["pids"],
                   "network": "none" if runner == "docker" else "host (local runner)",
                   "max_trace_chars": limits.max_trace_chars, "max_line_bytes": limits.max_line_bytes,
                   "max_file_bytes": limits.max_file_bytes, "output_bytes": policy.output_bytes,
                   "log_bytes": policy.log_bytes, "output_quota": None},
        "policy": {"source": policy.source, "on_excess": policy.on_excess, "clamped": over,
                   "ceilings": {k: v for k, v in policy.as_dict().items() if k not in ("source", "on_excess")}},
        "process": None, "validation": None, "traces": None, "logs": "logs.txt", "versions": _versions(runner),
    }
    if unisolated:
        outcome["limits"]["memory_mb"] = None  # not enforced by the local runner
        outcome["limits"]["cpus"] = None
        outcome["limits"]["pids"] = None
    logs = ""
    result = None
    try:
        if over and policy.on_excess == "refuse":
            raise SubmissionFailure("over_policy", "the manifest asks for more than this harness's policy allows: "
                                    + _describe(over) + f" (policy: {policy.source})")
        result = RUNNERS[runner](sub, input_dir, output_dir, models_dir=models_dir, lm_socket=lm_socket,
                                 build_args=build_args, resources=res, policy=policy)
    except RunFailure as e:
        outcome["failure"] = {"kind": e.kind, "blame": blame(e.kind), "message": e.message}
        logs = e.logs
    except Exception as e:  # noqa: BLE001 - a bug of the harness must still end as a recorded outcome
        outcome["failure"] = {"kind": "harness_error", "blame": blame("harness_error"),
                              "message": f"the harness failed while running the submission: {type(e).__name__}: "
                                         f"{shown(str(e), 300, quote=False)}"}
        logs = traceback.format_exc()
    else:
        logs = result.logs
        try:
            outcome["limits"]["output_quota"] = result.output_quota
            outcome["submission"].update(image=result.image, image_id=result.image_id)
            outcome["process"] = {"exit_code": result.exit_code, "timed_out": result.timed_out,
                                  "oom_killed": result.oom_killed, "duration_s": result.duration_s}
            _judge(outcome, result, result.output_dir or output_dir, records, limits, check, staging)
        except Exception as e:  # noqa: BLE001 - as above
            outcome.update(status="failed", traces=None)
            outcome.pop("traces_sha256", None)
            (staging / TRACES_FILE).unlink(missing_ok=True)
            outcome["failure"] = {"kind": "harness_error", "blame": blame("harness_error"),
                                  "message": f"the harness failed while checking the output: {type(e).__name__}: "
                                             f"{shown(str(e), 300, quote=False)}"}
            logs += "\n[reconbench: harness error]\n" + traceback.format_exc()
        finally:
            result.release()
    if over and (outcome["failure"] is None or outcome["failure"]["kind"] != "over_policy"):
        logs += f"\n[reconbench: resources clamped by the policy: {_describe(over)}]\n"
    outcome["finished_at"] = _now()
    atomic_write_text(staging / "logs.txt", logs)
    validate("run_outcome", outcome, file=staging / "outcome.json")
    write_json(staging / "outcome.json", outcome)
    _remove(input_dir)
    _remove(output_dir)
    final = base / run_id
    os.rename(staging, final)
    if outcome["status"] == "ok":
        write_json(base / "latest.json", {"run_id": run_id, "traces": f"{run_id}/{TRACES_FILE}",
                                          "unisolated": unisolated, "reference": outcome["submission"]["reference"]})
    return outcome, final


# what a refused fork/clone prints: Python's BlockingIOError, the shells' "fork: retry" / "Cannot fork", libc's EAGAIN
_FORK_FAILED = re.compile(r"(BlockingIOError: \[Errno 11\]|fork: retry|can't fork|cannot fork|fork failed|"
                          r"Resource temporarily unavailable)", re.IGNORECASE)


def _pids_hint(logs: str, outcome: dict) -> str:
    """A note for a non-zero exit whose log shows process creation refused: the run most likely hit its pids limit
    (the engine reports no separate signal for it, unlike an OOM kill)."""
    pids = (outcome.get("limits") or {}).get("pids")
    match = _FORK_FAILED.search(logs or "")
    if not pids or not match:
        return ""
    return (f"; its log shows process creation refused ({match.group(0)!r}): it most likely hit its pids limit of "
            f"{pids} processes (resources.pids, capped by the operator's policy)")


def _describe(over: list[dict]) -> str:
    return ", ".join(f"{o['field']} {o['requested']} > {o['allowed']}" for o in over)


def _judge(outcome: dict, result: RunResult, output_dir: Path, records: list[dict], limits: Limits,
           check: LeakCheck, staging: Path) -> None:
    """Classify the run: a process failure first (it explains a bad output), then the validator's verdict."""
    if result.output_exceeded:
        failure = ("bad_output", f"wrote more than the {outcome['limits']['output_bytes']} bytes the output folder "
                                 "may hold while running (stopped there)")
    elif result.timed_out:
        failure = ("timeout", f"stopped after the {outcome['limits']['timeout_s']} s wall-clock limit")
    elif result.oom_killed and result.exit_code != 0:
        failure = ("oom", f"killed for exceeding the {outcome['limits']['memory_mb']} MB memory limit")
    elif result.exit_code != 0:
        failure = ("nonzero_exit", f"exited with status {result.exit_code}" + _pids_hint(result.logs, outcome))
    else:
        failure = None
    v = validate_output(output_dir, records, limits=limits, check=check)
    outcome["validation"] = v.as_dict()
    if failure is None and not v.ok:
        failure = ("bad_output", v.summary())
    if failure is None and v.leaked:
        failure = ("leak", f"{len(v.leaks)} of {len(v.traces)} traces copy the real action (over "
                           f"{check.max_fraction:.0%}; see validation.leak_check.flagged)")
    if failure is not None:
        outcome["failure"] = {"kind": failure[0], "blame": blame(failure[0]), "message": failure[1]}
        return
    # only the validated bytes leave the output folder: what was read and checked is what is kept, whatever the
    # file (or a process still holding it) does afterwards
    atomic_write_bytes(staging / TRACES_FILE, v.raw)
    outcome.update(status="ok", traces=TRACES_FILE, traces_sha256=sha256_bytes(v.raw))


def _versions(runner: str) -> dict[str, str]:
    versions = {"reconbench": metadata.version("reconbench"), "python": platform.python_version()}
    if runner == "docker":
        try:
            from ._engine import client
            versions["docker_engine"] = client(timeout=10).version()["Version"]
        except InfrastructureFailure:
            pass  # the run itself records engine_down
    return versions
