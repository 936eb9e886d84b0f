"""A control report is what its own recorded numbers decide. Guards the red-team finding of 2026-12-01: a report's
``ranking`` was trusted as recorded, and neither a status nor an N/A was checked against the numbers beside it, so
debates/trump's report (wrong user FAILS: 76 won, 74 lost) with ``ranks`` set to true, or its wrong-user status
typed as PASS, or shuffled traces typed as N/A, and the digest recomputed with the project's own function, ranked
the debates pack on the board. Runs on the reports committed in ``leaderboard/controls`` (no model)."""

from __future__ import annotations

import copy
import shutil

import pytest

from benchmark import paths, publish
from benchmark.controls import recheck
from benchmark.errors import DataError
from benchmark.io import read_json, write_json
from benchmark.records.controls_report import check, digest, ranking

CONTROLS = paths.LEADERBOARD_DIR / "controls"
TRUMP = CONTROLS / "likelihood" / "smollm2-135m" / "debates--trump.json"


def _forge(report: dict, change) -> dict:
    """``report`` edited by ``change(entries_by_name, report)``, with counts, ranking and digest made consistent by the
    project's own functions, as a forger would."""
    doc = copy.deepcopy(report)
    change({c["name"]: c for c in doc["controls"]}, doc)
    doc["passed"] = sum(c["status"] == "PASS" for c in doc["controls"])
    doc["failed"] = sum(c["status"] == "FAIL" for c in doc["controls"])
    ok, why = ranking({c["name"]: c["status"] for c in doc["controls"]})
    doc["ranking"] = {"ranks": ok, "reason": why}
    doc["digest"] = digest(doc)
    return doc


@pytest.fixture
def trump() -> dict:
    report = read_json(TRUMP)
    assert {c["name"]: c["status"] for c in report["controls"]}["wrong_user"] == "FAIL"
    return report


def test_every_committed_report_is_what_its_numbers_decide():
    files = sorted(p for p in CONTROLS.rglob("*.json") if p.name != "index.json")
    assert len(files) >= 30
    for path in files:
        report = read_json(path)
        check(report, file=path)
        recheck(report, file=path)


def test_a_recorded_ranking_that_the_statuses_do_not_give_is_refused(trump):
    forged = copy.deepcopy(trump)
    forged["ranking"] = {"ranks": True, "reason": "passed: wrong_user, self, shuffled_traces"}
    forged["digest"] = digest(forged)
    with pytest.raises(DataError, match="ranking .* is not what the statuses give") as e:
        check(forged)
    assert e.value.field == "ranking"


def test_a_status_its_numbers_do_not_give_is_refused(trump):
    def pass_wrong_user(by_name, _):
        by_name["wrong_user"]["status"] = "PASS"

    forged = _forge(trump, pass_wrong_user)
    check(forged)  # schema, digest, counts and ranking are all consistent: only the numbers tell
    assert forged["ranking"]["ranks"] is True
    with pytest.raises(DataError, match="wrong_user is recorded PASS, but its recorded numbers decide FAIL") as e:
        recheck(forged)
    assert e.value.field == "controls/wrong_user/status"


def test_an_estimate_its_counts_do_not_give_is_refused(trump):
    def lower_the_estimate(by_name, _):
        c = by_name["wrong_user"]
        c["value"] = {"estimate": 0.3, "ci_low": 0.2, "ci_high": 0.4}
        c["status"] = "PASS"

    with pytest.raises(DataError, match="wrong_user's estimate 0.3 is not what its counts give") as e:
        recheck(_forge(trump, lower_the_estimate))
    assert e.value.field == "controls/wrong_user/value"


@pytest.mark.parametrize("control,status,message", [
    ("shuffled_traces", "N/A", "shuffled_traces applies to the likelihood protocol and this report is no probe"),
    ("oracle", "PASS", "oracle does not apply to the likelihood protocol, yet is recorded PASS"),
])
def test_a_status_this_version_never_gives_is_refused(trump, control, status, message):
    def change(by_name, _):
        by_name[control]["status"] = status
        by_name[control]["reason"] = "made up"

    with pytest.raises(DataError, match=message):
        recheck(_forge(trump, change))


def test_other_thresholds_are_refused(trump):
    def loosen(_, doc):
        doc["settings"]["thresholds"]["oracle_min_win_rate"] = 0.5

    with pytest.raises(DataError, match="other thresholds") as e:
        recheck(_forge(trump, loosen))
    assert e.value.field == "settings/thresholds"


def test_a_forged_report_does_not_rank_its_pack_on_the_board(trump, tmp_path):
    """The whole path: the published results and reports, trump's report replaced by one whose wrong-user status
    was typed PASS. The board refuses it, and a refused report still counts as trump's, so the debates pack stays
    unranked (it must not rank on biden's report alone, as it would if the forgery were merely skipped); every other
    row is as before."""
    board = tmp_path / "leaderboard"
    for sub in ("results", "controls"):
        shutil.copytree(paths.LEADERBOARD_DIR / sub, board / sub)
    publish.build(board)

    def view(rows):
        return [(r["method"], r["protocol"], r["judge"]["name"], r["users"], r["controls"]["ranks"]) for r in rows]

    honest = read_json(board / "scores.json")["rows"]
    assert any(r["controls"]["ranks"] for r in honest)
    assert not any(r["controls"]["ranks"] and any(u.startswith("debates/") for u in r["users"]) for r in honest)

    def pass_wrong_user(by_name, _):
        by_name["wrong_user"]["status"] = "PASS"

    write_json(board / TRUMP.relative_to(paths.LEADERBOARD_DIR), _forge(trump, pass_wrong_user))
    publish.build(board)
    rows = read_json(board / "scores.json")["rows"]
    assert view(rows) == view(honest)
    reasons = " ".join(r["controls"]["reason"] for r in rows)
    assert ("trump: report refused: wrong_user is recorded PASS, but its recorded numbers decide FAIL "
            "(field controls/wrong_user/status)") in reasons


@pytest.mark.parametrize("how", ["status typed, digest left", "not JSON"])
def test_a_broken_report_blocks_its_pack_instead_of_leaving_its_user_unreported(trump, tmp_path, how):
    """Skipping an unreadable report would make its user unreported, and the pack would then rank on the other
    user's passing report alone (biden's): the easiest forgery of all, an edited status whose digest no longer
    matches, would have ranked debates/biden. By its path the broken file blocks its pack."""
    board = tmp_path / "leaderboard"
    for sub in ("results", "controls"):
        shutil.copytree(paths.LEADERBOARD_DIR / sub, board / sub)
    publish.build(board)
    honest = read_json(board / "scores.json")["rows"]
    target = board / TRUMP.relative_to(paths.LEADERBOARD_DIR)
    if how == "not JSON":
        target.write_text("{", encoding="utf-8")
    else:
        edited = copy.deepcopy(trump)
        next(c for c in edited["controls"] if c["name"] == "wrong_user")["status"] = "PASS"
        write_json(target, edited)
    publish.build(board)
    rows = read_json(board / "scores.json")["rows"]
    assert [(r["method"], r["users"], r["controls"]["ranks"]) for r in rows] == \
        [(r["method"], r["users"], r["controls"]["ranks"]) for r in honest]
    reason = "trump: report controls/likelihood/smollm2-135m/debates--trump.json refused: "
    assert any(reason in r["controls"]["reason"] for r in rows if not r["controls"]["ranks"])
