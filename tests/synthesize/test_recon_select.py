"""RECON-Select on a real slice: exactly 2N+1 LM calls per record with the judge scorer (N samples, N
reconstructions, one judge request), N samples and N scoring requests without any reconstruction with loglik, and
the highest-scoring candidate kept. Counted through benchmark.models' usage accounting with the LM cache off."""

from __future__ import annotations

import pytest

from benchmark.errors import DataError
from benchmark.io import read_jsonl
from benchmark.runners import validate_output
from benchmark.synthesize import synthesize
from benchmark.synthesize.fidelity import FIDELITY

N = 4


@pytest.fixture(scope="module")
def judge_run(slice_input, slice_records, tmp_path_factory):
    from benchmark.synthesize import load_config

    cfg = load_config("cpu")
    cfg["context_chars"] = 300
    cfg["trace"]["max_tokens"] = 32
    cfg["reconstruction"]["max_tokens"] = 24
    cfg["recon_select"] |= {"n": N, "fidelity": "judge"}
    out = tmp_path_factory.mktemp("recon_select_judge")
    run = synthesize("recon_select", slice_input, out, config=cfg, workdir=out.parent / "work", lm_cache=False)
    return run, out, read_jsonl(out / "traces.jsonl")


def test_judge_scorer_makes_exactly_2n_plus_1_calls_per_record(judge_run, slice_records):
    run, out, traces = judge_run
    usage = run.usage().stages
    for t in traces:  # distinct samples, so no request was merged with an identical one
        assert len({c["trace"] for c in t["meta"]["candidates"]}) == N
    assert usage["synthesize/trace"].calls == N * len(slice_records)
    assert usage["synthesize/reconstruction"].calls == N * len(slice_records)
    assert usage["synthesize/fidelity"].calls == len(slice_records)
    assert sum(s.calls for s in usage.values()) == (2 * N + 1) * len(slice_records)
    assert all(s.cache_hits == 0 for s in usage.values())


def test_the_highest_scoring_candidate_is_kept(judge_run, slice_records):
    run, out, traces = judge_run
    assert validate_output(out, slice_records).ok
    for t in traces:
        cands = t["meta"]["candidates"]
        scores = [c["score"] for c in cands]
        assert t["meta"]["selected"] == scores.index(max(scores))
        assert t["trace"] == cands[t["meta"]["selected"]]["trace"]
        assert sum(scores) == pytest.approx(1.0, abs=1e-4)  # the judge's renormalised letter probabilities
    # the recorded scores are what the judge gives for the recorded reconstructions
    again = FIDELITY["judge"].score(run, slice_records, [[c["trace"] for c in t["meta"]["candidates"]] for t in traces],
                                    [[c["reconstruction"] for c in t["meta"]["candidates"]] for t in traces])
    for t, scores in zip(traces, again):
        assert [c["score"] for c in t["meta"]["candidates"]] == pytest.approx(scores, abs=1e-5)


def test_loglik_scorer_needs_no_reconstruction(slice_input, slice_records, tiny_config, tmp_path):
    records = slice_records[:2]
    tiny_config["recon_select"] |= {"n": N, "fidelity": "loglik"}
    inp = tmp_path / "in"
    from benchmark.runners import prepare_input

    prepare_input(inp, pack="scotus", user="sotomayor", records=records)
    run = synthesize("recon_select", inp, tmp_path / "out", config=tiny_config, workdir=tmp_path / "work",
                     lm_cache=False)
    usage = run.usage().stages
    assert "synthesize/reconstruction" not in usage
    assert usage["synthesize/trace"].calls == N * len(records)
    # N scoring requests per record, sent as one loglikelihood batch: prompt tokens only, nothing generated
    assert usage["synthesize/fidelity"].calls == N * len(records)
    assert usage["synthesize/fidelity"].completion_tokens == 0
    for t in read_jsonl(tmp_path / "out" / "traces.jsonl"):
        scores = [c["score"] for c in t["meta"]["candidates"]]
        assert all(s < 0 for s in scores)  # log-likelihoods in nats
        assert t["meta"]["selected"] == scores.index(max(scores)) and "reconstruction" not in t["meta"]["candidates"][0]


def test_embedding_scorer_ranks_the_real_action_above_an_unrelated_reply(slice_records):
    record = slice_records[0]
    unrelated = "The weather in Lisbon is sunny and the trams run every ten minutes."
    [[same, other]] = FIDELITY["embedding"].score(None, [record], [["", ""]], [[record["action"], unrelated]])
    assert same == pytest.approx(1.0, abs=1e-4) and other < 0.5


def test_e2e_refuses_a_scorer_that_does_not_compare_actions(slice_input, tiny_config, tmp_path):
    tiny_config["grpo"]["fidelity"] = "loglik"
    with pytest.raises(DataError, match="e2e_grpo rewards the action"):
        synthesize("e2e_grpo", slice_input, tmp_path / "out", config=tiny_config, workdir=tmp_path / "work")


def test_unknown_fidelity_scorer_in_a_config_file_is_a_data_error(tmp_path, tiny_config):
    from benchmark.io import write_json
    from benchmark.synthesize import load_config

    tiny_config["recon_select"]["fidelity"] = "vibes"
    write_json(tmp_path / "bad.json", tiny_config)
    with pytest.raises(DataError, match="unknown fidelity scorer 'vibes'") as e:
        load_config(tmp_path / "bad.json")
    assert e.value.field == "recon_select/fidelity"
