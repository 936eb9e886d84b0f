"""The control definitions feed the pipeline what they claim: shuffled traces are all misassigned (and reproducibly
so), the self control puts the same traces in both slots, the oracle predicts the real actions."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmark.controls import CONTROLS, Inputs, derangement, length_correlation, shuffle_traces
from benchmark.controls.definitions import check_length
from benchmark.errors import DataError
from benchmark.evaluate import load_traces

from .conftest import PACK, TINY, USER


@pytest.fixture(scope="module")
def inputs(cameron, traces_file) -> Inputs:
    train, test = cameron[0][:TINY["train_limit"]], cameron[1][:3]
    return Inputs(PACK, USER, train, test, load_traces(traces_file, PACK, USER, train), seed=7)


def test_every_control_of_the_issue_is_registered():
    assert list(CONTROLS) == ["oracle", "wrong_user", "self", "shuffled_traces", "no_reasoning", "judge_injection",
                              "length"]
    assert all(c.expectation for c in CONTROLS.values())


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_derangement_misassigns_every_training_example(cameron, seed):
    ids = [r["id"] for r in cameron[0]]
    source = derangement(ids, seed)
    assert list(source) == ids
    assert sorted(source.values()) == sorted(ids)  # a permutation: every trace used exactly once
    assert [i for i, s in source.items() if s == i] == []


def test_derangement_is_deterministic_for_a_seed_and_differs_between_seeds(cameron):
    ids = [r["id"] for r in cameron[0]]
    assert derangement(ids, 3) == derangement(ids, 3)
    assert derangement(ids, 3) != derangement(ids, 4)


def test_two_examples_swap_and_one_example_is_refused():
    assert derangement(["a", "b"], 0) == {"a": "b", "b": "a"}
    with pytest.raises(DataError, match="at least 2"):
        derangement(["a"], 0)


def test_shuffled_traces_control_gives_every_example_another_examples_trace(inputs):
    cmp = CONTROLS["shuffled_traces"].compare(inputs)
    real = inputs.backward
    assert cmp.baseline_traces == real
    assert set(cmp.method_traces) == set(real)
    assert Counter(cmp.method_traces.values()) == Counter(real.values())  # the same traces, moved
    assert [rid for rid in real if cmp.method_traces[rid] == real[rid]] == []
    assert cmp.method_traces == shuffle_traces(real, inputs.train, inputs.seed)[0]
    assert cmp.meta == {"shuffle_seed": 7, "misassigned": len(real), "n_traces": len(real)}


def test_self_control_puts_the_same_traces_in_both_slots(inputs):
    cmp = CONTROLS["self"].compare(inputs)
    assert cmp.method_traces == cmp.baseline_traces == inputs.backward
    assert cmp.method_predictions is None  # both sides predicted by the pipeline from the same traces


def test_oracle_control_predicts_the_real_actions(inputs):
    cmp = CONTROLS["oracle"].compare(inputs)
    assert [p["id"] for p in cmp.method_predictions] == [r["id"] for r in inputs.test]
    assert [p["action"] for p in cmp.method_predictions] == [r["action"] for r in inputs.test]
    assert cmp.baseline_traces == inputs.backward


def test_no_reasoning_control_shows_demonstrations_without_traces(inputs):
    cmp = CONTROLS["no_reasoning"].compare(inputs)
    assert cmp.method_traces is None and cmp.method_predictions is None
    assert cmp.baseline_traces == inputs.backward


def _example(i: int) -> dict:
    """A judgment by a judge that always picks the longer prediction (the method's is longer for odd i)."""
    m_chars, b_chars = (100 + 10 * i, 100) if i % 2 else (100, 100 + 10 * i)
    first, second = ("A", "B") if m_chars > b_chars else ("B", "A")  # method first: A is the method
    v = {"method_first": first, "baseline_first": second, "final": "method" if m_chars > b_chars else "baseline"}
    return {"id": str(i), "method_chars": m_chars, "baseline_chars": b_chars,
            "verdicts": {d: dict(v) for d in ("overall", "style", "intent", "values")}}


def test_length_control_fails_a_judge_that_picks_the_longer_prediction():
    examples = [_example(i) for i in range(1, 21)]
    value = length_correlation(examples, seed=0, n_boot=200)
    assert value["estimate"] > 0.5 and value["ci_low"] <= value["estimate"] <= value["ci_high"]
    results = {"shuffled_traces": {"examples": examples, "seeds": {"bootstrap": 0}},
               "no_reasoning": {"examples": [], "seeds": {"bootstrap": 0}}}
    m = check_length(None, results)
    assert m.status == "FAIL" and "longer" in m.reason


def test_ranking_needs_a_passing_positive_control_and_every_required_one():
    from benchmark.records.controls_report import ranking

    ok = {"oracle": "PASS", "wrong_user": "N/A", "self": "PASS", "shuffled_traces": "PASS", "length": "PASS",
          "judge_injection": "PASS", "no_reasoning": "INFO"}
    assert ranking(ok)[0]
    assert ranking(ok | {"oracle": "N/A", "wrong_user": "PASS", "length": "N/A", "judge_injection": "N/A"})[0]
    assert ranking(ok | {"wrong_user": "FAIL"}) == (False, "failed: wrong_user")
    assert ranking(ok | {"oracle": "N/A"}) == (False, "no positive control (oracle or wrong user) passed")
    assert ranking(ok | {"length": "FAIL", "oracle": "FAIL"}) == (False, "failed: oracle, length")
    assert ranking({k: v for k, v in ok.items() if k != "judge_injection"}) == (False, "not run: judge_injection")
    # a probe (--only) never ranks, even when every control it ran passed
    assert ranking(ok, not_run=["self", "no_reasoning"]) == (False, "a probe of selected controls (not run: self)")
    assert ranking(ok | {"oracle": "FAIL"}, not_run=["self"]) == (False, "failed: oracle")


def _decided(wins: int, losses: int, ties: int = 0) -> dict:
    """A result whose headline win rate has these counts and the degenerate CI a percentile bootstrap gives when
    every decided pair went the same way (the case the Wilson interval guards)."""
    from benchmark.records.stats import stat

    s = stat({"u": ["method"] * wins + ["baseline"] * losses + ["tie"] * ties}, seed=0, n_boot=200)
    return {"summary": {"headline": "overall", "dimensions": {"overall": s}}}


def test_a_few_decided_pairs_cannot_pass_a_positive_control():
    from benchmark.controls.definitions import check_oracle, check_wrong_user

    few = _decided(2, 0, ties=6)  # 2 of 2 decided: bootstrap [1.00, 1.00], Wilson [0.34, 1.00]
    assert few["summary"]["dimensions"]["overall"]["win_rate"]["ci_low"] == 1.0
    m = check_oracle(few, {})
    assert m.status == "FAIL" and "Wilson [0.34, 1.00]" in m.reason
    assert check_oracle(_decided(8, 0), {}).status == "PASS"  # Wilson [0.68, 1.00]
    assert check_wrong_user(_decided(0, 2, ties=6), {}).status == "FAIL"
    assert check_wrong_user(_decided(19, 41), {}).status == "PASS"  # debates/biden's recorded counts
