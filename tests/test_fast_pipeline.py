"""The evaluation pipeline end to end in seconds: the real pmq-sample pack (built from the raw corpus in under a
second), real retrieval (all-MiniLM-L6-v2) and the ``fake`` LM backend as action model and judge. What is under
test is the pipeline's logic (slicing, prompts, both judge orders, statistics, the result file, reruns), not any
model; the real-model runs of the same pipeline are in tests/evaluate (slow tier)."""

from __future__ import annotations

import pytest

from benchmark.evaluate import evaluate, load_splits, read_result

PACK, USER = "pmq-sample", "cameron"
SLICE = {"limit": 8, "k": 2, "max_tokens": 64, "n_boot": 200, "seed": 0}
MODELS = {"action_model": "fake-action", "judge": "fake-judge", "backend": "fake"}
BASELINE_TRACE = "He answers because he was asked a question."


@pytest.fixture(scope="module")
def traces(build_pack_once) -> dict[str, dict[str, str]]:
    """A method's traces that say something about each example (who asked, about what) and a baseline's fixed
    sentence, as ``{training id: trace}``."""
    build_pack_once(PACK)
    train, _ = load_splits(PACK, USER)
    method = {r["id"]: f"{r['context'][-1]['speaker']} raised {' '.join(r['context'][-1]['text'].split()[:12])}; "
                        f"he turns it into an attack on the Opposition's record." for r in train}
    return {"method": method, "backward": {r["id"]: BASELINE_TRACE for r in train}}


def run(traces: dict, protocol: str, out, method: str = "method", baseline: str = "backward") -> dict:
    return evaluate(traces[method], traces[baseline], PACK, USER, method_name=method, protocol=protocol,
                    out=out, **MODELS, **SLICE)


@pytest.mark.parametrize("protocol", ["pairwise", "likelihood", "likelihood-reasoned"])
def test_fake_models_give_a_valid_result_and_an_identical_rerun(traces, tmp_path, protocol):
    first = run(traces, protocol, tmp_path / "first.json")
    doc = read_result(tmp_path / "first.json")  # validates against result.schema.json
    assert doc["protocol"]["name"] == protocol and doc["digest"] == first["digest"]
    assert doc["test"]["n_evaluated"] == SLICE["limit"] and len(doc["examples"]) == SLICE["limit"]
    assert doc["action_model"]["backend"] == "fake" and doc["action_model"]["name"] == "fake-action"
    finals = [v["final"] for ex in doc["examples"] for v in ex["verdicts"].values()]
    # the fake models have enough structure for the verdicts to be decided, and not all the same way
    assert "invalid" not in finals and len(set(finals)) > 1, finals
    stage = "judge" if protocol == "pairwise" else "likelihood"  # likelihood-reasoned also predicts first
    assert doc["run"]["costs"][stage]["calls"] > 0
    if protocol == "likelihood":  # no generation at all
        assert doc["run"]["costs"]["predict"]["calls"] == 0 and set(doc["prompts"]) == {"action_likelihood.v1"}
    else:  # predicted first (the predictions may come from an earlier test's saved rows, so no call count here)
        assert "action_prediction.v1" in doc["prompts"] and doc["predictions"]["method"]["n"] == SLICE["limit"]

    again = run(traces, protocol, tmp_path / "again.json")
    costs = again["run"]["costs"]
    assert all(costs[s]["calls"] == 0 for s in ("predict", "judge", "likelihood", "retrieve")), costs
    a, b = read_result(tmp_path / "first.json"), read_result(tmp_path / "again.json")
    a.pop("run"), b.pop("run")  # time, costs and git revision are the only parts allowed to differ
    assert a == b and again["digest"] == first["digest"]


@pytest.mark.parametrize("protocol", ["pairwise", "likelihood", "likelihood-reasoned"])
def test_a_side_against_itself_ties_every_example(traces, tmp_path, protocol):
    result = run(traces, protocol, tmp_path / "self.json", method="backward")
    s = result["summary"]["dimensions"]["overall"]
    assert s["ties"] == SLICE["limit"] and s["wins"] == s["losses"] == s["invalid"] == 0
    assert s["win_rate"]["estimate"] is None and s["win_rate_ties_half"]["estimate"] == 0.5


@pytest.mark.parametrize("protocol", ["pairwise", "likelihood", "likelihood-reasoned"])
def test_traces_for_just_the_demonstrated_records_give_the_same_numbers(traces, tmp_path, protocol):
    """Retrieval reads contexts, never traces: traces synthesized for only the training records the slice shows as
    demonstrations score exactly like whole-split traces; leaving out one of those records is refused by name."""
    from benchmark.errors import DataError
    from benchmark.retrieval import demonstrated

    train, test = load_splits(PACK, USER)
    shown = [r["id"] for r in demonstrated(train, test[:SLICE["limit"]], SLICE["k"])]
    assert 0 < len(shown) < len(train)
    full = run(traces, protocol, tmp_path / "full.json")
    part = {side: {i: t[i] for i in shown} for side, t in traces.items()}
    partial = run(part, protocol, tmp_path / "part.json")
    assert partial["examples"] == full["examples"] and partial["summary"] == full["summary"]
    assert partial["method"]["n_traces"] == len(shown) < full["method"]["n_traces"]

    gap = {side: {i: t[i] for i in shown[1:]} for side, t in traces.items()}
    with pytest.raises(DataError, match="training records shown as demonstrations have no trace") as e:
        run(gap, protocol, tmp_path / "gap.json")
    assert e.value.record == shown[0] and e.value.field == "id"


def test_a_result_records_its_settings_and_another_bootstrap_draw_recomputes_nothing(traces, tmp_path):
    from dataclasses import replace

    from benchmark.evaluate.settings import EvalSettings

    settings = EvalSettings(action_model="fake-action", judge="fake-judge", backend="fake", protocol="pairwise",
                            k=2, test_limit=8, seed=3, bootstrap_seed=11, max_tokens=64)
    first = evaluate(traces["method"], traces["backward"], PACK, USER, method_name="method", n_boot=200,
                     out=tmp_path / "a.json", **settings.kwargs())
    assert EvalSettings.from_result(read_result(tmp_path / "a.json")) == settings
    assert first["seeds"] == {"generation": 3, "bootstrap": 11, "bootstrap_samples": 200}
    redrawn = evaluate(traces["method"], traces["backward"], PACK, USER, method_name="method", n_boot=200,
                       out=tmp_path / "b.json", **replace(settings, bootstrap_seed=12).kwargs())
    costs = redrawn["run"]["costs"]
    assert costs["predict"]["calls"] == costs["judge"]["calls"] == 0, costs  # the predictions are the seed's
    assert [ex["verdicts"] for ex in redrawn["examples"]] == [ex["verdicts"] for ex in first["examples"]]
    assert redrawn["eval_settings"]["bootstrap_seed"] == 12 and redrawn["digest"] != first["digest"]


def test_results_made_before_settings_were_recorded_still_load_and_give_their_settings():
    from benchmark.evaluate.settings import EvalSettings
    from benchmark.paths import LEADERBOARD_DIR

    files = sorted((LEADERBOARD_DIR / "results").rglob("*.json"))
    assert files, "the repository records reference results"
    for path in files:
        doc = read_result(path)
        settings = EvalSettings.from_result(doc)
        assert settings.protocol == doc.get("protocol", {}).get("name", "pairwise"), path
        assert settings.k == doc["retrieval"]["k"] and settings.test_limit == doc["test"]["limit"], path


def test_a_rescored_result_records_the_settings_its_verdicts_were_decided_with(traces, tmp_path):
    from benchmark.evaluate.rescore import rescore
    from benchmark.evaluate.settings import EvalSettings

    doc = run(traces, "pairwise", tmp_path / "pairwise.json")
    new = rescore(doc, protocol="pairwise-calibrated", params={"tie_band": 0.1})
    from dataclasses import replace

    asked = EvalSettings.from_result(doc)
    assert asked.protocol == "pairwise" and asked.tie_band is None
    assert EvalSettings.from_result(new) == replace(asked, protocol="pairwise-calibrated", tie_band=0.1)


def test_compare_protocols_script_pairs_results_by_name_and_counts_agreement(traces, tmp_path):
    """scripts/compare_protocols.py: the same comparison under two protocols, verdict agreement per record."""
    import runpy
    from pathlib import Path

    for protocol in ("likelihood", "likelihood-reasoned"):
        (tmp_path / protocol).mkdir()
        run(traces, protocol, tmp_path / protocol / "method.json")
        run(traces, protocol, tmp_path / protocol / "self.json", method="backward")
    script = runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "compare_protocols.py"))
    a, b = (read_result(tmp_path / p / "method.json") for p in ("likelihood", "likelihood-reasoned"))
    row = script["compare"](a, a, "method")
    assert row["verdicts agree"] == f"{SLICE['limit']}/{SLICE['limit']}" and row["margin rank correlation"] == "+1.00"
    row = script["compare"](a, b, "method")
    agree = sum(x["verdicts"]["overall"]["final"] == y["verdicts"]["overall"]["final"]
                for x, y in zip(a["examples"], b["examples"]))
    assert row["verdicts agree"] == f"{agree}/{SLICE['limit']}" and row["records"] == SLICE["limit"]
    selfs = script["compare"](*(read_result(tmp_path / p / "self.json") for p in ("likelihood", "likelihood-reasoned")),
                              "self")
    assert selfs["verdicts agree"] == f"{SLICE['limit']}/{SLICE['limit']}"  # all ties on both
    assert selfs["margin rank correlation"] == "n/a"  # every margin 0: no ranking to correlate
    out = tmp_path / "table.md"
    script["main"]([str(tmp_path / "likelihood"), str(tmp_path / "likelihood-reasoned"), "--write", str(out)])
    assert out.read_text().count("\n") == 4  # header, rule, two comparisons
