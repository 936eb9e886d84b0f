"""Bad input is a clear DataError naming file, record and field, raised before any model is loaded (the model
names below do not exist, so reaching the model would fail differently), or a counted, reported event."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmark.errors import DataError
from benchmark.evaluate import evaluate, judge_pairs, predict
from benchmark.evaluate.predict import first
from benchmark.io import read_jsonl, write_jsonl

from .conftest import PACK, USER

NO_MODEL = {"action_model": "no-such-model", "judge": "no-such-model"}


def _rewrite(src, dst, change):
    rows = read_jsonl(src)
    write_jsonl(dst, change(rows))
    return dst


def test_traces_for_a_different_pack_are_refused(traces_files, tmp_path):
    other = _rewrite(traces_files["method"], tmp_path / "t.jsonl",
                     lambda rows: [r | {"id": r["id"].replace(f"{PACK}/{USER}/", "scotus/sotomayor/")} for r in rows])
    with pytest.raises(DataError, match="different pack") as e:
        evaluate(other, traces_files["backward"], PACK, USER, **NO_MODEL)
    assert e.value.field == "id" and str(e.value.file) == str(other) and e.value.record.startswith("scotus/")


def test_missing_trace_ids_are_refused_naming_the_first(traces_files, splits, tmp_path):
    from benchmark.retrieval import demonstrated

    train, test = splits
    shown = {r["id"] for r in demonstrated(train, test, 4)}  # evaluate's defaults: every test record, k = 4
    rows = read_jsonl(traces_files["method"])
    dropped = [r["id"] for r in rows if r["id"] in shown][-3:]
    short = _rewrite(traces_files["method"], tmp_path / "t.jsonl",
                     lambda rows: [r for r in rows if r["id"] not in dropped])
    with pytest.raises(DataError, match="3 of .* training records shown as demonstrations have no trace") as e:
        evaluate(traces_files["backward"], short, PACK, USER, **NO_MODEL)
    assert e.value.record == dropped[0] and e.value.field == "id"


def test_duplicate_and_unknown_trace_ids_are_refused(traces_files, splits, tmp_path):
    _, test = splits
    dup = _rewrite(traces_files["method"], tmp_path / "dup.jsonl", lambda rows: rows + rows[:1])
    with pytest.raises(DataError, match="duplicate"):
        evaluate(dup, traces_files["backward"], PACK, USER, **NO_MODEL)
    # a test id in a traces file: traces written for the wrong split
    unknown = _rewrite(traces_files["method"], tmp_path / "unk.jsonl",
                       lambda rows: rows + [{"id": test[0]["id"], "trace": "x"}])
    with pytest.raises(DataError, match="not in the training split") as e:
        evaluate(unknown, traces_files["backward"], PACK, USER, **NO_MODEL)
    assert e.value.record == test[0]["id"]


def test_malformed_traces_line_names_the_line(traces_files, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(traces_files["method"].read_text().splitlines()[0] + "\n{not json\n")
    with pytest.raises(DataError, match="not valid JSON") as e:
        evaluate(bad, traces_files["backward"], PACK, USER, **NO_MODEL)
    assert e.value.record == "line 2"
    wrong_type = _rewrite(traces_files["method"], tmp_path / "wt.jsonl",
                          lambda rows: [rows[0] | {"trace": 7}] + rows[1:])
    with pytest.raises(DataError, match="schema 'traces'") as e:
        evaluate(wrong_type, traces_files["backward"], PACK, USER, **NO_MODEL)
    assert e.value.field == "trace"


def test_empty_test_split_and_zero_limit_are_refused(splits):
    train, test = splits
    with pytest.raises(DataError, match="no test records"):
        predict(PACK, USER, None, object(), train=train, test=[])
    with pytest.raises(DataError, match="limit must be at least 1"):
        first(test, 0)


def test_predictions_missing_for_a_test_record_are_refused(splits):
    _, test = splits
    preds = [{"id": r["id"], "action": "x"} for r in test[:1]]
    with pytest.raises(DataError, match="have no baseline prediction") as e:
        judge_pairs(test[:2], preds + [{"id": test[1]["id"], "action": "y"}], preds, object(), user_name="x")
    assert e.value.record == test[1]["id"]


def test_cli_prints_one_line_and_exits_2_on_bad_traces(traces_files, tmp_path):
    short = _rewrite(traces_files["method"], tmp_path / "t.jsonl", lambda rows: rows[:1])  # demonstrated ones missing
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "evaluate", "--method-traces", str(short),
                           "--baseline-traces", str(traces_files["backward"]), "--pack", PACK, "--user", USER,
                           "--name", "m"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "have no trace" in errors[0] and "Traceback" not in proc.stderr


def test_the_wrong_user_pool_stops_before_this_users_test_period(build_pack_once):
    # Trump's training split runs into Biden's test debate (2020-09-29): the contexts of those turns contain
    # Biden's real test turns, so the wrong-user control must not draw demonstrations from them
    from benchmark.evaluate import load_splits
    from benchmark.evaluate.predict import other_user_pool

    build_pack_once("debates")
    cutoff = load_splits("debates", "biden")[1][0]["timestamp"]
    trump_train = load_splits("debates", "trump")[0]
    assert any(r["timestamp"] >= cutoff for r in trump_train)  # the leak this guards against exists in the data
    pool = other_user_pool("debates", "biden", "trump", None)
    assert pool and all(r["timestamp"] < cutoff for r in pool)
    assert other_user_pool("debates", "biden", "trump", 5) == pool[:5]


def test_the_training_window_takes_either_end_of_the_chronological_split():
    from benchmark.evaluate.predict import train_slice

    records = [{"id": str(i)} for i in range(10)]
    assert [r["id"] for r in train_slice(records, 3)] == ["0", "1", "2"]  # oldest, the default
    assert [r["id"] for r in train_slice(records, 3, "newest")] == ["7", "8", "9"]  # right before the test period
    assert train_slice(records, None, "newest") == records
    with pytest.raises(DataError, match="unknown training window 'middle'"):
        train_slice(records, 3, "middle")
    with pytest.raises(DataError, match="limit must be at least 1"):
        train_slice(records, 0, "newest")


def test_cli_needs_a_method_name_unless_a_baselines_manifest_gives_it(traces_files, tmp_path):
    """A result's method name never defaults to a folder name (a `baselines run` output folder is called
    `output`); the manifest that `baselines run` writes names it."""
    from benchmark.io import write_json

    run = tmp_path / "run"
    write_jsonl(run / "output" / "traces.jsonl", read_jsonl(traces_files["method"]))
    argv = [sys.executable, "-m", "benchmark.cli", "evaluate", "--method-traces", str(run / "output" / "traces.jsonl"),
            "--baseline-traces", str(traces_files["backward"]), "--pack", "no-such-pack", "--user", USER]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "give --name" in proc.stderr and "Traceback" not in proc.stderr
    write_json(run / "manifest.json", {"method": "recon_select"})
    # the manifest names the method, so the command gets past the name and stops at the unknown pack
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "give --name" not in proc.stderr and "no-such-pack" in proc.stderr
