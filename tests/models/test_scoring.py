"""Log-likelihood and answer-option scoring with the real SmolLM2."""

from __future__ import annotations

import random

import pytest

from benchmark.errors import DataError

from .conftest import CAPITAL

REAL = "The capital of France is Paris, a city famous for the Eiffel Tower."


def test_loglikelihood_ranks_a_real_continuation_above_a_shuffled_one(uncached):
    words = REAL.split()
    random.Random(0).shuffle(words)
    real, shuffled = uncached.loglikelihood([(CAPITAL, REAL), (CAPITAL, " ".join(words))])
    assert real < 0 and shuffled < real - 10


def test_loglikelihood_of_an_empty_continuation_is_zero(uncached):
    assert uncached.loglikelihood([(CAPITAL, "")]) == [0.0]


def test_loglikelihood_does_not_depend_on_batch_padding(uncached):
    long_prompt = [{"role": "user", "content": "Tell me, after a long and winding preamble, " * 5 + "the capital?"}]
    alone = uncached.loglikelihood([(CAPITAL, REAL)])[0]
    batched = uncached.loglikelihood([(long_prompt, "Paris."), (CAPITAL, REAL)])[1]
    assert batched == pytest.approx(alone, abs=1e-3)


def test_score_options_returns_a_distribution_over_the_options(uncached):
    options = ["Paris", "London", "Berlin", "Madrid"]
    (dist,) = uncached.score_options([CAPITAL], options)
    assert list(dist) == options
    assert all(0 <= p <= 1 for p in dist.values())
    assert sum(dist.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(dist, key=dist.get) == "Paris"


def test_options_sharing_a_first_token_are_refused(uncached):
    with pytest.raises(DataError, match="share a first token"):
        uncached.score_options([CAPITAL], ["Paris", "Paris, France"])
