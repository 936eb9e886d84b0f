"""Fixtures of the synthesizer tests: a three-record slice of a real pack (scotus, Sonia Sotomayor) written as a
submission input folder, and a CPU config cut down so that every method runs in seconds with SmolLM2-135M."""

from __future__ import annotations

import copy

import pytest

from benchmark.packs import load_split
from benchmark.runners import prepare_input
from benchmark.synthesize import load_config

PACK, USER, N_RECORDS = "scotus", "sotomayor", 3


@pytest.fixture(scope="session")
def slice_records(build_pack_once) -> list[dict]:
    build_pack_once(PACK)
    return load_split(PACK, USER, "train")[:N_RECORDS]


@pytest.fixture(scope="session")
def slice_input(slice_records, tmp_path_factory):
    """A submission input folder (task.json + train.jsonl) holding the slice."""
    return prepare_input(tmp_path_factory.mktemp("input"), pack=PACK, user=USER, records=slice_records)


@pytest.fixture
def tiny_config() -> dict:
    """The shipped CPU config with short contexts and completions (a fresh copy per test)."""
    cfg = copy.deepcopy(load_config("cpu"))
    cfg["context_chars"] = 300
    cfg["trace"]["max_tokens"] = 32
    cfg["reconstruction"]["max_tokens"] = 24
    cfg["e2e"]["max_tokens"] = 32
    cfg["grpo"] |= {"max_completion_length": 24, "train_examples": None}
    return cfg


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """An LM cache file shared by tests that may reuse each other's calls (the counting tests use none)."""
    return tmp_path_factory.mktemp("cache") / "lm-cache.sqlite"
