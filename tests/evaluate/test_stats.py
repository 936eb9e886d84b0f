"""Win rates, the order-flip rule and the users-then-examples bootstrap, against answers computed by hand."""

from __future__ import annotations

import pytest

from benchmark.evaluate import final_verdict, summarize
from benchmark.records.stats import bootstrap, counts, stat, win_rate, win_rate_ties_half


def test_win_rate_excludes_ties_and_invalid_hand_computed():
    finals = ["method"] * 3 + ["baseline"] + ["tie"] * 2 + ["invalid"]
    c = counts(finals)
    assert c == {"n": 6, "wins": 3, "losses": 1, "ties": 2, "invalid": 1}
    assert win_rate(3, 1) == 0.75  # 3 / (3 + 1): ties excluded, as in the paper
    assert win_rate_ties_half(3, 1, 2) == pytest.approx(4 / 6)  # (3 + 2/2) / 6
    s = stat({"u": finals}, n_boot=200)
    assert s["win_rate"]["estimate"] == 0.75
    assert s["win_rate_ties_half"]["estimate"] == pytest.approx(0.666667)
    assert s["invalid"] == 1


def test_nothing_decided_gives_no_win_rate_rather_than_a_number():
    s = stat({"u": ["tie", "tie", "invalid"]}, n_boot=100)
    assert s["win_rate"] == {"estimate": None, "ci_low": None, "ci_high": None}
    assert s["win_rate_ties_half"]["estimate"] == 0.5


@pytest.mark.parametrize(("method_first", "baseline_first", "final"), [
    ("A", "B", "method"),  # method shown first and chosen; baseline shown first and the other one chosen
    ("B", "A", "baseline"),
    ("A", "A", "tie"),  # the judge followed position A: the verdict flips with the order
    ("B", "B", "tie"),
    (None, "B", "invalid"),
    ("A", None, "invalid"),
])
def test_order_flip_is_a_tie_and_unparseable_is_invalid(method_first, baseline_first, final):
    assert final_verdict(method_first, baseline_first) == final


def test_bootstrap_ci_contains_the_estimate_and_narrows_with_more_data():
    small = {"u1": ["method"] * 3 + ["baseline"] * 2 + ["tie"], "u2": ["method"] * 2 + ["baseline"] * 2}
    large = {u: f * 10 for u, f in small.items()}
    s_small, s_large = stat(small, seed=1), stat(large, seed=1)
    for s in (s_small, s_large):
        for rate in ("win_rate", "win_rate_ties_half"):
            est = s[rate]
            assert est["ci_low"] <= est["estimate"] <= est["ci_high"]
    width = lambda s: s["win_rate"]["ci_high"] - s["win_rate"]["ci_low"]  # noqa: E731
    assert s_large["win_rate"]["estimate"] == s_small["win_rate"]["estimate"] == pytest.approx(5 / 9, abs=1e-6)
    assert width(s_large) < width(s_small) / 2


def test_bootstrap_resamples_users_not_only_examples():
    # one user always wins, the other always loses: resampling two users gives {both winners, one each, both
    # losers} with probabilities 1/4, 1/2, 1/4 -> win rates 1, 0.5, 0, so the 95% interval is [0, 1]. Resampling
    # examples alone would give a narrow interval around 0.5.
    ci = bootstrap({"winner": ["method"] * 50, "loser": ["baseline"] * 50}, seed=3, n_boot=4000)
    assert ci["win_rate"] == (0.0, 1.0)


def test_bootstrap_of_one_unanimous_user_is_a_point():
    assert bootstrap({"u": ["method"] * 7}, n_boot=500)["win_rate"] == (1.0, 1.0)


def test_bootstrap_is_seeded():
    finals = {"u1": ["method", "baseline", "tie", "method"], "u2": ["baseline", "method", "method"]}
    assert bootstrap(finals, seed=5) == bootstrap(finals, seed=5)
    assert bootstrap(finals, seed=5) != bootstrap(finals, seed=6)


def _example(i, user, finals):
    return {"id": f"p/{user}/{i}", "user": user,
            "verdicts": {d: {"final": f} for d, f in zip(("overall", "style", "intent", "values"), finals)}}


def test_summarize_counts_each_dimension_separately():
    examples = [_example(0, "a", ["method", "baseline", "tie", "invalid"]),
                _example(1, "a", ["method", "method", "tie", "baseline"]),
                _example(2, "b", ["baseline", "method", "method", "baseline"])]
    dims = summarize(examples, n_boot=200)["dimensions"]
    assert (dims["overall"]["wins"], dims["overall"]["losses"]) == (2, 1)
    assert (dims["style"]["wins"], dims["style"]["losses"]) == (2, 1)
    assert (dims["intent"]["wins"], dims["intent"]["ties"]) == (1, 2)
    assert (dims["values"]["losses"], dims["values"]["invalid"], dims["values"]["n"]) == (2, 1, 2)
    # the same input gives the same numbers, in any order of examples
    assert summarize(examples[::-1], n_boot=200) == summarize(examples, n_boot=200)
