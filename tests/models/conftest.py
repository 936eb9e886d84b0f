"""Fixtures for the LM interface tests: the real SmolLM2-135M (pulled once into RECONBENCH_MODELS)."""

from __future__ import annotations

import pytest

from benchmark.models import get_lm
from benchmark.models._cache import CachedLM
from benchmark.models._convert import ensure_pulled

MODEL = "smollm2-135m"

CAPITAL = [{"role": "user", "content": "What is the capital of France?"}]
PROMPTS = [
    CAPITAL,
    [{"role": "system", "content": "You answer in one short sentence."},
     {"role": "user", "content": "Why is the sky blue?"}],
    [{"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "Write a haiku about the sea."}],
]


@pytest.fixture(scope="session")
def lm(tmp_path_factory):
    """SmolLM2 on the transformers backend with a cache file of its own."""
    ensure_pulled(MODEL)
    return get_lm(MODEL, cache=tmp_path_factory.mktemp("lm") / "cache.sqlite")


@pytest.fixture(scope="session")
def uncached(lm):
    """The same loaded model without a cache: every call reaches the model."""
    return CachedLM(lm.backend, None)
