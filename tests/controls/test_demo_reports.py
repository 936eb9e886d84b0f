"""The demo attaches the control report that gates its pack on the published board: the repository's recorded
report for the same pack, protocol and model (action model and judge), and nothing else."""

from __future__ import annotations

import shutil

from benchmark import paths
from benchmark.demo import recorded_reports
from benchmark.records.controls_report import read_report


def test_recorded_reports_match_pack_protocol_and_model(tmp_path, monkeypatch):
    src = sorted((paths.LEADERBOARD_DIR / "controls" / "likelihood").rglob("*.json"))
    assert src, "no recorded likelihood control report in leaderboard/controls"
    board = tmp_path / "leaderboard"
    for p in src:
        dest = board / "controls" / p.relative_to(paths.LEADERBOARD_DIR / "controls")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, dest)
    (board / "controls" / "likelihood" / "broken.json").write_text("{")  # unreadable: ignored, never an error
    monkeypatch.setattr(paths, "LEADERBOARD_DIR", board)
    rep = read_report(src[0])
    pack, fp = rep["pack"]["name"], rep["action_model"]["fingerprint"]
    model, other = {"fingerprint": fp}, {"fingerprint": "0" * 64}
    found = recorded_reports(pack, "likelihood", model, model)  # likelihood: the judge is the action model
    assert found and all(read_report(p)["pack"]["name"] == pack for p in found)
    assert recorded_reports(pack, "likelihood", model | {"dtype": "float32"}, model) == found  # the CPU default
    assert recorded_reports(pack, "pairwise", model, model) == []
    assert recorded_reports(pack, "likelihood", other, model) == []
    assert recorded_reports(pack, "likelihood", model, other) == []
    # the same weights in bfloat16 (a GPU's default) are not what the float32 reports checked
    assert recorded_reports(pack, "likelihood", model | {"dtype": "bfloat16"}, model | {"dtype": "bfloat16"}) == []
    assert recorded_reports("no-such-pack", "likelihood", model, model) == []
