"""The ``fake`` backend keeps the LM contract the pipeline relies on (n samples, seeds, stop strings, the cache and
usage accounting), deterministically and without weights, so that fast tests of the pipeline mean something."""

from __future__ import annotations

import subprocess
import sys

from benchmark.models import BACKENDS, GenParams, get_lm
from benchmark.models._cache import CachedLM
from benchmark.models.fake_lm import FakeLM

from .conftest import CAPITAL, PROMPTS

QUESTION = [{"role": "system", "content": "You imitate the Prime Minister."},
            {"role": "user", "content": "The Leader of the Opposition asks about hospital waiting lists."}]


def fake(name: str = "fake") -> CachedLM:
    return CachedLM(FakeLM(name), None)


def test_fake_is_a_registered_backend_and_loads_no_weights(tmp_path):
    assert BACKENDS["fake"] == "benchmark.models.fake_lm:FakeLM"
    lm = get_lm("fake-registry", "fake", cache=tmp_path / "cache.sqlite")
    assert lm.name == "fake-registry" and len(lm.fingerprint) == 64
    # the fast tier depends on this: loading the fake backend must not import torch
    code = "import sys; from benchmark.models import get_lm; get_lm('fake', 'fake', cache=False); " \
           "print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_fingerprint_is_stable_and_names_are_different_models():
    assert FakeLM("fake").fingerprint == FakeLM("fake").fingerprint
    assert FakeLM("fake").fingerprint != FakeLM("fake-judge").fingerprint
    params = GenParams(max_tokens=40)
    assert fake("fake").generate(PROMPTS, params) != fake("fake-judge").generate(PROMPTS, params)


def test_generate_writes_reasoning_then_response_from_the_prompts_words():
    [[text]] = fake().generate([QUESTION], GenParams(max_tokens=64))
    reasoning, response = text.split("\n")
    assert reasoning.startswith("Reasoning: ") and response.startswith("Response: ")
    prompt_words = set(" ".join(m["content"] for m in QUESTION).replace(".", " ").split())
    assert set(reasoning.split()[1:]) <= prompt_words and set(response.split()[1:]) <= prompt_words


def test_greedy_repeats_one_completion_whatever_the_seed():
    lm = fake()
    [a] = lm.generate([CAPITAL], GenParams(max_tokens=32, n=3, seed=1))
    [b] = lm.generate([CAPITAL], GenParams(max_tokens=32, n=3, seed=2))
    assert a == b and len(set(a)) == 1


def test_sampling_follows_the_seed_and_not_the_batch():
    lm = fake()
    params = GenParams(max_tokens=32, temperature=0.8, n=4, seed=7)
    alone = lm.generate([PROMPTS[1]], params)[0]
    assert len(set(alone)) > 1  # samples differ from one another
    assert lm.generate(PROMPTS, params)[1] == alone  # and not with the batch they are in
    assert lm.generate([PROMPTS[1]], GenParams(max_tokens=32, temperature=0.8, n=4, seed=8))[0] != alone


def test_max_tokens_counts_words_and_stop_strings_cut_before_them():
    lm = fake()
    [[short]] = lm.generate([QUESTION], GenParams(max_tokens=3))
    assert len(short.split()) == 3 and "Response:" not in short
    [[stopped]] = lm.generate([QUESTION], GenParams(max_tokens=64, stop=("\nResponse",)))
    [[full]] = lm.generate([QUESTION], GenParams(max_tokens=64))
    assert stopped == full.split("\nResponse")[0]


def test_loglikelihood_prefers_a_prompt_that_contains_the_continuations_words():
    lm = fake()
    action = "Hospital waiting lists are falling."
    other = [QUESTION[0], {"role": "user", "content": "The honourable member asks about the weather in Wales."}]
    with_words, without = lm.loglikelihood([(QUESTION, action), (other, action)])
    assert without < with_words < 0
    # longer continuations are less probable, an empty one is certain, identical requests give identical numbers
    assert lm.loglikelihood([(QUESTION, action + " " + action)])[0] < with_words
    assert lm.loglikelihood([(QUESTION, "")]) == [0.0]
    assert lm.loglikelihood([(QUESTION, action)]) == [with_words]


def test_score_options_prefers_the_labelled_block_closer_to_the_rest_of_the_prompt():
    def judge(a: str, b: str) -> list[dict]:
        return [{"role": "user", "content": f"Real response:\nwaiting lists are falling in every hospital\n\n"
                                            f"Prediction A:\n{a}\n\nPrediction B:\n{b}\n\nWhich is closer? A or B."}]

    close, far = "waiting lists are falling", "the weather in Wales is dreadful"
    first, swapped, unlabelled = fake().score_options([judge(close, far), judge(far, close), CAPITAL], ["A", "B"])
    assert first["A"] > first["B"] and swapped["B"] > swapped["A"]  # the content wins in both orders
    for dist in (first, swapped, unlabelled):
        assert set(dist) == {"A", "B"} and abs(sum(dist.values()) - 1) < 1e-9


def test_usage_is_recorded_and_the_cache_answers_repeats(tmp_path):
    lm = get_lm("fake-usage", "fake", cache=tmp_path / "cache.sqlite")
    params = GenParams(max_tokens=16)
    first = lm.generate(PROMPTS, params)
    assert lm.usage.total.calls == len(PROMPTS) and lm.usage.total.completion_tokens > 0
    assert lm.generate(PROMPTS, params) == first
    assert lm.usage.total.calls == len(PROMPTS) and lm.usage.total.cache_hits == len(PROMPTS)
    lm.generate(PROMPTS[:1], GenParams(max_tokens=16, temperature=0.5, n=3))
    assert lm.usage.total.calls == len(PROMPTS) + 3  # one call per sample, as the transformers backend counts
