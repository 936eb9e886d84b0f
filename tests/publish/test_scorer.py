"""The scorer pools per-example verdicts across users and re-bootstraps them with the evaluation stage's statistics
(it never averages per-file numbers), breaks them down per domain and per user, and marks statistical ties."""

from __future__ import annotations

from benchmark.evaluate import summarize
from benchmark.publish import aggregate

from .conftest import PASSING, PROMPTS, all_ranked


def _row(scores, method):
    return next(r for r in scores["rows"] if r["method"] == method)


def test_pooled_win_rate_and_ci_come_from_the_pooled_verdicts(make_result, tmp_path):
    a = make_result("recon_select", "debates", "biden", ["method"] * 6 + ["baseline"] * 2 + ["tie"])
    b = make_result("recon_select", "scotus", "gorsuch", ["method"] * 1 + ["baseline"] * 5 + ["invalid"])
    row = _row(aggregate([(tmp_path / "a.json", a), (tmp_path / "b.json", b)], n_boot=300), "recon_select")
    overall = row["dimensions"]["overall"]
    assert (overall["n"], overall["wins"], overall["losses"], overall["ties"], overall["invalid"]) == (15, 7, 7, 1, 1)
    assert overall["win_rate"]["estimate"] == 0.5  # 7 / 14, ties excluded: not the mean of 0.75 and 1/6
    pooled = [ex | {"user": f"{d['pack']['name']}/{d['user']}"} for d in (a, b) for ex in d["examples"]]
    assert overall == summarize(pooled, seed=0, n_boot=300)["dimensions"]["overall"]
    assert row["users"] == ["debates/biden", "scotus/gorsuch"] and row["domains"] == ["debates", "scotus"]
    assert row["by_domain"]["debates"]["overall"]["win_rate"]["estimate"] == 0.75
    assert row["by_user"]["scotus/gorsuch"]["overall"]["wins"] == 1


def test_dimensions_are_scored_separately(make_result, tmp_path):
    finals = ["method"] * 4
    doc = make_result("recon_select", "debates", "biden", finals, dims={"style": ["baseline"] * 4})
    row = _row(aggregate([(tmp_path / "a.json", doc)], n_boot=100), "recon_select")
    assert row["dimensions"]["overall"]["win_rate"]["estimate"] == 1.0
    assert row["dimensions"]["style"]["win_rate"]["estimate"] == 0.0


def test_methods_whose_ci_reaches_the_best_are_marked_tied(make_result, tmp_path):
    results = []
    for method, wins, losses in [("strong", 26, 4), ("close", 23, 7), ("weak", 4, 26)]:
        for user in ("biden", "trump"):
            doc = make_result(method, "debates", user, ["method"] * wins + ["baseline"] * losses)
            results.append((tmp_path / f"{method}-{user}.json", doc))
    scores = aggregate(results, n_boot=500, reports=all_ranked(results))
    strong, close, weak = (_row(scores, m) for m in ("strong", "close", "weak"))
    assert strong["best"] and not strong["tied_with_best"] and strong["rank"] == 1
    assert close["tied_with_best"] and close["rank"] == 1
    assert not weak["tied_with_best"] and weak["rank"] == 3
    assert [r["method"] for r in scores["rows"]] == ["strong", "close", "weak"]


def test_ties_are_judged_within_one_action_model_and_judge(make_result, tmp_path):
    a = make_result("recon_select", "debates", "biden", ["method"] * 9 + ["baseline"])
    b = make_result("e2e_grpo", "debates", "biden", ["method"] + ["baseline"] * 9, action_model="qwen2.5-coder-0.5b")
    results = [(tmp_path / "a.json", a), (tmp_path / "b.json", b)]
    scores = aggregate(results, n_boot=200, reports=all_ranked(results))
    assert _row(scores, "recon_select")["best"] and _row(scores, "e2e_grpo")["best"]  # separate groups


def test_only_results_whose_pack_passed_its_controls_are_ranked(make_result, tmp_path):
    results = [(tmp_path / f"{m}-{p}.json", make_result(m, p, u, ["method"] * w + ["baseline"] * (10 - w)))
               for m, w in (("strong", 9), ("weak", 2)) for p, u in (("debates", "biden"), ("scotus", "sotomayor"))]
    passing = all_ranked(results)
    ranked = aggregate(results, n_boot=200, reports=passing)
    assert [(r["method"], r["rank"], r["controls"]["ranks"]) for r in ranked["rows"]] == [
        ("strong", 1, True), ("weak", 2, True)]
    assert ranked["rows"][0]["controls"]["reason"] == "controls passed on debates, scotus"
    # scotus's report fails its oracle: each method's scotus results move to an unranked row that says why, and
    # the ranked rows pool debates alone
    failing = {k: (v | {"ranks": False, "reason": "sotomayor: failed: oracle"} if k[-1] == "scotus" else v)
               for k, v in passing.items()}
    split = aggregate(results, n_boot=200, reports=failing)
    rows = [(r["method"], r["rank"], r["controls"]["ranks"], r["users"]) for r in split["rows"]]
    assert rows == [("strong", 1, True, ["debates/biden"]), ("weak", 2, True, ["debates/biden"]),
                    ("strong", None, False, ["scotus/sotomayor"]), ("weak", None, False, ["scotus/sotomayor"])]
    unranked = split["rows"][2]
    assert not unranked["best"] and unranked["controls"]["reason"] == "scotus: sotomayor: failed: oracle"
    # no report at all: nothing ranks
    missing = aggregate(results, n_boot=200, reports={})
    assert all(not r["controls"]["ranks"] and "no control report" in r["controls"]["reason"] for r in missing["rows"])


def test_results_from_the_local_runner_are_marked_unisolated(make_result, tmp_path):
    from benchmark.publish.board import render_html, render_markdown
    from benchmark.records.result import finalize

    doc = make_result("mine", "debates", "biden", ["method", "baseline", "method"])
    doc["method"]["unisolated"] = True
    doc = finalize(doc, doc["run"])  # as evaluate writes it for a local-runner submission
    other = make_result("theirs", "debates", "biden", ["method", "baseline", "baseline"])
    scores = aggregate([(tmp_path / "a.json", doc), (tmp_path / "b.json", other)], n_boot=100)
    assert _row(scores, "mine")["unisolated"] and not _row(scores, "theirs")["unisolated"]
    page = render_html(scores, [], [])
    assert page.count('class="badge unisolated"') >= 1 and "mine (unisolated)" in render_markdown(scores, [])


def test_a_result_ranks_only_with_the_demonstration_pool_its_controls_passed_with(make_result, make_report,
                                                                                   tmp_path):
    """The controls showed that the pool decides whether another person's demonstrations are told apart (oldest 48
    turns: not; the whole split: yes), so a passing report vouches for results made with its pool only."""
    from benchmark.io import write_json
    from benchmark.publish.scorer import aggregate, latest_reports
    from benchmark.records.result import finalize

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/debates--biden.json",  # the report's pool: first 24, k = 4
               make_report("debates", "biden", PASSING))

    def with_pool(method: str, limit: int | None) -> dict:
        doc = make_result(method, "debates", "biden", ["method"] * 6 + ["baseline"] * 2)
        doc = {k: v for k, v in doc.items() if k not in ("digest", "run")}
        doc["train"] = {"n_total": 400, "n_used": limit or 400, "limit": limit}
        return finalize(doc, {"created_at": "2026-01-02T03:04:05Z", "costs": {}})

    results = [(tmp_path / f"{m}.json", with_pool(m, lim)) for m, lim in (("same", 24), ("other", 8))]
    legacy = make_result("legacy", "debates", "biden", ["method"] * 3)  # records no pool: gated by the pack
    rows = {r["method"]: r for r in aggregate(results + [(tmp_path / "legacy.json", legacy)],
                                             reports=latest_reports(board))["rows"]}
    assert rows["same"]["controls"]["ranks"] and rows["legacy"]["controls"]["ranks"]
    assert not rows["other"]["controls"]["ranks"]
    assert ("the controls passed with the oldest 24 training turns, k = 4 as the demonstration pool; this result "
            "used the oldest 8 training turns, k = 4") in rows["other"]["controls"]["reason"]


def test_a_result_ranks_only_with_the_generation_settings_its_controls_checked(make_result, make_report, tmp_path):
    """Longer predictions, another seed or another judge mode give other verdicts than the controls checked: the
    report vouches only for results made with its own (a pairwise report: max_tokens 64, seed 0, mode options)."""
    from benchmark.io import write_json
    from benchmark.publish.scorer import aggregate, latest_reports
    from benchmark.records.result import finalize

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/debates--biden.json", make_report("debates", "biden", PASSING))

    def made(method: str, change) -> dict:
        doc = make_result(method, "debates", "biden", ["method"] * 6 + ["baseline"] * 2)
        doc = {k: v for k, v in doc.items() if k not in ("digest", "run")}
        change(doc)
        return finalize(doc, {"created_at": "2026-01-02T03:04:05Z", "costs": {}})

    def longer(doc):
        doc["settings"]["prediction"]["max_tokens"] = 512

    def reseeded(doc):
        doc["seeds"]["generation"] = 7

    results = [(tmp_path / f"{m}.json", made(m, c)) for m, c in (("same", lambda d: None), ("longer", longer),
                                                                   ("reseeded", reseeded))]
    rows = {r["method"]: r for r in aggregate(results, reports=latest_reports(board))["rows"]}
    assert rows["same"]["controls"]["ranks"]
    assert not rows["longer"]["controls"]["ranks"] and not rows["reseeded"]["controls"]["ranks"]
    assert ("the controls checked the predictions and judge made with judge_mode = options, max_tokens = 64, "
            "seed = 0; this result used judge_mode = options, max_tokens = 512, seed = 0"
            in rows["longer"]["controls"]["reason"])
    assert "this result used judge_mode = options, max_tokens = 64, seed = 7" in rows["reseeded"]["controls"]["reason"]


def test_a_result_ranks_only_with_the_prompt_versions_its_controls_checked(make_result, make_report, tmp_path):
    """A judge prompt changed after the controls ran is not what they checked: the report vouches only for results
    whose every prompt it recorded with the same hash, and a report that records no prompts vouches for nothing."""
    from benchmark.io import write_json
    from benchmark.publish.scorer import aggregate, latest_reports
    from benchmark.records.result import finalize

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/debates--biden.json", make_report("debates", "biden", PASSING))
    write_json(board / "controls/pairwise/smollm2/scotus--sotomayor.json",
               make_report("scotus", "sotomayor", PASSING, prompts=None))

    def with_prompts(method: str, pack: str, user: str, prompts: dict) -> dict:
        doc = make_result(method, pack, user, ["method"] * 6 + ["baseline"] * 2)
        doc = {k: v for k, v in doc.items() if k not in ("digest", "run")} | {"prompts": prompts}
        return finalize(doc, {"created_at": "2026-01-02T03:04:05Z", "costs": {}})

    results = [(tmp_path / "same.json", with_prompts("same", "debates", "biden", dict(PROMPTS))),
               (tmp_path / "v2.json", with_prompts("v2", "debates", "biden", {"judge_pairwise.v2": "a" * 64})),
               (tmp_path / "edited.json", with_prompts("edited", "debates", "biden", {"judge_pairwise.v1": "b" * 64})),
               (tmp_path / "old.json", with_prompts("old", "scotus", "sotomayor", dict(PROMPTS)))]
    rows = {r["method"]: r["controls"] for r in aggregate(results, reports=latest_reports(board))["rows"]}
    assert rows["same"]["ranks"]
    assert not rows["v2"]["ranks"] and "used judge_pairwise.v2, which they did not check" in rows["v2"]["reason"]
    assert not rows["edited"]["ranks"] and "used judge_pairwise.v1" in rows["edited"]["reason"]
    assert not rows["old"]["ranks"] and "does not record which prompt versions" in rows["old"]["reason"]


def test_a_pack_vouches_only_for_prompts_every_passing_user_checked(make_report, tmp_path):
    from benchmark.io import write_json
    from benchmark.publish.scorer import latest_reports

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/forum--a.json", make_report("forum", "a", PASSING))
    write_json(board / "controls/pairwise/smollm2/forum--b.json",
               make_report("forum", "b", PASSING, prompts={"judge_pairwise.v1": "b" * 64}))
    (entry,) = latest_reports(board).values()
    assert entry["ranks"] and entry["prompts"] == {}


def test_a_result_ranks_only_when_its_own_user_split_was_checked(make_result, make_report, tmp_path):
    """The wrong-user control checks the yardstick on one user's test turns: a passing report for Biden says nothing
    of Trump's turns, so a result on debates/trump stays unranked until Trump's own split has a passing report."""
    from benchmark.io import write_json
    from benchmark.publish.scorer import aggregate, latest_reports

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/debates--biden.json", make_report("debates", "biden", PASSING))
    results = [(tmp_path / f"{u}.json", make_result(u, "debates", u, ["method"] * 6 + ["baseline"] * 2))
               for u in ("biden", "trump")]
    rows = {r["method"]: r["controls"] for r in aggregate(results, reports=latest_reports(board))["rows"]}
    assert rows["biden"]["ranks"]
    assert not rows["trump"]["ranks"]
    assert "no control report for debates/trump (the controls checked biden" in rows["trump"]["reason"]
    write_json(board / "controls/pairwise/smollm2/debates--trump.json", make_report("debates", "trump", PASSING))
    rows = {r["method"]: r["controls"] for r in aggregate(results, reports=latest_reports(board))["rows"]}
    assert rows["biden"]["ranks"] and rows["trump"]["ranks"]


def test_a_result_in_another_precision_is_kept_apart_and_not_gated_by_float32_controls(make_result, make_report,
                                                                                        tmp_path):
    """The same weights in bfloat16 (a GPU's default) give other log-probabilities than in float32, where the
    controls ran: such a result is its own row and group, finds no report, and takes its own store file."""
    from benchmark.io import write_json
    from benchmark.publish.scorer import aggregate, latest_reports
    from benchmark.publish.store import result_key, store_path
    from benchmark.records.result import finalize

    board = tmp_path / "board"
    write_json(board / "controls/pairwise/smollm2/debates--biden.json", make_report("debates", "biden", PASSING))

    def made_in(dtype: str | None) -> dict:
        doc = make_result("m", "debates", "biden", ["method"] * 6 + ["baseline"] * 2)
        doc = {k: v for k, v in doc.items() if k not in ("digest", "run")}
        if dtype:
            doc["action_model"] = doc["action_model"] | {"dtype": dtype}
            doc["judge"] = doc["judge"] | {"dtype": dtype}
        return finalize(doc, {"created_at": "2026-01-02T03:04:05Z", "costs": {}})

    old, fp32, bf16 = made_in(None), made_in("float32"), made_in("bfloat16")
    rows = aggregate([(tmp_path / "fp32.json", fp32), (tmp_path / "bf16.json", bf16)],
                     reports=latest_reports(board))["rows"]
    assert len(rows) == 2
    by_dtype = {r["action_model"].get("dtype"): r["controls"] for r in rows}
    assert by_dtype["float32"]["ranks"]
    assert not by_dtype["bfloat16"]["ranks"]
    assert "no control report for this protocol, judge and action model in bfloat16" in by_dtype["bfloat16"]["reason"]
    # a file that predates the field was made in float32 on the CPU: it ranks beside the new float32 one
    (row,) = aggregate([(tmp_path / "old.json", old), (tmp_path / "fp32.json", fp32)],
                       reports=latest_reports(board))["rows"]
    assert row["controls"]["ranks"] and len(row["results"]) == 2
    assert result_key(old) == result_key(fp32) != result_key(bf16)
    assert store_path(old, tmp_path) == store_path(fp32, tmp_path)
    assert store_path(bf16, tmp_path).name.endswith("--bfloat16.json")


def test_a_precision_that_is_not_a_plain_name_is_refused(make_result, tmp_path):
    """The precision is printed in the board's Markdown table: only a plain lower-case name gets in."""
    import pytest

    from benchmark import publish
    from benchmark.errors import DataError
    from benchmark.io import write_json
    from benchmark.records.result import digest

    for dtype in ("bf16 | forged | row", "BFLOAT16", "", "x" * 40):
        doc = make_result("m", "debates", "biden", ["method"] * 2)
        doc["action_model"] = doc["action_model"] | {"dtype": dtype}
        write_json(tmp_path / "bad.json", doc | {"digest": digest(doc)})  # forged by hand, digest and all
        with pytest.raises(DataError) as e:
            publish.load_result(tmp_path / "bad.json")
        assert e.value.field == "action_model/dtype"
