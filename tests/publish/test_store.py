"""The results store refuses bad input before it changes anything: a malformed, tampered, foreign-baseline or
duplicate result file gets a clear DataError naming the file (and field), and the board stays byte-identical."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmark import publish
from benchmark.errors import DataError
from benchmark.paths import REPO_ROOT


def snapshot(board):
    return {p.relative_to(board).as_posix(): p.read_bytes() for p in sorted(board.rglob("*")) if p.is_file()}


@pytest.fixture
def seeded(board, write_result, make_result):
    """A board holding one result (recon_select on debates/biden)."""
    publish.add(write_result(make_result("recon_select", "debates", "biden", ["method"] * 5 + ["baseline"] * 3),
                             "seed.json"), board)
    return board


def test_add_stores_result_and_builds_board(seeded):
    stored = sorted((seeded / "results").rglob("*.json"))
    assert [p.relative_to(seeded / "results").parts[:2] for p in stored] == [("debates", "biden")]
    assert {"index.html", "LEADERBOARD.md", "scores.json"} <= {p.name for p in seeded.iterdir()}
    assert "recon_select" in (seeded / "LEADERBOARD.md").read_text()


def _edited_verdict(doc):
    doc["examples"][0]["verdicts"]["overall"]["final"] = "baseline"  # digest no longer matches


def _missing_field(doc):
    del doc["judge"]


def _wrong_type(doc):
    doc["summary"]["dimensions"]["overall"]["wins"] = "five"


def _text_smuggled(doc):
    doc["examples"][0]["predicted_action"] = "words from the corpus"  # result files carry ids and verdicts only


@pytest.mark.parametrize("edit, field", [(_edited_verdict, "digest"), (_missing_field, None),
                                         (_wrong_type, "summary/dimensions/overall/wins"),
                                         (_text_smuggled, "examples/0")])
def test_malformed_result_is_refused_and_board_unchanged(seeded, write_result, make_result, edit, field):
    doc = make_result("e2e_grpo", "debates", "trump", ["method", "baseline", "tie"])
    edit(doc)
    path = write_result(doc, "bad.json")
    before = snapshot(seeded)
    with pytest.raises(DataError) as err:
        publish.add(path, seeded)
    assert str(path) in str(err.value)
    if field:
        assert err.value.field == field
    assert snapshot(seeded) == before


def test_not_json_is_refused_and_board_unchanged(seeded, tmp_path):
    path = tmp_path / "truncated.json"
    path.write_text('{"schema_version": 1, "digest": ')
    before = snapshot(seeded)
    with pytest.raises(DataError, match="not valid JSON"):
        publish.add(path, seeded)
    assert snapshot(seeded) == before


def test_result_against_another_baseline_is_refused(seeded, write_result, make_result):
    path = write_result(make_result("recon_select", "debates", "trump", ["method"], baseline="no_reasoning"), "x.json")
    before = snapshot(seeded)
    with pytest.raises(DataError, match="compares against 'backward'") as err:
        publish.add(path, seeded)
    assert err.value.field == "baseline/name"
    assert snapshot(seeded) == before


@pytest.mark.parametrize("finals", [["method"] * 5 + ["baseline"] * 3, ["tie"] * 4],
                         ids=["same-result", "different-result-same-key"])
def test_duplicate_result_is_refused_and_board_unchanged(seeded, write_result, make_result, finals):
    path = write_result(make_result("recon_select", "debates", "biden", finals), "again.json")
    before = snapshot(seeded)
    with pytest.raises(DataError, match="duplicate: .* already holds"):
        publish.add(path, seeded)
    assert snapshot(seeded) == before


def test_same_method_with_another_action_model_is_not_a_duplicate(seeded, write_result, make_result):
    publish.add(write_result(make_result("recon_select", "debates", "biden", ["method"],
                                         action_model="qwen2.5-coder-0.5b"), "qwen.json"), seeded)
    assert len(list((seeded / "results").rglob("*.json"))) == 2


def test_cli_refusal_is_one_line_with_exit_code_2(seeded, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema_version": 1}))
    before = snapshot(seeded)
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "leaderboard", "add", str(bad), "--board",
                           str(seeded)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: file ") and "does not match schema 'result'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(seeded) == before


# Hostile JSON a result file may hold: each must be a one-line refusal naming the file (exit code 2), never a
# traceback, and the store must stay as it was. Before 2026-12-01 the first two were a RecursionError and a
# ValueError traceback, and NaN was accepted by the parser (it compares false with everything).
HOSTILE_JSON = {
    "deep": ("[" * 100_000 + "]" * 100_000, "JSON nested too deeply (at most 32 levels)"),
    "bigint": ('{"schema_version": ' + "9" * 5000 + "}", "an integer of 5000 digits (at most 64)"),
    "nan": ('{"schema_version": NaN}', "NaN is not JSON"),
    "infinity": ('{"schema_version": -Infinity}', "-Infinity is not JSON"),
    "overflow": ('{"schema_version": 1e999}', "the number 1e999 is out of range"),
    "surrogate": ('{"method": {"name": "\\udc80"}}', "text that is not valid Unicode"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_JSON))
def test_hostile_json_in_a_result_file_is_a_one_line_refusal(name, seeded, tmp_path):
    text, message = HOSTILE_JSON[name]
    bad = tmp_path / f"{name}.json"
    bad.write_text(text, encoding="utf-8")
    before = snapshot(seeded)
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "leaderboard", "add", str(bad), "--board",
                           str(seeded)], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"error: file {bad}: unacceptable JSON: {message}"), proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(seeded) == before


def test_a_result_cannot_ask_the_store_for_a_billion_bootstrap_draws(board, write_result, make_result):
    # the store redraws the bootstrap to check the summary; a file asking for 10**9 draws killed it (memory)
    from benchmark.records.result import digest

    doc = make_result("recon_select", "debates", "biden", ["method", "baseline"])
    doc["seeds"]["bootstrap_samples"] = 10**9
    doc["digest"] = digest(doc)
    with pytest.raises(DataError, match="greater than the maximum of 100000") as e:
        publish.add(write_result(doc, "greedy.json"), board)
    assert e.value.field == "seeds/bootstrap_samples"
    assert not list(publish.results_dir(board).rglob("*.json"))


def test_adding_several_files_is_all_or_nothing(board, write_result, make_result):
    # the second file is malformed: the first must not stay published (the red team saw it stay before)
    from benchmark.errors import DataError

    good = write_result(make_result("recon_select", "debates", "biden", ["method", "baseline"]), "good.json")
    bad = write_result({"not": "a result"}, "bad.json")
    with pytest.raises(DataError):
        publish.add_many([good, bad], board)
    assert not list(publish.results_dir(board).rglob("*.json"))
    dup = write_result(make_result("recon_select", "debates", "biden", ["method", "method"]), "dup.json")
    with pytest.raises(DataError, match="same \\(submission"):
        publish.add_many([good, dup], board)
    assert not list(publish.results_dir(board).rglob("*.json"))
    assert len(publish.add_many([good], board)) == 1


def test_replace_swaps_a_same_key_result_keeps_an_identical_one_and_restores_on_failure(seeded, write_result,
                                                                                       make_result):
    """What `reconbench grid` publishes with: a rerun's result replaces the stored one of its key; the same result
    is left alone; a refused batch puts every replaced file back."""
    stored = next((seeded / "results").rglob("*.json"))
    same = write_result(make_result("recon_select", "debates", "biden", ["method"] * 5 + ["baseline"] * 3), "s.json")
    assert publish.add_many([same], seeded, replace=True) == [stored]
    newer = write_result(make_result("recon_select", "debates", "biden", ["tie"] * 4), "newer.json")
    before = snapshot(seeded)
    bad = write_result({"not": "a result"}, "bad.json")
    with pytest.raises(DataError):
        publish.add_many([newer, bad], seeded, replace=True)
    assert snapshot(seeded) == before
    broken = write_result(make_result("recon_grpo", "debates", "biden", ["tie"]), "broken.json")
    doc = json.loads(broken.read_text())
    doc["summary"]["dimensions"]["overall"]["wins"] = 99  # an edited file: refused before anything changes
    broken.write_text(json.dumps(doc))
    with pytest.raises(DataError):
        publish.add_many([newer, broken], seeded, replace=True)
    assert snapshot(seeded) == before
    publish.add_many([newer], seeded, replace=True)
    docs = [json.loads(p.read_text()) for p in (seeded / "results").rglob("*.json")]
    assert len(docs) == 1 and docs[0]["summary"]["dimensions"]["overall"]["ties"] == 4


def test_cli_add_replace_swaps_the_stored_result(seeded, write_result, make_result):
    from click.testing import CliRunner

    from benchmark.cli import cli

    newer = write_result(make_result("recon_select", "debates", "biden", ["tie"] * 4), "newer.json")
    refused = CliRunner().invoke(cli, ["leaderboard", "add", str(newer), "--board", str(seeded)])
    assert refused.exit_code != 0 and "duplicate" in str(refused.exception)
    done = CliRunner().invoke(cli, ["leaderboard", "add", "--replace", str(newer), "--board", str(seeded)])
    assert done.exit_code == 0, done.output
    docs = [json.loads(p.read_text()) for p in (seeded / "results").rglob("*.json")]
    assert len(docs) == 1 and docs[0]["summary"]["dimensions"]["overall"]["ties"] == 4
