"""Fixtures for the evaluation tests: the real pmq-sample pack (small training split, so retrieval embeds ~130
contexts), trivial traces files we write ourselves, SmolLM2-135M as action model and judge, and one evaluation
of a small slice that the other tests reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.io import write_jsonl

PACK, USER = "pmq-sample", "cameron"
MODEL = "smollm2-135m"
# a small slice, so the suite stays within its CPU budget: 2 test examples, 2 demonstrations, short completions
SLICE = {"limit": 2, "k": 2, "max_tokens": 32, "n_boot": 500, "protocol": "pairwise"}

METHOD_TRACE = "He turns the question into an attack on the Opposition's record and names a concrete policy."
BASELINE_TRACE = "He answers because he was asked a question."


@pytest.fixture(scope="session")
def splits(build_pack_once):
    """(train, test) of pmq-sample/cameron, built from the real raw files."""
    from benchmark.evaluate import load_splits

    build_pack_once(PACK)
    return load_splits(PACK, USER)


@pytest.fixture(scope="session")
def traces_files(splits, tmp_path_factory) -> dict[str, Path]:
    """A method's and a baseline's traces.jsonl: one fixed sentence per training id."""
    train, _ = splits
    d = tmp_path_factory.mktemp("traces")
    files = {}
    for name, sentence in (("method", METHOD_TRACE), ("backward", BASELINE_TRACE)):
        files[name] = d / name / "traces.jsonl"
        write_jsonl(files[name], [{"id": r["id"], "trace": sentence} for r in train])
    return files


@pytest.fixture(scope="session")
def lm():
    from benchmark.models import get_lm
    from benchmark.models._convert import ensure_pulled

    ensure_pulled(MODEL)
    return get_lm(MODEL)


@pytest.fixture(scope="session")
def first_run(traces_files, lm, tmp_path_factory) -> tuple[dict, Path]:
    """The method against the baseline on the slice: (result, result path)."""
    from benchmark.evaluate import evaluate

    out = tmp_path_factory.mktemp("results") / "first.json"
    result = evaluate(traces_files["method"], traces_files["backward"], PACK, USER, method_name="method",
                      action_model=lm, judge=lm, out=out, **SLICE)
    return result, out
