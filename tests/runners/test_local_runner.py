"""The same contract passes through the local runner (a subprocess, no engine needed)."""

from __future__ import annotations

from benchmark.io import read_jsonl
from benchmark.runners import load_submission, run_split


def _run(folder, records, tmp_path):
    return run_split(load_submission(folder), "scotus", records[0]["user"], records, runner="local",
                     root=tmp_path / "runs")


def test_good_submission_passes_through_the_local_runner(train_records, make_submission, tmp_path):
    outcome, run_dir = _run(make_submission("good"), train_records, tmp_path)
    assert outcome["status"] == "ok", outcome["failure"]
    assert outcome["runner"] == "local" and outcome["limits"]["network"] == "host (local runner)"
    assert [t["id"] for t in read_jsonl(run_dir / "traces.jsonl")] == [r["id"] for r in train_records]


def test_local_runner_stops_a_submission_past_its_timeout(train_records, make_submission, tmp_path):
    outcome, _ = _run(make_submission("sleep", timeout_s=2), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "timeout" and outcome["process"]["duration_s"] < 20


def test_local_runner_output_goes_through_the_same_validator(train_records, make_submission, tmp_path):
    outcome, _ = _run(make_submission("duplicate"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "bad_output"
    assert any("duplicate id" in p for p in outcome["validation"]["problems"])
    outcome, _ = _run(make_submission("copy"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "leak"
