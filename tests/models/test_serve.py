"""The openai backend against a real `reconbench serve` on a Unix socket gives the in-process results; the official
`openai` client against `reconbench serve` on 127.0.0.1 streams chat completions and scores prompts through
/v1/completions (echo + logprobs) as lm-evaluation-harness's `local-completions` model does."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import httpx
import openai
import pytest

from benchmark.models import GenParams, get_lm

from .conftest import CAPITAL, MODEL, PROMPTS

CHOICE = [{"role": "user", "content": "Is the sky blue on a clear day? Answer A for yes or B for no."}]


def _start_server(args: list[str], tmp_path_factory, probe: httpx.Client, models_url: str,
                  python: str = sys.executable, backend: str = "transformers"):
    """`reconbench serve` in a subprocess (its own cache file), once it answers ``models_url``; (process, tmp dir)."""
    tmp = tmp_path_factory.mktemp("serve")
    env = os.environ | {"RECONBENCH_LM_CACHE": str(tmp / "server-cache.sqlite")}
    proc = subprocess.Popen([python, "-m", "benchmark.cli", "serve", "--model", MODEL, "--backend", backend,
                             *args], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while True:
        try:
            probe.get(models_url).raise_for_status()
            return proc, tmp
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"reconbench serve did not start: {proc.stderr.read()}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def remote(lm, tmp_path_factory):
    """`reconbench serve` in a subprocess on a Unix socket (its own cache), and an openai-backend LM using it."""
    sock = tmp_path_factory.mktemp("sock") / "lm.sock"
    client = httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)))
    proc, _ = _start_server(["--uds", str(sock)], tmp_path_factory, client, "http://localhost/v1/models")
    yield get_lm(MODEL, "openai", base_url=f"unix://{sock}", cache=False)
    proc.terminate()
    proc.wait(timeout=30)


def test_server_reports_the_model_fingerprint(remote, lm):
    assert remote.fingerprint == lm.fingerprint
    assert remote.dtype == lm.dtype == "float32"  # and its precision: the two share cache keys and board rows


def test_generate_over_http_equals_in_process(remote, uncached):
    for params in (GenParams(max_tokens=16), GenParams(max_tokens=12, temperature=0.8, seed=5, n=2, stop=("\n",))):
        assert remote.generate(PROMPTS[:2], params) == uncached.generate(PROMPTS[:2], params)
    assert remote.usage.total.calls == 4 and remote.usage.total.completion_tokens > 0


def test_loglikelihood_over_http_equals_in_process(remote, uncached):
    requests = [(CAPITAL, "The capital of France is Paris."), (CAPITAL, "Paris France capital the is of.")]
    assert remote.loglikelihood(requests) == pytest.approx(uncached.loglikelihood(requests), abs=1e-4)


def test_usage_over_http_is_recorded_under_the_callers_stage(remote):
    """The requests run on the client's threads; their calls still count for the stage the caller is in (a result's
    costs read them per stage)."""
    from benchmark.models import stage

    with stage("likelihood-probe"):
        remote.loglikelihood([(CAPITAL, "Paris.")])
        remote.score_options([CHOICE], ["A", "B"])
    assert remote.usage.as_dict()["likelihood-probe"]["calls"] == 2


def test_score_options_over_http_equals_in_process(remote, uncached):
    (over_http,), (local,) = remote.score_options([CHOICE], ["A", "B"]), uncached.score_options([CHOICE], ["A", "B"])
    assert over_http == pytest.approx(local, abs=1e-4)


def test_server_refuses_a_model_it_does_not_serve(remote):
    with pytest.raises(openai.NotFoundError):
        remote.backend.client.chat.completions.create(model="gpt-4o", messages=CAPITAL, max_tokens=4)


# -- OpenAI compatibility with the official client: streaming chat and /v1/completions -------------------------------
REAL = "The capital of France is Paris."
# both sides run the same fp32 forward pass over the same tokens; they differ only in how many positions the LM head
# computes (all of them for echo, the continuation's for loglikelihood), which moves a sum by ~1e-5 nats
LOGPROB_TOLERANCE = 1e-3


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_url(lm, tmp_path_factory):
    """`reconbench serve` on 127.0.0.1 (loopback only) without a cache, so that every answer is computed."""
    port = _free_port()
    proc, _ = _start_server(["--host", "127.0.0.1", "--port", str(port), "--no-cache"], tmp_path_factory,
                            httpx.Client(), f"http://127.0.0.1:{port}/v1/models")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(http_url):
    return openai.OpenAI(base_url=http_url, api_key="none", max_retries=0, timeout=300)


def _ids(lm, text: str) -> list[int]:
    return lm.backend.tokenizer(text, add_special_tokens=False).input_ids


def test_openai_client_streams_a_chat_completion(client, uncached):
    stream = client.chat.completions.create(model=MODEL, messages=CAPITAL, max_tokens=16, temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 1  # really in pieces
    assert "".join(pieces) == uncached.generate([CAPITAL], GenParams(max_tokens=16))[0][0]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_streams_are_server_sent_events_ending_with_done(http_url):
    requests = [("chat/completions", {"messages": CAPITAL, "max_tokens": 8, "temperature": 0, "stream": True}),
                ("completions", {"prompt": "Once upon a time", "max_tokens": 8, "temperature": 0, "stream": True})]
    for path, body in requests:
        with httpx.stream("POST", f"{http_url}/{path}", json=body, timeout=300) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            events = [line for line in r.iter_lines() if line]
        assert events[-1] == "data: [DONE]"
        assert all(e.startswith("data: ") for e in events)
        chunks = [json.loads(e[len("data: "):]) for e in events[:-1]]
        kind = "chat.completion.chunk" if path.startswith("chat") else "text_completion"
        assert {c["object"] for c in chunks} == {kind}


def test_completion_echo_logprobs_agree_with_the_backend_loglikelihood(client, lm, uncached):
    rendered = lm.backend.render(CAPITAL)
    resp = client.completions.create(model=MODEL, prompt=rendered + REAL, max_tokens=0, echo=True, logprobs=1,
                                     temperature=0)
    (choice,) = resp.choices
    lp = choice.logprobs
    assert choice.text == rendered + REAL and choice.finish_reason == "length"
    n = len(_ids(lm, rendered + REAL))
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None and lp.text_offset[0] == 0
    assert "".join(lp.tokens) == rendered + REAL
    assert all(b - a == len(t) for a, b, t in zip(lp.text_offset, lp.text_offset[1:], lp.tokens))
    continuation = [v for v, at in zip(lp.token_logprobs, lp.text_offset) if at >= len(rendered)]
    assert len(continuation) == len(_ids(lm, REAL))
    assert sum(continuation) == pytest.approx(uncached.loglikelihood([(CAPITAL, REAL)])[0], abs=LOGPROB_TOLERANCE)


def test_completion_scores_as_lm_eval_local_completions_reads_them(client, lm, uncached):
    """lm-evaluation-harness's `local-completions` sends token ids with max_tokens=1, echo and logprobs=1, and reads
    sum(token_logprobs[ctxlen:-1]) and whether each token is the top one."""
    context = _ids(lm, lm.backend.render(CAPITAL))
    greedy = uncached.generate([CAPITAL], GenParams(max_tokens=16))[0][0]
    shuffled = " ".join(reversed(greedy.split()))
    conts = [_ids(lm, greedy), _ids(lm, shuffled)]
    resp = client.completions.create(model=MODEL, prompt=[context + c for c in conts], max_tokens=1, echo=True,
                                     logprobs=1, temperature=0, seed=1234)
    assert [c.index for c in resp.choices] == [0, 1]
    expected = uncached.loglikelihood([(CAPITAL, greedy), (CAPITAL, shuffled)])
    results = []
    for choice, cont, want in zip(resp.choices, conts, expected):
        lp = choice.logprobs
        assert len(lp.tokens) == len(context) + len(cont) + 1  # the prompt echoed, then the one generated token
        ctxlen = len(context)
        tokens, tops = lp.token_logprobs[ctxlen:-1], lp.top_logprobs[ctxlen:-1]
        assert sum(tokens) == pytest.approx(want, abs=LOGPROB_TOLERANCE)
        results.append(all(t == max(top.values()) for t, top in zip(tokens, tops)))
    assert results == [True, False]  # the greedy continuation is greedy, the reversed one is not


def test_completion_generation_parameters(client, lm, uncached):
    rendered = lm.backend.render(CAPITAL)
    greedy = uncached.generate([CAPITAL], GenParams(max_tokens=16))[0][0]
    # the chat template rendered by hand and sent raw gives the chat completion
    (choice,) = client.completions.create(model=MODEL, prompt=rendered, max_tokens=16, temperature=0).choices
    assert choice.text == greedy and choice.finish_reason == "stop"
    # a batch of prompts: one choice per prompt, in order
    resp = client.completions.create(model=MODEL, prompt=[rendered, "Once upon a time"], max_tokens=6, temperature=0)
    assert [c.index for c in resp.choices] == [0, 1] and [c.finish_reason for c in resp.choices] == ["length"] * 2
    assert greedy.startswith(resp.choices[0].text) and len(resp.choices[0].text) < len(greedy)
    assert resp.usage.completion_tokens == 12
    assert resp.usage.prompt_tokens == len(_ids(lm, rendered)) + len(lm.backend.tokenizer("Once upon a time").input_ids)
    # stop strings end the text before them
    (stopped,) = client.completions.create(model=MODEL, prompt=rendered, max_tokens=16, temperature=0,
                                           stop=["Paris"]).choices
    assert stopped.text == greedy[:greedy.index("Paris")] and stopped.finish_reason == "stop"
    # seeded sampling: n samples, reproducible (the server has no cache: both calls are computed)
    kw = dict(model=MODEL, prompt="Once upon a time", max_tokens=12, temperature=0.9, n=3, seed=7)
    first, again = client.completions.create(**kw), client.completions.create(**kw)
    assert [c.index for c in first.choices] == [0, 1, 2]
    assert [c.text for c in first.choices] == [c.text for c in again.choices]
    assert len({c.text for c in first.choices}) > 1
    # max_tokens=0 without echo: nothing
    (empty,) = client.completions.create(model=MODEL, prompt="Hi", max_tokens=0).choices
    assert empty.text == "" and empty.finish_reason == "length"


def test_completions_refuse_bad_requests(client):
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=MODEL, prompt="Hi", max_tokens=1, logprobs=21)
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=MODEL, prompt="", max_tokens=1)
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=MODEL, prompt=[[10 ** 9]], max_tokens=1)
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model="davinci-002", prompt="Hi", max_tokens=1)


def test_completions_go_through_the_cache(lm):
    """In process (no socket): a repeated /v1/completions request is answered from the LM cache."""
    from fastapi.testclient import TestClient

    from benchmark.models.serve import create_app

    app = TestClient(create_app(lm))
    body = {"prompt": "The sea is", "max_tokens": 5, "temperature": 0, "echo": True, "logprobs": 2}
    first = app.post("/v1/completions", json=body)
    hits = lm.usage.total.cache_hits
    again = app.post("/v1/completions", json=body)
    assert first.status_code == again.status_code == 200
    assert lm.usage.total.cache_hits == hits + 1
    assert first.json()["choices"] == again.json()["choices"]


def test_requests_over_the_servers_limits_are_refused_before_any_work(lm):
    """Whoever reaches the socket is untrusted (a submission's container) and requests run one at a time: a body
    too large to hold, or a request for too many tokens, completions or prompts, is refused with the limit named,
    and the model is never called."""
    from fastapi.testclient import TestClient

    from benchmark.models.serve import Limits, create_app

    app = TestClient(create_app(lm, Limits(body_bytes=4096, new_tokens=64, n=2, prompts=3)))
    calls = lm.usage.total.calls
    big = app.post("/v1/completions", json={"model": MODEL, "prompt": "x" * 10_000, "max_tokens": 1})
    assert big.status_code == 413 and "limit of 4096 bytes" in big.json()["detail"]

    def chunks():  # no content-length: counted as it arrives
        for _ in range(10):
            yield b" " * 1000

    streamed = app.post("/v1/completions", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413, streamed.text
    for path, body, message in (
            ("/v1/completions", {"prompt": "Hi", "max_tokens": 10**9}, "max_tokens = 1000000000 is over"),
            ("/v1/completions", {"prompt": "Hi", "max_tokens": 1, "n": 1000}, "n = 1000 is over this server's limit"),
            ("/v1/completions", {"prompt": ["a", "b", "c", "d"], "max_tokens": 1}, "prompts = 4 is over"),
            ("/v1/chat/completions", {"messages": CHOICE, "max_tokens": 65}, "max_tokens = 65 is over"),
            ("/v1/chat/completions", {"messages": CHOICE, "max_completion_tokens": 10**6, "n": 1},
             "max_tokens = 1000000 is over")):
        r = app.post(path, json={"model": MODEL, **body})
        assert r.status_code == 400 and message in r.json()["detail"], (path, r.text)
    assert lm.usage.total.calls == calls
    ok = app.post("/v1/completions", json={"model": MODEL, "prompt": [[1, 2, 3]], "max_tokens": 2})
    assert ok.status_code == 200, ok.text  # one prompt of token ids counts as one
