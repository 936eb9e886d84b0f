"""The training-free reference methods on a real slice (pmq-sample, Cameron) with the ``fake`` LM backend in every
role: the method logic (one trace per record, validated output, RECON-Select's 2N+1 calls and its choice of the
best candidate, resuming) in seconds. The same methods on SmolLM2-135M are in test_backward.py and
test_recon_select.py (slow tier)."""

from __future__ import annotations

import copy

import pytest

from benchmark.io import read_jsonl
from benchmark.packs import load_split
from benchmark.runners import prepare_input, validate_output
from benchmark.synthesize import load_config, synthesize

PACK, USER, N_RECORDS, N = "pmq-sample", "cameron", 4, 3


@pytest.fixture(scope="module")
def records(build_pack_once) -> list[dict]:
    build_pack_once(PACK)
    return load_split(PACK, USER, "train")[:N_RECORDS]


@pytest.fixture
def input_dir(records, tmp_path):
    return prepare_input(tmp_path / "input", pack=PACK, user=USER, records=records)


@pytest.fixture
def fake_config() -> dict:
    """The shipped CPU config with the fake backend in every role."""
    cfg = copy.deepcopy(load_config("cpu"))
    for role, spec in cfg["models"].items():
        spec |= {"name": f"fake-{role}", "backend": "fake"}
    cfg["recon_select"]["n"] = N
    return cfg


def test_backward_writes_one_valid_trace_per_record_and_resumes(records, input_dir, fake_config, tmp_path):
    out = tmp_path / "out"
    run = synthesize("backward", input_dir, out, config=fake_config, workdir=tmp_path / "work", lm_cache=False)
    check = validate_output(out, records)
    assert check.ok, check.problems
    traces = read_jsonl(out / "traces.jsonl")
    assert [t["id"] for t in traces] == [r["id"] for r in records]
    assert all(t["meta"]["model"] == run.models["synthesizer"]["fingerprint"] for t in traces)
    assert run.usage().stages["synthesize/trace"].calls == N_RECORDS
    # a second run over the same output keeps every trace and computes nothing
    again = synthesize("backward", input_dir, out, config=fake_config, workdir=tmp_path / "work", lm_cache=False)
    assert read_jsonl(out / "traces.jsonl") == traces
    assert "synthesize/trace" not in again.usage().stages or again.usage().stages["synthesize/trace"].calls == 0


def test_recon_select_makes_2n_plus_1_calls_and_keeps_the_best_candidate(records, input_dir, fake_config, tmp_path):
    fake_config["recon_select"]["fidelity"] = "judge"
    out = tmp_path / "out"
    run = synthesize("recon_select", input_dir, out, config=fake_config, workdir=tmp_path / "work", lm_cache=False)
    assert validate_output(out, records).ok
    usage = run.usage().stages
    assert usage["synthesize/trace"].calls == N * N_RECORDS
    assert usage["synthesize/reconstruction"].calls == N * N_RECORDS
    assert usage["synthesize/fidelity"].calls == N_RECORDS
    for t in read_jsonl(out / "traces.jsonl"):
        cands = t["meta"]["candidates"]
        assert len({c["trace"] for c in cands}) == N  # sampled, so distinct
        scores = [c["score"] for c in cands]
        assert t["meta"]["selected"] == scores.index(max(scores))
        assert t["trace"] == cands[t["meta"]["selected"]]["trace"]


def test_baselines_run_demonstrated_writes_traces_for_just_what_the_test_slice_shows(records, fake_config, tmp_path):
    """``--demonstrated N``: the method runs on the training records retrieval shows to the first N test records;
    those traces are enough to evaluate that slice (the evaluation refuses a slice that shows more)."""
    from benchmark.evaluate import evaluate
    from benchmark.io import read_json, write_json
    from benchmark.orchestrate.baselines import run_baseline
    from benchmark.packs import load_split
    from benchmark.retrieval import demonstrated

    cfg = tmp_path / "fake.json"
    write_json(cfg, fake_config)
    train, test = load_split(PACK, USER, "train"), load_split(PACK, USER, "test")
    m = run_baseline("backward", PACK, USER, config=str(cfg), demonstrated=3, k=2, out=tmp_path / "run",
                     lm_cache=False)
    want = [r["id"] for r in demonstrated(train, test[:3], 2)]
    assert [t["id"] for t in read_jsonl(tmp_path / "run/output/traces.jsonl")] == want
    assert m["n_records"] == len(want) < len(train) and m["demonstrated"] == {"test_limit": 3, "k": 2}
    assert read_json(tmp_path / "run/manifest.json")["demonstrated"]["test_limit"] == 3
    models = {"action_model": "fake-action", "judge": "fake-judge", "backend": "fake", "protocol": "likelihood"}
    traces = tmp_path / "run/output/traces.jsonl"
    result = evaluate(traces, traces, PACK, USER, limit=3, k=2, n_boot=100, out=tmp_path / "r.json", **models)
    assert result["summary"]["dimensions"]["overall"]["ties"] == 3
    with pytest.raises(Exception, match="shown as demonstrations have no trace"):
        evaluate(traces, traces, PACK, USER, limit=12, k=2, n_boot=100, out=tmp_path / "r2.json", **models)
