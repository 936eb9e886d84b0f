"""scripts/controls_table.py over the recorded reports in leaderboard/controls/ (the tables of docs/controls.md)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from benchmark.records.controls_report import read_report

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "leaderboard" / "controls"


def _script() -> dict:
    return runpy.run_path(str(ROOT / "scripts" / "controls_table.py"))


def test_oracle_matrix_has_one_row_per_protocol_and_judge_and_a_column_per_split():
    reports = [read_report(p) for p in sorted(REPORTS.rglob("*.json")) if p.name != "index.json"]
    lines = _script()["oracle_matrix"](reports).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[:2] == ["protocol", "judge"]
    assert {"pmq-sample/cameron", "debates/biden", "scotus/sotomayor"} <= set(header[2:])
    rows = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in lines[2:]}
    judge_protocols = {p for p, _ in rows}
    assert judge_protocols <= {"pairwise", "pairwise-calibrated", "pointwise"}  # likelihood has no oracle
    # the recorded finding of docs/controls.md: pointwise x Qwen-1.5B passes the oracle on all three packs
    assert rows[("pointwise", "qwen2.5-coder-1.5b")].count(" PASS;") == 3


def test_no_probes_leaves_out_reports_made_with_only(capsys):
    main = _script()["main"]
    main(["--no-probes", str(REPORTS)])
    full = capsys.readouterr().out
    main([str(REPORTS)])
    everything = capsys.readouterr().out
    assert "not run" not in full and "not run" in everything
    assert len(full.splitlines()) < len(everything.splitlines())


def test_bad_input_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    main = _script()["main"]
    with pytest.raises(SystemExit) as missing:
        main([str(tmp_path / "nope")])
    assert missing.value.code == 2 and "no such file or folder" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"pack": 1}')
    with pytest.raises(SystemExit) as invalid:
        main([str(bad)])
    err = capsys.readouterr().err
    assert invalid.value.code == 2 and "bad.json" in err and "Traceback" not in err
