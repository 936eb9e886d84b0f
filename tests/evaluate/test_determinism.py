"""The same inputs give the same number: predictions (and so the result digest) must not depend on which prompts
were already cached, i.e. on how the misses happen to be batched. Guards the failure seen on debates/biden, where a
rerun from another run folder gave different method-side predictions on 4 of 6 examples (batch padding changed
greedy decoding when some prompts were cache hits)."""

from __future__ import annotations

import pytest

from benchmark.evaluate import evaluate, load_splits, predict, read_result
from benchmark.evaluate.traces import load_traces
from benchmark.models import get_lm

from .conftest import MODEL, PACK, USER

pytestmark = pytest.mark.slow  # loads SmolLM2-135M

# four test turns, completions long enough for padding noise to surface as different text
SLICE = {"limit": 4, "k": 2, "max_tokens": 48, "n_boot": 200, "protocol": "pairwise"}


def _run(traces_files, tmp_path, monkeypatch, name: str, cache: str, prewarm: int = 0) -> tuple[dict, list[bytes]]:
    """One evaluation in its own runs folder with the LM cache ``cache``; ``prewarm``: predict the first N test
    turns of both sides first (elsewhere), so the real run finds them cached and batches only the rest."""
    lm = get_lm(MODEL, cache=tmp_path / cache)
    runs = tmp_path / f"runs-{name}"
    monkeypatch.setenv("RECONBENCH_RUNS", str(runs))
    if prewarm:
        train, test = load_splits(PACK, USER)
        for side in ("method", "backward"):
            predict(PACK, USER, load_traces(traces_files[side], PACK, USER, train), lm, k=SLICE["k"],
                    max_tokens=SLICE["max_tokens"], train=train, test=test[:prewarm],
                    path=tmp_path / f"prewarm-{name}-{side}.jsonl")
    out = tmp_path / f"{name}.json"
    evaluate(traces_files["method"], traces_files["backward"], PACK, USER, method_name="method", action_model=lm,
             judge=lm, out=out, **SLICE)
    files = sorted((runs / "evaluate" / PACK / USER / "predictions").glob("*.jsonl"))
    return read_result(out), [f.read_bytes() for f in files]


def test_cold_warm_and_half_cached_runs_give_identical_predictions_and_digest(traces_files, tmp_path, monkeypatch):
    cold, cold_p = _run(traces_files, tmp_path, monkeypatch, "cold", "cold.sqlite")
    warm, warm_p = _run(traces_files, tmp_path, monkeypatch, "warm", "cold.sqlite")  # every call a cache hit
    half, half_p = _run(traces_files, tmp_path, monkeypatch, "half", "half.sqlite", prewarm=2)
    cost = {name: doc["run"]["costs"]["predict"] for name, doc in (("cold", cold), ("warm", warm), ("half", half))}
    assert cost["cold"]["calls"] == 8 and cost["warm"]["calls"] == 0 and cost["warm"]["cache_hits"] == 8
    assert cost["half"]["calls"] == 4 and cost["half"]["cache_hits"] == 4
    assert len(cold_p) == 2 and cold_p == warm_p == half_p  # byte-identical predictions, both sides
    assert cold["digest"] == warm["digest"] == half["digest"]
