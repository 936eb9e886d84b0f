"""The real pipeline on a small slice of a real pack, with SmolLM2-135M as action model and judge."""

from __future__ import annotations

import json

from benchmark.evaluate import (
    DIMENSIONS,
    digest,
    evaluate,
    judge_health,
    judge_pairs,
    parse_choice,
    predict,
    read_result,
)
from benchmark.evaluate.predict import first
from benchmark.io import read_json

from .conftest import PACK, SLICE, USER


def test_real_pipeline_writes_a_complete_valid_result(first_run, splits):
    result, path = first_run
    doc = read_result(path)  # validates against result.schema.json
    assert doc == json.loads(json.dumps(result))
    train, test = splits
    assert doc["test"] == {"n_total": len(test), "n_evaluated": 2, "limit": 2}
    assert doc["train"]["n_used"] == len(train)
    assert [ex["id"] for ex in doc["examples"]] == [r["id"] for r in test[:2]]
    assert doc["digest"] == digest(doc)
    assert doc["method"]["reasoning"] and doc["method"]["traces_sha256"] != doc["baseline"]["traces_sha256"]
    assert set(doc["prompts"]) == {"action_prediction.v1", "judge_pairwise.v1"}
    assert doc["retrieval"]["k"] == 2 and doc["retrieval"]["embedding_model"]["name"] == "all-MiniLM-L6-v2"
    assert doc["judge"]["mode"] == "options" and len(doc["action_model"]["fingerprint"]) == 64
    # the precision the real model computed in (float32 on the CPU) is recorded beside the fingerprint
    assert doc["action_model"]["dtype"] == doc["judge"]["dtype"] == "float32"
    # every example counted exactly once per dimension, and the judge ran 2 orders x 4 dimensions per example
    for d in DIMENSIONS:
        s = doc["summary"]["dimensions"][d]
        assert s["wins"] + s["losses"] + s["ties"] + s["invalid"] == 2
    assert doc["judge_health"]["n_judgments"] == 2 * 2 * len(DIMENSIONS)
    costs = doc["run"]["costs"]
    assert costs["predict"]["calls"] + costs["predict"]["cache_hits"] >= 1
    assert costs["judge"]["calls"] + costs["judge"]["cache_hits"] >= 1
    for side in ("method", "baseline"):
        assert doc["predictions"][side]["n"] == 2
        assert 0 <= doc["predictions"][side]["parse_failures"] <= 2


def test_rerun_makes_no_model_calls_and_gives_the_identical_result(first_run, traces_files, lm, tmp_path):
    first, first_path = first_run
    out = tmp_path / "again.json"
    again = evaluate(traces_files["method"], traces_files["backward"], PACK, USER, method_name="method",
                     action_model=lm, judge=lm, out=out, **SLICE)
    costs = again["run"]["costs"]
    assert costs["predict"]["calls"] == 0 and costs["judge"]["calls"] == 0 and costs["retrieve"]["calls"] == 0
    # the result file is deterministic except its `run` block (time, costs, git revision), which is excluded
    a, b = read_json(first_path), read_json(out)
    a.pop("run"), b.pop("run")
    assert a == b and again["digest"] == first["digest"]


def test_identical_predictions_tie_everywhere_so_position_bias_cancels(traces_files, lm, tmp_path):
    # the baseline against itself: the two orders show the judge the very same prompt, so whatever position it
    # prefers, the verdict flips with the order and every example is a tie
    result = evaluate(traces_files["backward"], traces_files["backward"], PACK, USER, method_name="backward-self",
                      action_model=lm, judge=lm, out=tmp_path / "self.json", **SLICE)
    s = result["summary"]["dimensions"]["overall"]
    health = result["judge_health"]
    assert s["ties"] == 2 and s["wins"] == s["losses"] == 0
    assert s["win_rate_ties_half"]["estimate"] == 0.5
    assert s["win_rate"]["estimate"] is None  # nothing decided: no win rate rather than a spurious one
    assert health["tie_rate"] == 1.0 and health["order_flip_rate"] == 1.0
    assert health["first_position_win_rate"] in (0.0, 1.0)  # a position-biased judge, cancelled by the design


def test_text_mode_judge_parses_strictly_and_counts_unparseable_replies(splits, traces_files, lm, tmp_path):
    from benchmark.evaluate.traces import load_traces

    train, test = splits
    test = first(test, 1)
    common = {"k": SLICE["k"], "max_tokens": SLICE["max_tokens"], "train": train, "test": test}
    m = predict(PACK, USER, load_traces(traces_files["method"], PACK, USER, train), lm, **common)
    b = predict(PACK, USER, load_traces(traces_files["backward"], PACK, USER, train), lm, **common)
    rows = judge_pairs(test, m, b, lm, user_name="David Cameron", mode="text", path=tmp_path / "verdicts.jsonl")
    unparseable = 0
    for d in DIMENSIONS:
        for order in ("method_first", "baseline_first"):
            reply = rows[0]["detail"][d][order]["reply"]
            assert rows[0]["verdicts"][d][order] == parse_choice(reply)
            unparseable += parse_choice(reply) is None
    examples = [{k: r[k] for k in ("method_chars", "baseline_chars", "verdicts")} for r in rows]
    assert judge_health(examples)["unparseable"] == unparseable
    finals = [rows[0]["verdicts"][d]["final"] for d in DIMENSIONS]
    assert finals.count("invalid") == sum(
        rows[0]["verdicts"][d]["method_first"] is None or rows[0]["verdicts"][d]["baseline_first"] is None
        for d in DIMENSIONS)
