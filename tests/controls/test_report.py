"""A tiny real run of every control produces a report that validates, records the right comparisons, is reproduced
from disk by a rerun without model calls, and is written and refused as the schema says."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark.cli import cli
from benchmark.controls import CONTROLS, read_report, recheck, run_controls, write_report
from benchmark.controls.run import controls_dir
from benchmark.errors import DataError
from benchmark.io import read_json
from benchmark.records.controls_report import check, digest, markdown

from .conftest import PACK, TINY, USER


def _result(name: str) -> dict:
    return read_json(controls_dir(PACK, USER) / "results" / "pairwise" / "smollm2-135m--smollm2-135m" / f"{name}.json")


def test_tiny_real_run_reports_every_control_and_validates(tiny_report):
    check(tiny_report)
    recheck(tiny_report)  # every status is what its recorded numbers decide (the board asks it)
    assert [c["name"] for c in tiny_report["controls"]] == list(CONTROLS)
    by_name = {c["name"]: c for c in tiny_report["controls"]}
    assert by_name["no_reasoning"]["status"] == "INFO"
    assert by_name["length"]["comparison"] is None and by_name["oracle"]["comparison"] == {
        "method": "oracle", "baseline": "backward"}
    assert tiny_report["test"]["n_evaluated"] == TINY["limit"]
    assert tiny_report["train"] == {"n_total": 128, "n_used": TINY["train_limit"], "limit": TINY["train_limit"]}
    assert tiny_report["passed"] + tiny_report["failed"] == sum(c["status"] not in ("INFO", "N/A")
                                                                for c in tiny_report["controls"])
    # pmq-sample has one user: the wrong-user control cannot apply there, and says so
    assert by_name["wrong_user"]["status"] == "N/A" and "no other user" in by_name["wrong_user"]["reason"]
    assert tiny_report["protocol"] == {"name": "pairwise", "params": {}}
    assert tiny_report["ranking"]["ranks"] is False  # SmolLM2 cannot pass the oracle on two examples


def test_self_control_fed_identical_predictions_so_every_decided_verdict_is_a_tie(tiny_report):
    result = _result("self")
    assert result["method"]["predictions_sha256"] == result["baseline"]["predictions_sha256"]
    assert result["method"]["traces_sha256"] == result["baseline"]["traces_sha256"]
    finals = {v["final"] for ex in result["examples"] for v in ex["verdicts"].values()}
    assert finals <= {"tie", "invalid"}
    assert next(c for c in tiny_report["controls"] if c["name"] == "self")["reason"].startswith(
        "predictions identical: yes")


def test_oracle_control_judged_the_real_actions(tiny_report, cameron):
    test = cameron[1][:TINY["limit"]]
    result = _result("oracle")
    assert [ex["method_chars"] for ex in result["examples"]] == [len(r["action"]) for r in test]
    assert result["method"]["reasoning"] is False


def test_shuffled_control_evaluated_other_traces_than_the_baseline(tiny_report):
    result = _result("shuffled_traces")
    assert result["method"]["traces_sha256"] != result["baseline"]["traces_sha256"]
    assert result["method"]["n_traces"] == result["baseline"]["n_traces"]


def test_rerun_makes_no_model_call_and_gives_the_same_report(tiny_report, traces_file):
    again = run_controls(PACK, USER, traces=traces_file, command="pytest tiny run", **TINY)
    assert again["digest"] == tiny_report["digest"]
    for name, costs in again["run"]["costs"].items():
        assert costs["predict"]["calls"] == 0 and costs["judge"]["calls"] == 0, name


def test_the_report_records_every_prompt_its_comparisons_used(tiny_report):
    """The board lets a report vouch only for results made with the prompts it checked (docs/leaderboard.md)."""
    from benchmark.prompts import prompt_hash

    used = {pid: h for c in tiny_report["controls"] if c["result_digest"] for pid, h in
            _result(c["name"])["prompts"].items()}
    assert tiny_report["prompts"] == used and len(used) >= 2  # the prediction prompt and the judge's
    for pid, h in used.items():
        assert h == prompt_hash(pid)  # the text the repository holds under that version
    assert "prompts checked: `" in markdown(tiny_report)


def test_write_report_records_json_markdown_and_index(tiny_report, tmp_path):
    json_path, md_path = write_report(tiny_report, tmp_path)
    assert json_path == tmp_path / "pairwise" / "smollm2-135m" / "pmq-sample--cameron.json"
    assert read_report(json_path) == tiny_report
    page = md_path.read_text()
    assert "| oracle" in page and "pytest tiny run" in page
    index = read_json(tmp_path / "index.json")
    assert [(e["protocol"], e["path"], e["ranks"]) for e in index["reports"]] == [
        ("pairwise", "pairwise/smollm2-135m/pmq-sample--cameron.json", False)]
    assert [p.name for p in json_path.parent.iterdir() if p.name.startswith(".")] == []  # no temp files left


def _redigest(doc: dict) -> dict:
    doc["digest"] = digest(doc)
    return doc


def test_malformed_reports_are_refused_naming_the_field(tiny_report, tmp_path):
    bad_status = copy.deepcopy(tiny_report)
    bad_status["controls"][0]["status"] = "MAYBE"
    with pytest.raises(DataError, match="controls/0/status"):
        check(_redigest(bad_status))

    missing = copy.deepcopy(tiny_report)
    del missing["judge"]
    with pytest.raises(DataError, match="'judge' is a required property"):
        check(_redigest(missing))

    edited = copy.deepcopy(tiny_report)
    edited["controls"][0]["value"]["estimate"] = 1.0
    with pytest.raises(DataError, match="digest"):
        check(edited)

    miscounted = copy.deepcopy(tiny_report)
    miscounted["passed"] += 1
    with pytest.raises(DataError, match="field .passed.: passed does not count"):
        check(_redigest(miscounted))

    path = tmp_path / "broken.json"
    path.write_text(json.dumps(tiny_report)[:-20])
    with pytest.raises(DataError, match="broken.json"):
        read_report(path)


def test_cli_prints_the_table_and_writes_the_report(tiny_report, traces_file, tmp_path):
    args = ["controls", "--pack", PACK, "--user", USER, "--baseline-traces", str(traces_file),
            "--reports-dir", str(tmp_path)]
    flag = {"limit": "--test-limit"}  # run_controls(limit=) is the CLI's --test-limit
    args += [a for k, v in TINY.items() for a in (flag.get(k, f"--{k.replace('_', '-')}"), str(v))]
    out = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert "shuffled_traces" in out.output and "passed" in out.output
    written = read_report(tmp_path / "pairwise" / "smollm2-135m" / "pmq-sample--cameron.json")
    assert written["controls"] == tiny_report["controls"]  # the same measurement, read back from disk
    command = shlex.split(written["command"])
    assert command[:2] == ["reconbench", "controls"]
    assert sorted(zip(command[2::2], command[3::2])) == sorted(zip(args[1::2], args[2::2]))


@pytest.mark.slow  # runs the controls with SmolLM2-135M
def test_a_likelihood_run_applies_only_its_controls(traces_file):
    # the judge-free protocol: no oracle, no judge injection, no length; self and shuffled traces run for real
    report = run_controls(PACK, USER, traces=traces_file, command="pytest likelihood",
                          **(TINY | {"protocol": "likelihood"}))
    by_name = {c["name"]: c for c in report["controls"]}
    assert {n for n, c in by_name.items() if c["status"] == "N/A"} == {"oracle", "judge_injection", "length",
                                                                       "wrong_user"}
    assert by_name["self"]["status"] == "PASS" and by_name["self"]["counts"]["ties"] == TINY["limit"]
    assert by_name["shuffled_traces"]["status"] in ("PASS", "FAIL")
    assert report["judge"]["mode"] == "likelihood"
    recheck(report)
    # one user: no positive control can apply, so this can never rank (whatever shuffled traces did on 2 turns)
    assert report["ranking"]["ranks"] is False
    if by_name["shuffled_traces"]["status"] == "PASS":
        assert report["ranking"]["reason"] == "no positive control (oracle or wrong user) passed"


@pytest.mark.slow  # runs one control with SmolLM2-135M
def test_a_probe_of_selected_controls_never_ranks(traces_file):
    # --only self: self passes and nothing fails, but the controls left out were never measured
    report = run_controls(PACK, USER, traces=traces_file, command="pytest probe", only=["self"],
                          **(TINY | {"protocol": "likelihood"}))
    by_name = {c["name"]: c for c in report["controls"]}
    assert by_name["self"]["status"] == "PASS"
    assert by_name["shuffled_traces"]["reason"] == "not run (a probe of selected controls)"
    assert report["ranking"] == {"ranks": False,
                                 "reason": "a probe of selected controls (not run: wrong_user, shuffled_traces)"}
    recheck(report)  # N/A is what a probe gives the controls it left out


def test_wrong_user_control_needs_a_way_to_make_the_other_users_traces(build_pack_once, tmp_path):
    # benchmark.controls runs no synthesis itself (issue 14): on a two-user pack, a traces file alone cannot feed
    # the wrong-user control, and the error says what to pass instead of synthesizing behind the caller's back
    build_pack_once("debates")
    with pytest.raises(DataError, match="other user's"):
        run_controls("debates", "biden", traces=tmp_path / "unused.jsonl", protocol="likelihood", limit=2,
                     train_limit=8, k=2)


def test_wrong_user_is_not_applicable_when_the_other_user_has_no_turns_before_the_test_period(build_pack_once,
                                                                                                  tmp_path):
    """briefings: every training turn of Jean-Pierre comes after Psaki's test period begins (2022-04-12), so no
    pool of hers can stand in for Psaki without reaching into that period. The control is N/A with the reason
    (decided before any synthesis: the other user's traces are never asked for) and the report cannot rank. Fake
    models: what is under test is which controls apply, not their numbers."""
    from benchmark.io import write_jsonl

    build_pack_once("briefings")
    asked = []

    def backward(pack: str, user: str, records: list[dict]) -> Path:
        asked.append(user)
        path = tmp_path / f"{user}.jsonl"
        write_jsonl(path, [{"id": r["id"], "trace": "They answer the question that was asked."} for r in records])
        return path

    report = run_controls("briefings", "psaki", backward=backward, protocol="likelihood", limit=2, train_limit=8, k=2,
                          action_model="fake-action", judge="fake-judge", backend="fake", command="pytest")
    wrong = next(c for c in report["controls"] if c["name"] == "wrong_user")
    assert wrong["status"] == "N/A"
    assert wrong["reason"].startswith("briefings/jean-pierre has 0 training records before briefings/psaki's test "
                                      "period (2022-04-12")
    assert asked == ["psaki"]
    assert report["ranking"] == {"ranks": False, "reason": "no positive control (oracle or wrong user) passed"}
