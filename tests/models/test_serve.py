"""The openai backend against a real `reconbench serve` on a Unix socket gives the in-process results."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import openai
import pytest

from benchmark.models import GenParams, get_lm

from .conftest import CAPITAL, MODEL, PROMPTS

CHOICE = [{"role": "user", "content": "Is the sky blue on a clear day? Answer A for yes or B for no."}]


@pytest.fixture(scope="module")
def remote(lm, tmp_path_factory):
    """`reconbench serve` in a subprocess on a Unix socket (its own cache), and an openai-backend LM using it."""
    tmp = tmp_path_factory.mktemp("serve")
    sock = tmp / "lm.sock"
    env = os.environ | {"RECONBENCH_LM_CACHE": str(tmp / "server-cache.sqlite")}
    proc = subprocess.Popen([sys.executable, "-m", "benchmark.cli", "serve", "--model", MODEL, "--uds", str(sock)],
                            env=env, stderr=subprocess.PIPE, text=True)
    client = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)))
    deadline = time.monotonic() + 300
    while True:
        try:
            client.get("http://localhost/v1/models").raise_for_status()
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"reconbench serve did not start: {proc.stderr.read()}")
            time.sleep(0.5)
    yield get_lm(MODEL, "openai", base_url=f"unix://{sock}", cache=False)
    proc.terminate()
    proc.wait(timeout=30)


def test_server_reports_the_model_fingerprint(remote, lm):
    assert remote.fingerprint == lm.fingerprint


def test_generate_over_http_equals_in_process(remote, uncached):
    for params in (GenParams(max_tokens=16), GenParams(max_tokens=12, temperature=0.8, seed=5, n=2, stop=("\n",))):
        assert remote.generate(PROMPTS[:2], params) == uncached.generate(PROMPTS[:2], params)
    assert remote.usage.total.calls == 4 and remote.usage.total.completion_tokens > 0


def test_loglikelihood_over_http_equals_in_process(remote, uncached):
    requests = [(CAPITAL, "The capital of France is Paris."), (CAPITAL, "Paris France capital the is of.")]
    assert remote.loglikelihood(requests) == pytest.approx(uncached.loglikelihood(requests), abs=1e-4)


def test_score_options_over_http_equals_in_process(remote, uncached):
    (over_http,), (local,) = remote.score_options([CHOICE], ["A", "B"]), uncached.score_options([CHOICE], ["A", "B"])
    assert over_http == pytest.approx(local, abs=1e-4)


def test_server_refuses_a_model_it_does_not_serve(remote):
    with pytest.raises(openai.NotFoundError):
        remote.backend.client.chat.completions.create(model="gpt-4o", messages=CAPITAL, max_tokens=4)
