"""The vLLM tier (`pytest -m vllm`): the real `vllm` backend on SmolLM2-135M, checked against the transformers backend
on the same weights, and `reconbench serve --backend vllm` with the official `openai` client. It needs vLLM, which
the main environment does not have: build the separate environment once and run the tier there,

    bash scripts/vllm-env.sh
    .venv-vllm/bin/python -m pytest -m vllm tests/models/test_vllm.py

Elsewhere the whole module is skipped with that reason. Both backends run in float32 on the CPU; measured on this
model (benchmarks/results/vllm-tier.md) their log-probability sums differ by < 1e-4 nats and option distributions
by < 1e-5, so the tolerances below leave a 10x margin."""

from __future__ import annotations

import httpx
import openai
import pytest

from benchmark.models import GenParams, get_lm
from benchmark.models._cache import CachedLM, LMCache

from .conftest import CAPITAL, MODEL, PROMPTS

try:
    import vllm  # noqa: F401
except Exception as e:  # an ImportError, or a vLLM build that does not match this torch
    pytest.skip(f"vLLM is not importable here ({type(e).__name__}: {e}); build its environment with "
                "`bash scripts/vllm-env.sh` and run `.venv-vllm/bin/python -m pytest -m vllm "
                "tests/models/test_vllm.py`", allow_module_level=True)

pytestmark = [pytest.mark.vllm, pytest.mark.slow]

LOGLIK_TOLERANCE = 1e-3  # nats, on sums of up to ~30 token log-probabilities (measured: < 1e-4)
OPTIONS_TOLERANCE = 1e-4  # probability (measured: < 1e-5)
KV_CACHE_GIB = 1  # per engine; the tier runs two (in process and the server)
REAL = "The capital of France is Paris, a city famous for the Eiffel Tower."
GREEDY = GenParams(max_tokens=48)


@pytest.fixture(scope="module")
def vlm(tmp_path_factory):
    """SmolLM2 on the vllm backend (float32 on the CPU, engine in process) with a cache file of its own."""
    return get_lm(MODEL, "vllm", cache=tmp_path_factory.mktemp("vllm") / "cache.sqlite", kv_cache_gib=KV_CACHE_GIB)


@pytest.fixture(scope="module")
def vuncached(vlm):
    return CachedLM(vlm.backend, None)


def test_the_backend_runs_vllm_in_float32_with_the_transformers_fingerprint(vlm, lm):
    assert type(vlm.backend).__name__ == "VLLMLM" and vlm.backend.dtype == "float32"
    assert vlm.fingerprint == lm.fingerprint


def test_greedy_generation_equals_transformers_greedy(vuncached, uncached):
    assert vuncached.generate(PROMPTS, GREEDY) == uncached.generate(PROMPTS, GREEDY)


def test_greedy_generation_does_not_depend_on_the_batch(vuncached):
    batched = vuncached.generate(PROMPTS, GREEDY)
    assert [vuncached.generate([p], GREEDY)[0] for p in PROMPTS] == batched


def test_greedy_n_repeats_the_one_completion(vuncached):
    (texts,) = vuncached.generate([CAPITAL], GenParams(max_tokens=12, n=3))
    assert len(texts) == 3 and len(set(texts)) == 1


def test_seeded_sampling_is_reproducible_and_independent_of_the_batch(vuncached):
    params = GenParams(max_tokens=16, temperature=0.8, n=3, seed=5)
    first = vuncached.generate(PROMPTS[:2], params)
    assert vuncached.generate(PROMPTS[:2], params) == first
    assert vuncached.generate(PROMPTS[1:2], params) == first[1:]  # alone, or second in a batch: the same samples
    assert all(len(row) == 3 and len(set(row)) > 1 for row in first)
    assert vuncached.generate(PROMPTS[:2], GenParams(max_tokens=16, temperature=0.8, n=3, seed=6)) != first


def test_stop_strings_end_the_completion_before_them(vuncached, uncached):
    params = GenParams(max_tokens=32, stop=("Paris",))
    ((text,),) = vuncached.generate([CAPITAL], params)
    assert "Paris" not in text and [[text]] == uncached.generate([CAPITAL], params)


def test_loglikelihood_agrees_with_transformers(vuncached, uncached):
    requests = [(CAPITAL, REAL), (CAPITAL, " ".join(reversed(REAL.split()))),
                (PROMPTS[1], "Because sunlight is scattered by the air."), (PROMPTS[2], ""), (PROMPTS[3], "Waves.")]
    got, want = vuncached.loglikelihood(requests), uncached.loglikelihood(requests)
    assert got == pytest.approx(want, abs=LOGLIK_TOLERANCE)
    assert got[3] == 0.0 and got[0] > got[1] + 10


def test_score_options_agree_with_transformers(vuncached, uncached):
    options = ["Paris", "London", "Berlin", "A", "B"]
    got, want = vuncached.score_options(PROMPTS, options), uncached.score_options(PROMPTS, options)
    for g, w in zip(got, want):
        assert list(g) == options and sum(g.values()) == pytest.approx(1.0, abs=1e-6)
        assert g == pytest.approx(w, abs=OPTIONS_TOLERANCE)
        assert max(g, key=g.get) == max(w, key=w.get)


def test_cache_answers_repeats_and_is_shared_with_the_transformers_backend(vlm, uncached):
    params = GenParams(max_tokens=12, temperature=0.7, seed=3, n=2)
    first = vlm.generate(PROMPTS[:2], params)
    calls, hits = vlm.usage.total.calls, vlm.usage.total.cache_hits
    assert vlm.generate(PROMPTS[:2], params) == first
    assert vlm.usage.total.calls == calls and vlm.usage.total.cache_hits == hits + 2
    # the key is the weights' fingerprint and the messages, not the backend: transformers reads vLLM's entries
    shared = CachedLM(uncached.backend, LMCache(vlm.cache.path))
    hf_calls = uncached.backend.usage.total.calls
    assert shared.generate(PROMPTS[:2], params) == first
    assert uncached.backend.usage.total.calls == hf_calls


# -- reconbench serve --backend vllm, with the openai client ----------------------------------------------------------
@pytest.fixture(scope="module")
def served(vlm, tmp_path_factory):
    """`reconbench serve --backend vllm` on 127.0.0.1 (no cache: every answer is computed by the server)."""
    import sys

    from .test_serve import _free_port, _start_server

    port = _free_port()
    proc, _ = _start_server(["--host", "127.0.0.1", "--port", str(port), "--no-cache",
                             "--option", f"kv_cache_gib={KV_CACHE_GIB}"], tmp_path_factory, httpx.Client(),
                            f"http://127.0.0.1:{port}/v1/models", python=sys.executable, backend="vllm")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=60)


def test_openai_backend_over_serve_vllm_gives_the_in_process_results(served, vlm, vuncached):
    remote = get_lm(MODEL, "openai", base_url=served, cache=False)
    assert remote.fingerprint == vlm.fingerprint
    for params in (GenParams(max_tokens=16), GenParams(max_tokens=12, temperature=0.8, seed=5, n=2)):
        assert remote.generate(PROMPTS[:2], params) == vuncached.generate(PROMPTS[:2], params)
    requests = [(CAPITAL, REAL), (PROMPTS[1], "Because sunlight is scattered by the air.")]
    assert remote.loglikelihood(requests) == pytest.approx(vuncached.loglikelihood(requests), abs=LOGLIK_TOLERANCE)
    choice = [{"role": "user", "content": "Is the sky blue on a clear day? Answer A for yes or B for no."}]
    assert remote.score_options([choice], ["A", "B"]) == [
        pytest.approx(vuncached.score_options([choice], ["A", "B"])[0], abs=OPTIONS_TOLERANCE)]


def test_openai_client_streams_and_scores_through_serve_vllm(served, vlm, vuncached):
    client = openai.OpenAI(base_url=served, api_key="none", max_retries=0, timeout=600)
    chunks = list(client.chat.completions.create(model=MODEL, messages=CAPITAL, max_tokens=16, temperature=0,
                                                 stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == vuncached.generate([CAPITAL], GenParams(max_tokens=16))[0][0]
    rendered = vlm.backend.render(CAPITAL)
    (scored,) = client.completions.create(model=MODEL, prompt=rendered + REAL, max_tokens=0, echo=True, logprobs=1,
                                          temperature=0).choices
    lp = scored.logprobs
    assert scored.text == rendered + REAL and lp.token_logprobs[0] is None
    continuation = sum(v for v, at in zip(lp.token_logprobs, lp.text_offset) if at >= len(rendered))
    assert continuation == pytest.approx(vuncached.loglikelihood([(CAPITAL, REAL)])[0], abs=LOGLIK_TOLERANCE)
    # lm-eval's local-completions request: token ids, max_tokens=1, echo, logprobs=1: the prompt plus one token
    ids = vlm.backend.tokenizer(rendered + REAL, add_special_tokens=False).input_ids
    (echoed,) = client.completions.create(model=MODEL, prompt=[ids], max_tokens=1, echo=True, logprobs=1,
                                          temperature=0).choices
    assert len(echoed.logprobs.tokens) == len(ids) + 1
    assert echoed.logprobs.token_logprobs[0] is None
    assert echoed.logprobs.token_logprobs[1:-1] == pytest.approx(lp.token_logprobs[1:], abs=1e-4)
