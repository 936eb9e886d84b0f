"""Results that did not come from this harness are refused. Guards the red-team finding that `leaderboard add`
accepted a result whose verdicts were changed and whose summary and digest were recomputed with the project's own
functions: a version 2 result must be what its protocol decides from its own raw numbers (checked on add, no
model), and `leaderboard verify` recomputes a sample of the raw numbers from the traces and models it names."""

from __future__ import annotations

import copy

import pytest

from benchmark import publish
from benchmark.errors import DataError
from benchmark.evaluate import evaluate, load_splits
from benchmark.evaluate.pipeline import score_examples
from benchmark.io import write_jsonl
from benchmark.publish.verify import verify
from benchmark.records.result import finalize

PACK, USER = "pmq-sample", "cameron"
FAKE = {"action_model": "fake-action", "judge": "fake-judge", "backend": "fake"}
SLICE = {"limit": 6, "train_limit": 12, "k": 2, "n_boot": 200}


@pytest.fixture
def made(build_pack_once, tmp_path):
    """A real v2 likelihood result (fake backend) and the traces files it was made from."""
    build_pack_once(PACK)
    train = load_splits(PACK, USER)[0][:SLICE["train_limit"]]
    files = {}
    for side, text in (("method", "{speaker} asked; he attacks the Opposition's record."),
                       ("backward", "He answers because he was asked.")):
        files[side] = tmp_path / side / "traces.jsonl"
        write_jsonl(files[side], [{"id": r["id"], "trace": text.format(speaker=r["context"][-1]["speaker"])}
                                  for r in train])
    out = tmp_path / "result.json"
    doc = evaluate(files["method"], files["backward"], PACK, USER, method_name="recon_select",
                   protocol="likelihood", out=out, **FAKE, **SLICE)
    return doc, files, tmp_path


def _forge(doc: dict, change) -> dict:
    """``doc`` edited by ``change(examples)``, with summary, health and digest recomputed by the project."""
    forged = copy.deepcopy(doc)
    change(forged["examples"])
    scored = score_examples("likelihood", forged["protocol"]["params"],
                            [{k: v for k, v in ex.items()} for ex in forged["examples"]], user=doc["user"],
                            seed=doc["seeds"]["bootstrap"], n_boot=doc["seeds"]["bootstrap_samples"])
    if change.__name__ == "flip_verdict":  # keep the flipped verdict, recompute only what depends on verdicts
        from benchmark.evaluate import summarize

        forged["summary"] = summarize([ex | {"user": doc["user"]} for ex in forged["examples"]],
                                      seed=doc["seeds"]["bootstrap"], n_boot=doc["seeds"]["bootstrap_samples"])
        forged["summary"]["likelihood"] = scored["summary"]["likelihood"]
    else:
        forged |= {"examples": scored["examples"], "summary": scored["summary"],
                   "judge_health": scored["judge_health"]}
    return finalize(forged, doc["run"])


def test_changed_verdicts_with_recomputed_summary_and_digest_are_refused(made, write_result, board):
    doc, _, _ = made

    def flip_verdict(examples):
        v = examples[0]["verdicts"]["overall"]
        v["final"] = "method" if v["final"] != "method" else "baseline"

    forged = _forge(doc, flip_verdict)
    with pytest.raises(DataError, match="verdicts differ from what the protocol decides"):
        publish.add(write_result(forged, "forged.json"), board)
    assert not list(publish.results_dir(board).rglob("*.json"))


def test_made_up_raw_numbers_pass_the_store_but_not_verify(made, write_result):
    doc, files, _ = made

    def boost_method(examples):
        for ex in examples:
            ex["raw"]["method_logprob"] = ex["raw"]["baseline_logprob"] + 5.0  # the method "wins" everything

    forged = _forge(doc, boost_method)
    path = write_result(forged, "forged-raw.json")
    assert forged["summary"]["dimensions"]["overall"]["wins"] == SLICE["limit"]
    publish.load_result(path)  # consistent with itself: the store cannot tell
    with pytest.raises(DataError, match="is not what its inputs give"):
        verify(path, files["method"], files["backward"], sample=2)
    honest = write_result(doc, "honest.json")
    assert verify(honest, files["method"], files["backward"], sample=3)["checked"] == 3


def _keep(doc: dict, keep, *, restate: bool) -> dict:
    """``doc`` with only the examples ``keep(example)`` accepts, recomputed by the project; ``restate``: also state
    the smaller slice (limit and n_evaluated), as a forger would."""
    def drop(examples):
        examples[:] = [ex for ex in examples if keep(ex)]

    forged = _forge(doc, drop)
    if restate:
        n = len(forged["examples"])
        forged["test"] |= {"limit": n, "n_evaluated": n}
        forged = finalize(forged, doc["run"])
    return forged


def test_a_result_holding_fewer_examples_than_its_slice_is_refused(made, write_result):
    doc, _, _ = made
    forged = _keep(doc, lambda ex: ex["id"] != doc["examples"][-1]["id"], restate=False)
    with pytest.raises(DataError, match=r"5 examples for a slice of 6 test records") as e:
        publish.load_result(write_result(forged, "short.json"))
    assert e.value.field == "test"


def test_cherry_picked_examples_pass_the_store_but_not_verify(made, write_result):
    # each kept example's numbers are genuine, so recomputing a sample of them cannot tell; the slice can
    doc, files, _ = made
    wins = [ex["id"] for ex in doc["examples"] if ex["verdicts"]["overall"]["final"] == "method"]
    assert 0 < len(wins) < SLICE["limit"] and wins != [ex["id"] for ex in doc["examples"]][:len(wins)], \
        "the fake backend's slice must have a loss before a win for this test to mean anything"
    forged = _keep(doc, lambda ex: ex["id"] in wins, restate=True)
    assert forged["summary"]["dimensions"]["overall"]["losses"] == 0
    path = write_result(forged, "cherry.json")
    publish.load_result(path)  # consistent with itself: the store cannot tell without the pack
    with pytest.raises(DataError, match=r"not the first \d+ test records of pmq-sample/cameron") as e:
        verify(path, files["method"], files["backward"], sample=2)
    assert e.value.field == "examples/id"


def test_verify_refuses_traces_other_than_the_recorded_ones(made, write_result):
    doc, files, _ = made
    with pytest.raises(DataError, match="method traces given are not the ones"):
        verify(write_result(doc, "r.json"), files["backward"], files["backward"])


def test_verify_loads_no_model_a_result_file_names_outside_the_registry(made, write_result):
    # a result is untrusted: a path in its settings must not decide what the verifier's machine loads
    doc, files, _ = made
    for name, backend in (("../../tmp/not-a-model", "transformers"), ("evil/served", "openai"),
                          ("smollm2-135m", "no-such-backend")):
        forged = copy.deepcopy(doc)
        forged["eval_settings"] |= {"action_model": name, "backend": backend}
        path = write_result(finalize(forged, doc["run"]), "named.json")
        with pytest.raises(DataError, match="not in the model registry") as e:
            verify(path, files["method"], files["backward"], sample=1)
        assert "eval_settings/action_model" in str(e.value)


def test_verify_says_a_result_made_in_another_precision_cannot_be_recomputed_here(made, write_result):
    # bfloat16 numbers differ from float32 ones by design: the verifier says why, not "the numbers disagree"
    doc, files, _ = made
    forged = copy.deepcopy(doc)
    for role in ("action_model", "judge"):
        forged[role] |= {"dtype": "bfloat16"}
    path = write_result(finalize(forged, doc["run"]), "bf16.json")
    with pytest.raises(DataError, match="computes in float32 here; the result was made in bfloat16") as e:
        verify(path, files["method"], files["backward"], sample=1)
    assert "action_model/dtype" in str(e.value)
