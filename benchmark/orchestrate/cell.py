"""One grid cell, on whatever machine runs it: the same single-machine code path as the CLI.

``run_cell(cell)`` builds (or verifies) the pack, makes the split's Backward Synthesis traces for the records the
test slice shows (`benchmark.retrieval.demonstrated`; shared by the cells of the split, under a file lock), makes
the method's traces (a reference method in process, or the submission through its runner), evaluates them against
Backward Synthesis, and returns ``{"status", "result", "failure", "seconds", "log", "host"}``. It never raises: a
failure comes back with its kind (a runner failure kind such as ``nonzero_exit``, ``data_error`` for bad input, or
``harness_error`` with the traceback). The result document and the log tail travel back to the driver in the return
value, so the driver needs no shared folder with the worker.

What a worker needs locally (declared, docs/grid.md): the models folder (``RECONBENCH_MODELS``), the pack data
(built splits in ``RECONBENCH_DATA``, or the raw corpora in ``RECONBENCH_RAW`` to build them), the submission folders
at the paths the grid names, and a container engine for the docker runner. Its runs folder and LM cache are its own.

``python -m benchmark.orchestrate.cell IN.json OUT.json`` runs one cell in a fresh process (the local executor)."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import sys
import time
import traceback
from pathlib import Path

LOG_TAIL = 20_000  # characters of a cell's log kept in its outcome


def run_cell(cell: dict) -> dict:
    start = time.perf_counter()
    log = io.StringIO()
    outcome: dict = {"status": "failed", "failure": None}
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            outcome = _run(cell)
    except Exception as e:  # noqa: BLE001 - every failure of a cell is recorded, none stops the grid
        from ..errors import ReconBenchError

        if isinstance(e, ReconBenchError):
            failure = {"kind": "data_error", "blame": "input", "message": str(e)}
        else:
            failure = {"kind": "harness_error", "blame": "infrastructure",
                       "message": f"{type(e).__name__}: {e}"}
            log.write(traceback.format_exc())
        outcome = {"status": "failed", "failure": failure}
    text = log.getvalue()
    return outcome | {"seconds": round(time.perf_counter() - start, 3), "host": socket.gethostname(),
                      "log": text[-LOG_TAIL:]}


def _run(cell: dict) -> dict:
    from .. import layout, paths
    from ..evaluate import evaluate
    from ..io import dumps_canonical, sha256_text
    from ..packs import load_split
    from .baselines import run_baseline
    from .slices import ensure_pack

    pack, user, s = cell["pack"], cell["user"], cell["settings"]
    ensure_pack(pack)
    config = s["config"]
    test_limit, train_limit, k = s["test_limit"], s["train_limit"], s["k"]
    split_key = sha256_text(dumps_canonical({"pack": pack, "user": user, "config": config, "train_limit": train_limit,
                                             "test_limit": test_limit, "k": k}))
    backward = layout.grid_baseline(pack, user, split_key[:16])
    from filelock import FileLock

    backward.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(backward) + ".lock"):  # the cells of one split share it; the first makes it
        run_baseline("backward", pack, user, config=config, limit=train_limit, demonstrated=test_limit, k=k,
                     out=backward)
    work = layout.grid_cell(cell["digest"])
    unisolated = False
    if s["kind"] == "reference":
        traces = None
        if cell["method"] != "no_reasoning":
            run_baseline(cell["method"], pack, user, config=config, limit=train_limit, demonstrated=test_limit,
                         k=k, out=work / cell["method"])
            traces = work / cell["method"] / "output" / "traces.jsonl"
    else:
        from ..retrieval import demonstrated
        from ..runners import load_submission
        from ..runners._run import run_split
        from ..runners.policy import load_policy
        from ..runners.validate import LeakCheck

        sub = load_submission(cell["submission"])
        records = load_split(pack, user, "train")[:train_limit]
        if test_limit is not None:
            records = demonstrated(records, load_split(pack, user, "test")[:test_limit], k)
        outcome, run_dir = run_split(sub, pack, user, records, runner=s["runner"], models_dir=paths.models_dir(),
                                     check=LeakCheck(), policy=load_policy(None), root=work / "submission")
        if outcome["failure"]:
            f = outcome["failure"]
            return {"status": "failed", "failure": {"kind": f["kind"], "blame": f.get("blame", ""),
                                                    "message": f.get("message", "")}}
        traces, unisolated = run_dir / "output" / "traces.jsonl", bool(outcome.get("unisolated", False))
    extra = {"max_tokens": s["max_tokens"]} if s.get("max_tokens") else {}
    result = evaluate(traces, backward / "output" / "traces.jsonl", pack, user, method_name=cell["method"],
                      action_model=s["action_model"], judge=s["judge"], backend=s["backend"],
                      protocol=s["protocol"], protocol_params=s["protocol_params"] or None, k=k, limit=test_limit,
                      train_limit=train_limit, seed=s["seed"], unisolated=unisolated, out=work / "result.json",
                      **extra)
    return {"status": "ok", "result": result, "failure": None}


def main(argv: list[str]) -> int:
    from ..io import read_json, write_json

    cell_file, out_file = map(Path, argv)
    outcome = run_cell(read_json(cell_file))
    write_json(out_file, outcome)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main(sys.argv[1:]))
