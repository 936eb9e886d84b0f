"""Infrastructure failures are told apart from the submission's, and no failure disturbs an earlier result."""

from __future__ import annotations

import json

import pytest

from benchmark.runners import load_submission, run_split
from benchmark.schema import validate

pytestmark = pytest.mark.docker


def _run(folder, records, root):
    return run_split(load_submission(folder), "scotus", records[0]["user"], records, runner="docker", root=root)


def test_missing_image_is_the_infrastructures_failure_and_nothing_is_pulled(docker_engine, train_records,
                                                                           make_submission, tmp_path):
    folder = make_submission("good", image={"name": "reconbench-test-no-such-image:1"})
    outcome, run_dir = _run(folder, train_records, tmp_path)
    assert outcome["failure"]["kind"] == "image_missing" and outcome["failure"]["blame"] == "infrastructure"
    assert outcome["process"] is None


def test_engine_down_is_the_infrastructures_failure(train_records, make_submission, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    outcome, _ = _run(make_submission("good"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "engine_down" and outcome["failure"]["blame"] == "infrastructure"


def test_build_failure_is_recorded_with_the_build_log(base_image, train_records, make_submission, tmp_path):
    # a failing RUN step is the Dockerfile's doing: the submission's failure, not the infrastructure's
    folder = make_submission("good", dockerfile=f"FROM {base_image}\nRUN echo building-step && false\n")
    outcome, run_dir = _run(folder, train_records, tmp_path)
    assert outcome["failure"]["kind"] == "bad_build" and outcome["failure"]["blame"] == "submission"
    assert "building-step" in (run_dir / "logs.txt").read_text()


def test_a_failed_run_leaves_the_earlier_result_untouched(base_image, train_records, make_submission, tmp_path):
    good = make_submission("good")
    first, first_dir = _run(good, train_records, tmp_path)
    before = {p.name: p.read_bytes() for p in first_dir.iterdir()}
    latest = (first_dir.parent / "latest.json").read_bytes()
    # the same submission name and version, now writing garbage: a new run folder, the old one intact
    manifest = json.loads((good / "manifest.json").read_text())
    manifest["command"][-1] = "malformed"
    (good / "manifest.json").write_text(json.dumps(manifest))
    second, second_dir = _run(good, train_records, tmp_path)
    assert second["status"] == "failed" and second_dir != first_dir and second_dir.parent == first_dir.parent
    assert {p.name: p.read_bytes() for p in first_dir.iterdir()} == before
    assert (first_dir.parent / "latest.json").read_bytes() == latest
    assert not [p for p in first_dir.parent.iterdir() if p.name.endswith(".partial")]
    for d in (first_dir, second_dir):
        validate("run_outcome", json.loads((d / "outcome.json").read_text()))
