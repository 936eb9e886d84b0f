"""The evaluation grid (benchmark.orchestrate): grid files, cells and their digests, the local and Ray executors,
resuming after the driver is killed, and a failing cell that does not stop the others.

The executor tests run the real chain (pack, Backward Synthesis, the method's traces, evaluation) in worker
processes. The Ray-versus-local comparison uses SmolLM2-135M; the resume and failure tests use the deterministic
``fake`` backend, because what they check is the orchestration (which cells run, what is recorded and published)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from benchmark.errors import DataError
from benchmark.orchestrate import LocalExecutor, expand, load_grid, run_grid
from benchmark.orchestrate.grid import recorded
from benchmark.publish.store import load_results
from benchmark.synthesize import load_config

SPLITS = ["debates/biden", "debates/trump"]


def fake_config() -> dict:
    cfg = copy.deepcopy(load_config("cpu"))
    for role, spec in cfg["models"].items():
        spec |= {"name": f"fake-{role}", "backend": "fake"}
    cfg["name"], cfg["recon_select"]["n"] = "fake", 2
    return cfg


def tiny_config() -> dict:
    """SmolLM2-135M everywhere, with short contexts and completions, and two RECON-Select candidates."""
    cfg = copy.deepcopy(load_config("cpu"))
    cfg["name"], cfg["context_chars"], cfg["recon_select"]["n"] = "tiny", 300, 2
    cfg["trace"]["max_tokens"] = cfg["reconstruction"]["max_tokens"] = 16
    return cfg


def write_grid(folder: Path, synthesis: dict, **fields) -> Path:
    """``<folder>/grid.yaml`` over ``<folder>/config.json`` (``synthesis``), with ``fields`` replacing defaults."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(synthesis), encoding="utf-8")
    doc = {"name": "t", "splits": SPLITS, "methods": ["no_reasoning", "recon_select"], "config": "config.json",
           "test_limit": 2, "k": 2} | fields
    (folder / "grid.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return folder / "grid.yaml"


FAKE = {"models": [{"action_model": "fake-action"}], "backend": "fake"}


@pytest.fixture
def debates(build_pack_once):
    build_pack_once("debates")


# ---- grid files and cells (no model, no process) ------------------------------------------------------------------

def test_a_grid_expands_to_one_cell_per_method_split_and_model_pair(debates, tmp_path):
    spec = load_grid(write_grid(tmp_path, fake_config(), splits=["debates"], **FAKE))
    cells = expand(spec)
    assert [(c.method, c.user) for c in cells] == [("no_reasoning", "biden"), ("recon_select", "biden"),
                                                  ("no_reasoning", "trump"), ("recon_select", "trump")]
    assert len({c.digest for c in cells}) == 4
    # the digest is the settings: the same file gives the same digests, another test slice other ones
    assert [c.digest for c in expand(load_grid(tmp_path / "grid.yaml"))] == [c.digest for c in cells]
    other = expand(load_grid(write_grid(tmp_path / "b", fake_config(), splits=["debates"], test_limit=3, **FAKE)))
    assert not {c.digest for c in other} & {c.digest for c in cells}


@pytest.mark.parametrize("fields, field, message", [
    ({"splits": ["nosuchpack/x"]}, "splits/0", "unknown pack"),
    ({"splits": ["debates/nobody"]}, "splits/0", "has no user"),
    ({"methods": ["backwards"]}, "methods/0", "is not one of"),
    ({"methods": []}, "methods", "nothing to run"),
    ({"models": [{"action_model": "smollm2-13m"}]}, "models/0/action_model", "did you mean 'smollm2-135m'"),
    ({"submissions": ["nowhere"]}, "submissions/0", "not a submission folder"),
    ({"protocol": "majority"}, "protocol", "is not one of"),
    ({"config": "missing.json"}, "config", "neither a shipped config"),
])
def test_a_bad_grid_file_is_refused_naming_the_field(tmp_path, fields, field, message):
    with pytest.raises(DataError, match=message) as e:
        load_grid(write_grid(tmp_path, fake_config(), **fields))
    assert e.value.field == field and str(tmp_path / "grid.yaml") in str(e.value)


def test_an_unreadable_grid_file_is_a_clear_error(tmp_path):
    (tmp_path / "g.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataError, match="not YAML or JSON"):
        load_grid(tmp_path / "g.yaml")


def test_a_submission_cell_digest_follows_its_code(debates, tmp_path):
    sub = make_submission(tmp_path / "sub", "good")
    grid = write_grid(tmp_path, fake_config(), methods=[], submissions=["sub"], runner="local", **FAKE)
    before = [c.digest for c in expand(load_grid(grid))]
    (sub / "submission.py").write_text(SUBMISSION_PY + "\n# changed\n", encoding="utf-8")
    after = [c.digest for c in expand(load_grid(grid))]
    assert len(before) == 2 and not set(before) & set(after)


# ---- executors (worker processes) ---------------------------------------------------------------------------------

SUBMISSION_PY = r'''
import json, os, sys
inp, out = os.environ["RECONBENCH_INPUT"], os.environ["RECONBENCH_OUTPUT"]
if sys.argv[1] == "exit3":
    print("giving up"); sys.exit(3)
records = [json.loads(l) for l in open(os.path.join(inp, "train.jsonl"), encoding="utf-8")]
with open(os.path.join(out, "traces.jsonl"), "w", encoding="utf-8") as f:
    for r in records:
        trace = f"{r['user']} answers the last of {len(r['context'])} turns."
        f.write(json.dumps({"id": r["id"], "trace": trace}) + "\n")
'''


def make_submission(folder: Path, mode: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "submission.py").write_text(SUBMISSION_PY, encoding="utf-8")
    (folder / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    manifest = {"schema_version": 1, "name": f"grid-{mode}", "version": "1", "authors": ["RECON-Bench tests"],
                "method": f"a test submission ({mode})", "models": [], "image": {"dockerfile": "Dockerfile"},
                "command": ["python3", "submission.py", mode],
                "resources": {"gpu": False, "memory_mb": 256, "cpus": 1, "timeout_s": 60}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def isolate(monkeypatch, where: Path) -> None:
    """Runs folder and LM cache of their own, so a grid computes everything itself."""
    monkeypatch.setenv("RECONBENCH_RUNS", str(where / "runs"))
    monkeypatch.setenv("RECONBENCH_LM_CACHE", str(where / "lm-cache.sqlite"))


@pytest.mark.slow
def test_ray_and_local_executors_give_identical_result_digests(debates, tmp_path, monkeypatch):
    """2 methods x 2 user splits with SmolLM2-135M, once on a local Ray instance (2 CPUs) and once in the local
    process pool, each with its own runs folder and LM cache: every cell's result has the same digest."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install ray==2.60.0)")
    from benchmark.orchestrate import RayExecutor

    spec = load_grid(write_grid(tmp_path, tiny_config(), test_limit=1, k=1))  # one shown record per split
    digests = {}
    for name in ("local", "ray"):
        isolate(monkeypatch, tmp_path / name)
        executor = LocalExecutor(2) if name == "local" else RayExecutor(num_cpus=2)
        try:
            run = run_grid(spec, executor, state=tmp_path / name / "state", board=tmp_path / name / "board",
                           progress=False)
        finally:
            if name == "ray":
                executor.shutdown()
        assert not run.failed, [(o["cell"]["method"], o["failure"], o.get("log", "")[-2000:]) for o in run.failed]
        assert len(run.ran) == 4
        digests[name] = {o["cell"]["digest"]: o["result_digest"] for o in run.outcomes}
        costs = [json.loads((run.state / "results" / f"{d}.json").read_text())["run"]["costs"] for d in digests[name]]
        assert all(c["likelihood"]["calls"] > 0 for c in costs)  # computed here, not read from the other's cache
    assert digests["ray"] == digests["local"]


@pytest.mark.slow
def test_a_cell_no_ray_node_can_hold_is_refused_not_left_waiting(debates, tmp_path):
    pytest.importorskip("ray", reason="Ray is not installed (pip install ray==2.60.0)")
    from benchmark.errors import ReconBenchError
    from benchmark.orchestrate import RayExecutor

    cell = expand(load_grid(write_grid(tmp_path, fake_config(), **FAKE)))[0].as_dict()
    executor = RayExecutor(cpus=4, num_cpus=1)
    try:
        with pytest.raises(ReconBenchError, match="asks for 4 CPUs .* largest node of the Ray cluster has 1"):
            list(executor.run([cell]))
    finally:
        executor.shutdown()


@pytest.mark.slow
def test_a_killed_driver_resumes_with_only_the_missing_cells(debates, tmp_path, monkeypatch):
    grid = write_grid(tmp_path, fake_config(), **FAKE)
    state = tmp_path / "state"
    env = {**os.environ, "RECONBENCH_LEADERBOARD": str(tmp_path / "board")}
    driver = subprocess.Popen([sys.executable, "-m", "benchmark.cli", "grid", str(grid), "--state", str(state)],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not list((state / "cells").glob("*.json")) and time.monotonic() < deadline and driver.poll() is None:
            time.sleep(0.1)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the cell it is running
        driver.wait()
    spec = load_grid(grid)
    cells = expand(spec)
    done = {c.digest: (state / "cells" / f"{c.digest}.json").read_bytes() for c in cells if recorded(state, c)}
    assert 1 <= len(done) < len(cells), "the driver was killed after the first recorded cell, before the last"
    run = run_grid(spec, LocalExecutor(1), state=state, board=tmp_path / "board", progress=False)
    assert sorted(run.ran) == sorted(c.digest for c in cells if c.digest not in done)
    assert all((state / "cells" / f"{d}.json").read_bytes() == data for d, data in done.items())  # kept as they were
    assert not run.failed and len(load_results(tmp_path / "board" / "results")) == len(cells)
    again = run_grid(spec, LocalExecutor(1), state=state, board=tmp_path / "board", progress=False)
    assert again.ran == [] and len(load_results(tmp_path / "board" / "results")) == len(cells)


@pytest.mark.slow
def test_a_failing_submission_is_reported_and_the_other_cells_reach_the_board(debates, tmp_path):
    make_submission(tmp_path / "bad", "exit3")
    grid = write_grid(tmp_path, fake_config(), methods=["no_reasoning"], submissions=["bad"], runner="local", **FAKE)
    env = {**os.environ, "RECONBENCH_LEADERBOARD": str(tmp_path / "board")}
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "grid", str(grid), "--state", str(tmp_path / "s")],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "grid-exit3 @ debates/biden" in proc.stdout and "nonzero_exit" in proc.stdout
    stored = load_results(tmp_path / "board" / "results")
    assert sorted((d["method"]["name"], d["user"]) for _, d in stored) == [("no_reasoning", "biden"),
                                                                           ("no_reasoning", "trump")]
    summary = (tmp_path / "s" / "summary.md").read_text(encoding="utf-8")
    assert summary.count("nonzero_exit") == 4  # two table rows, two explanations
    outcome = json.loads(next(p for p in (tmp_path / "s" / "cells").glob("*.json")
                              if "grid-exit3" in p.read_text()).read_text())
    assert outcome["failure"]["blame"] == "submission"
    # a rerun retries the failed cells only
    spec = load_grid(grid)
    run = run_grid(spec, LocalExecutor(1), state=tmp_path / "s", board=tmp_path / "board", progress=False)
    assert len(run.ran) == 2 and all(o["cell"]["method"] == "grid-exit3" for o in run.failed)


@pytest.mark.slow
def test_cells_share_one_served_model_and_record_its_identity(debates, tmp_path, monkeypatch):
    """`backend: openai` + `lm_url`: two cells running at once both call one `reconbench serve` (here over a Unix
    socket, serving the fake model) instead of loading weights; each result names the served model's fingerprint."""
    import httpx

    from benchmark.models import get_lm

    isolate(monkeypatch, tmp_path)
    sock = tmp_path / "lm.sock"
    server = subprocess.Popen([sys.executable, "-m", "benchmark.cli", "serve", "--model", "fake-action", "--backend",
                               "fake", "--uds", str(sock), "--no-cache"], stderr=subprocess.PIPE, text=True)
    try:
        probe = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)))
        deadline = time.monotonic() + 120
        while True:
            try:
                served = probe.get("http://localhost/v1/models").raise_for_status().json()["data"]
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()
                time.sleep(0.3)
        spec = load_grid(write_grid(tmp_path, fake_config(), methods=["no_reasoning"], backend="openai",
                                    lm_url=f"unix://{sock}", models=[{"action_model": "fake-action"}]))
        run = run_grid(spec, LocalExecutor(2, env={"RECONBENCH_LM_URL": spec["lm_url"]}), state=tmp_path / "s",
                       board=tmp_path / "board", progress=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not run.failed, [o["failure"] for o in run.failed]
    fingerprint = next(m["fingerprint"] for m in served if m["id"] == "fake-action")
    assert fingerprint == get_lm("fake-action", "fake").fingerprint  # the served weights' identity, not the URL's
    for o in run.outcomes:
        doc = json.loads((tmp_path / "s" / "results" / f"{o['cell']['digest']}.json").read_text())
        assert doc["action_model"]["backend"] == "openai" and doc["action_model"]["fingerprint"] == fingerprint
        assert doc["run"]["costs"]["likelihood"]["calls"] > 0
