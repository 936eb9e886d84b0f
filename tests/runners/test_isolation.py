"""Submissions run isolated in a real container: no network, memory limit, wall-clock timeout; each way a run can
end is classified and recorded (docker runner)."""

from __future__ import annotations

import json
import socket

import pytest

from benchmark.io import read_jsonl
from benchmark.runners import load_submission, run_split

pytestmark = pytest.mark.docker


def _run(folder, records, tmp_path, runner="docker"):
    return run_split(load_submission(folder), "scotus", records[0]["user"], records, runner=runner,
                     root=tmp_path / "runs")


def test_good_submission_produces_validated_traces(base_image, train_records, make_submission, tmp_path):
    outcome, run_dir = _run(make_submission("good"), train_records, tmp_path)
    assert outcome["status"] == "ok", outcome["failure"]
    assert outcome["process"]["exit_code"] == 0 and outcome["limits"]["network"] == "none"
    traces = read_jsonl(run_dir / "traces.jsonl")
    assert [t["id"] for t in traces] == [r["id"] for r in train_records]
    assert "wrote 6 lines in mode good" in (run_dir / "logs.txt").read_text()
    assert json.loads((run_dir.parent / "latest.json").read_text())["run_id"] == outcome["run_id"]


def test_container_cannot_reach_a_listener_on_the_hosts_loopback(base_image, train_records, make_submission,
                                                                 tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.5)
        port = str(listener.getsockname()[1])
        outcome, run_dir = _run(make_submission("network", port), train_records, tmp_path)
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever arrived from the container
    assert outcome["status"] == "ok", outcome["failure"]
    meta = read_jsonl(run_dir / "traces.jsonl")[0]["meta"]
    assert meta["network"].startswith("refused")
    assert meta["interfaces"] == ["lo"]


def test_same_network_probe_does_connect_without_isolation(train_records, make_submission, tmp_path):
    """The probe above can tell: through the local runner (no isolation) the same submission connects."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(30)
        outcome, run_dir = _run(make_submission("network", str(listener.getsockname()[1])), train_records, tmp_path,
                                runner="local")
        listener.accept()[0].close()
    assert read_jsonl(run_dir / "traces.jsonl")[0]["meta"]["network"] == "connected"


def test_allocating_past_the_memory_limit_is_killed_and_reported_as_oom(base_image, train_records, make_submission,
                                                                       tmp_path):
    outcome, run_dir = _run(make_submission("oom", memory_mb=64), train_records, tmp_path)
    assert outcome["status"] == "failed"
    assert outcome["failure"]["kind"] == "oom" and outcome["failure"]["blame"] == "submission"
    assert outcome["process"]["oom_killed"] is True
    assert not (run_dir / "traces.jsonl").exists()


def test_sleeping_past_the_timeout_is_stopped_and_reported(base_image, train_records, make_submission, tmp_path):
    outcome, _ = _run(make_submission("sleep", timeout_s=3), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "timeout" and outcome["failure"]["blame"] == "submission"
    assert outcome["process"]["timed_out"] is True
    assert outcome["process"]["duration_s"] < 30


def test_nonzero_exit_is_the_submissions_failure(base_image, train_records, make_submission, tmp_path):
    outcome, _ = _run(make_submission("exit3"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "nonzero_exit" and "status 3" in outcome["failure"]["message"]


@pytest.mark.parametrize("mode, expected", [
    ("malformed", "line 2: malformed JSON"),
    ("duplicate", "line 7: duplicate id"),
    ("missing", "2 training id(s) have no trace"),
    ("unknown", "unknown id 'scotus/nobody/x1'"),
    ("oversize", "line 3 (id"),
    ("symlink", "traces.jsonl: is a symbolic link"),
    ("extra", "notes.txt: unexpected entry"),
])
def test_bad_output_is_rejected_naming_the_problem(base_image, train_records, make_submission, tmp_path, mode,
                                                   expected):
    outcome, run_dir = _run(make_submission(mode), train_records, tmp_path)
    assert outcome["status"] == "failed"
    assert outcome["failure"]["kind"] == "bad_output" and outcome["failure"]["blame"] == "submission"
    assert any(expected in p for p in outcome["validation"]["problems"]), outcome["validation"]["problems"]
    assert expected in outcome["failure"]["message"] or len(outcome["validation"]["problems"]) > 3
    assert not (run_dir / "traces.jsonl").exists()
    if mode == "oversize":
        assert "oversize trace" in outcome["failure"]["message"]


def test_copying_the_real_action_is_flagged(base_image, train_records, make_submission, tmp_path):
    outcome, _ = _run(make_submission("copy"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "leak"
    leak = outcome["validation"]["leak_check"]
    assert leak["n_flagged"] == leak["n_checked"] > 0
    assert {f["id"] for f in leak["flagged"]} <= {r["id"] for r in train_records}
    assert all(f["copied"] >= leak["threshold"] for f in leak["flagged"])
