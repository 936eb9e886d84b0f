"""Backward Synthesis on a real slice: one valid trace per record, resumable, through the submission entry point and
the baselines CLI."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from benchmark.cli import cli
from benchmark.io import read_json, read_jsonl, write_json, write_jsonl
from benchmark.runners import validate_output
from benchmark.synthesize import synthesize

from .conftest import PACK, USER


def test_backward_writes_one_valid_trace_per_record_and_keeps_written_ones(slice_input, slice_records, tiny_config,
                                                                          shared_cache, tmp_path):
    out = tmp_path / "out"
    kept = {"id": slice_records[0]["id"], "trace": "written by an earlier, interrupted run"}
    write_jsonl(out / "traces.jsonl", [kept])
    run = synthesize("backward", slice_input, out, config=tiny_config, workdir=tmp_path / "work",
                     lm_cache=shared_cache)
    check = validate_output(out, slice_records)
    assert check.ok and not check.leaked, check.problems
    traces = read_jsonl(out / "traces.jsonl")
    assert [t["id"] for t in traces] == [r["id"] for r in slice_records]
    assert traces[0] == kept
    assert all(t["trace"] and t["meta"]["model"] == run.models["synthesizer"]["fingerprint"] for t in traces[1:])
    # only the two missing traces were generated
    assert run.usage().stages["synthesize/trace"].calls == len(slice_records) - 1


def test_entry_point_follows_the_submission_contract(slice_input, slice_records, tiny_config, shared_cache, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    write_json(tmp_path / "tiny.json", tiny_config)
    env = dict(os.environ, RECONBENCH_INPUT=str(slice_input), RECONBENCH_OUTPUT=str(out),
               RECONBENCH_WORK=str(tmp_path / "work"), RECONBENCH_LM_CACHE=str(shared_cache))
    proc = subprocess.run([sys.executable, "-m", "benchmark.synthesize", "--method", "backward",
                           "--config", str(tmp_path / "tiny.json")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert validate_output(out, slice_records).ok
    assert "synthesize/trace" in proc.stderr  # the cost table


def test_entry_point_reports_a_bad_input_folder_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmark.synthesize", "--method", "backward",
                           "--input", str(tmp_path), "--output", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: file {tmp_path / 'task.json'}: file does not exist"]


def test_baselines_run_writes_validated_traces_and_a_manifest(slice_records, tiny_config, shared_cache, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("RECONBENCH_LM_CACHE", str(shared_cache))  # the calls of the tests above are reused
    write_json(tmp_path / "tiny.json", tiny_config)
    result = CliRunner().invoke(cli, ["baselines", "run", "--method", "backward", "--pack", PACK, "--user", USER,
                                      "--train-limit", "2", "--config", str(tmp_path / "tiny.json"),
                                      "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    manifest = read_json(tmp_path / "run" / "manifest.json")
    assert manifest["n_records"] == 2 and manifest["traces"]["n"] == 2
    assert manifest["models"]["synthesizer"]["fingerprint"]
    assert manifest["cost"]["stages"]["synthesize/trace"]["calls"] + \
        manifest["cost"]["stages"]["synthesize/trace"]["cache_hits"] == 2
    assert set(manifest["prompts"]) >= {"backward", "reconstruction", "fidelity_judge", "e2e"}
    assert manifest["validation"]["problems"] == []
