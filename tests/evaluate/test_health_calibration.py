"""Judge health measures and calibration (agreement, Cohen's kappa) against hand-computed answers, and the
strict parsing of judge replies."""

from __future__ import annotations

import pytest

from benchmark.evaluate import cohen_kappa, judge_health, parse_choice
from benchmark.evaluate.calibration import agreement


def _ex(choices, method_chars, baseline_chars):
    from benchmark.evaluate import final_verdict

    v = {"method_first": choices[0], "baseline_first": choices[1], "final": final_verdict(*choices)}
    return {"method_chars": method_chars, "baseline_chars": baseline_chars,
            "verdicts": {d: dict(v) for d in ("overall", "style", "intent", "values")}}


def test_health_hand_computed():
    examples = [_ex(("A", "B"), 100, 50),  # method wins in both orders
                _ex(("A", "A"), 80, 80),  # follows position A: a flip, a tie
                _ex((None, "B"), 10, 90)]  # one reply unparseable: invalid
    h = judge_health(examples)
    per = h["by_dimension"]["overall"]
    assert per["n_judgments"] == 6 and per["unparseable"] == 1
    assert per["order_flip_rate"] == 0.5  # 1 of the 2 examples with both orders parsed
    assert per["tie_rate"] == 0.5  # 1 tie of 2 valid finals
    assert per["first_position_win_rate"] == 0.6  # A chosen in 3 of 5 parsed replies
    # choices (+1 A, -1 B) vs len(A) - len(B): (+1, 50), (-1, -50), (+1, 0), (+1, 0), (-1, 80)
    x, y = [1, -1, 1, 1, -1], [50, -50, 0, 0, 80]
    import numpy as np

    assert per["length_correlation"] == pytest.approx(float(np.corrcoef(x, y)[0, 1]), abs=1e-6)
    assert h["n_judgments"] == 24 and h["unparseable"] == 4  # pooled over the four dimensions


def test_health_length_correlation_undefined_when_constant():
    assert judge_health([_ex(("A", "A"), 10, 10)])["length_correlation"] is None


def test_cohen_kappa_hand_computed():
    human, judge = ["A", "A", "B", "B"], ["A", "B", "B", "B"]
    assert agreement(human, judge) == 0.75
    # chance = P(A)P(A) + P(B)P(B) = (2/4)(1/4) + (2/4)(3/4) = 0.5 -> kappa = (0.75 - 0.5) / 0.5
    assert cohen_kappa(human, judge) == pytest.approx(0.5)
    assert cohen_kappa(["A", "tie", "B"], ["A", "tie", "B"]) == pytest.approx(1.0)
    assert cohen_kappa(["A", "A"], ["A", "A"]) is None  # chance agreement is 1: undefined
    assert cohen_kappa([], []) is None


@pytest.mark.parametrize(("reply", "choice"), [
    ("A", "A"), (" B.", "B"), ("(A)", "A"), ("**B**", "B"), ("Prediction A", "A"), ("Answer: B", "B"), ("b", "B"),
    ("A or B", None), ("I think A is closer", None), ("", None), ("AB", None), ("Prediction A is closer", None),
])
def test_judge_reply_parsing_is_strict(reply, choice):
    assert parse_choice(reply) == choice


def test_calibration_with_the_real_judge_on_labels_we_wrote(lm, tmp_path):
    from benchmark.evaluate import calibrate
    from benchmark.io import write_jsonl

    context = [{"speaker": "Member", "text": "Will the Prime Minister tell the House what he is doing about hospital "
                                             "waiting times?"}]
    real = "Waiting times are down, and we are putting more money into the health service than ever before."
    other = "I like to walk my dog in the park on Sunday mornings."
    labels = [
        {"id": "real-first", "context": context, "action": real, "a": real, "b": other, "label": "A"},
        {"id": "real-second", "context": context, "action": real, "a": other, "b": real, "label": "B"},
        {"id": "same", "context": context, "action": real, "a": other, "b": other, "label": "tie",
         "dimension": "style"},
    ]
    path = tmp_path / "labels.jsonl"
    write_jsonl(path, labels)
    report = calibrate(path, lm)
    assert report["n"] + report["invalid"] == 3
    assert sum(sum(row.values()) for row in report["confusion"].values()) == report["n"]
    by_id = {it["id"]: it["judge"] for it in report["items"]}
    # identical predictions: both orders are the same prompt, so the judge's choice follows the position -> tie
    assert by_id["same"] == "tie"
    # swapping a and b swaps the judge's verdict (or keeps a tie): the second order is mapped back correctly
    assert {"A": "B", "B": "A", "tie": "tie"}[by_id["real-first"]] == by_id["real-second"]
    assert 0 <= report["agreement"] <= 1


def test_human_labels_file_is_validated(tmp_path):
    from benchmark.errors import DataError
    from benchmark.evaluate.calibration import load_labels

    path = tmp_path / "labels.jsonl"
    path.write_text('{"id": "x", "context": [], "action": "a", "a": "a", "b": "b", "label": "C"}\n')
    with pytest.raises(DataError, match="human_labels") as e:
        load_labels(path)
    assert e.value.field == "label" and e.value.record == "x"
