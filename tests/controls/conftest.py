"""Fixtures for the controls tests: the real pmq-sample pack (Cameron's split, 128 training examples) and one tiny
real run of every control on it with SmolLM2-135M as action model and judge."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.io import write_jsonl
from benchmark.packs import load_split

PACK, USER = "pmq-sample", "cameron"
# the smallest run that still exercises everything: 2 test examples, 16 training examples, 2 demonstrations,
# short predictions
TINY = dict(limit=2, train_limit=16, k=2, max_tokens=12, seed=0, protocol="pairwise")


@pytest.fixture(scope="session")
def cameron(build_pack_once) -> tuple[list[dict], list[dict]]:
    """(train, test) of pmq-sample/cameron, built from the real raw corpus."""
    build_pack_once(PACK)
    return load_split(PACK, USER, "train"), load_split(PACK, USER, "test")


@pytest.fixture(scope="session")
def traces_file(cameron, tmp_path_factory) -> Path:
    """A traces file for the training slice of TINY, each trace distinct and naming its own example (who asked, in
    which position), written here instead of synthesized: the controls are under test, not the synthesizer, and
    synthesizing traces takes minutes on a shared CPU."""
    train = cameron[0][:TINY["train_limit"]]
    path = tmp_path_factory.mktemp("traces") / "traces.jsonl"
    write_jsonl(path, [{"id": r["id"], "trace": f"Example {i}: Cameron answers {r['context'][-1]['speaker']}, "
                                                f"defending the government's record."}
                       for i, r in enumerate(train)])
    return path


@pytest.fixture(scope="session")
def tiny_report(traces_file) -> dict:
    """Every control, run for real on two test examples of pmq-sample/cameron (SmolLM2-135M both roles)."""
    from benchmark.controls import run_controls

    return run_controls(PACK, USER, traces=traces_file, command="pytest tiny run", **TINY)
