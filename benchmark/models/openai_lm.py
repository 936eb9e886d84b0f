"""The ``openai`` backend: any OpenAI-compatible chat-completions server (``reconbench serve``, vLLM's server, a
hosted API). Retries with backoff and timeouts come from the openai client; a rate limit spaces requests out;
requests of a batch run concurrently.

- ``loglikelihood`` uses vLLM's extensions (``continue_final_message`` + ``prompt_logprobs``), which
  ``reconbench serve`` and vLLM's server understand and hosted APIs do not.
- ``score_options`` reads ``top_logprobs`` (at most 20) of the first token: an option whose first token is not
  among them gets probability 0, and if none is, the distribution is uniform (with a warning).
- ``fingerprint`` is the server's (``/v1/models`` entry ``fingerprint``, as ``reconbench serve`` reports it), so
  the cache is shared with in-process runs of the same weights; otherwise a hash of the server and model name.
  ``dtype`` likewise (the entry's ``dtype``, kept only when it is a plain lower-case name; None otherwise)."""

from __future__ import annotations

import contextvars
import math
import os
import re
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai

from ..errors import ModelNotAvailable
from ..io import sha256_text
from ._base import GenParams, Messages, Timer, Usage


class _RateLimit:
    """At most ``per_minute`` requests a minute, evenly spaced, across threads."""

    def __init__(self, per_minute: float | None):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            delay, self.next_at = max(0.0, self.next_at - now), max(now, self.next_at) + self.interval
        time.sleep(delay)


class OpenAILM:
    """Options: ``base_url`` (default ``RECONBENCH_LM_URL`` or ``OPENAI_BASE_URL``; ``unix:///path.sock`` for a
    Unix socket), ``api_key`` (default ``OPENAI_API_KEY``), ``timeout`` seconds, ``max_retries``,
    ``requests_per_minute``, ``concurrency``."""

    def __init__(self, name: str, *, base_url: str | None = None, api_key: str | None = None, timeout: float = 300,
                 max_retries: int = 5, requests_per_minute: float | None = None, concurrency: int = 4):
        base_url = base_url or os.environ.get("RECONBENCH_LM_URL") or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise ModelNotAvailable("the openai backend needs base_url= or RECONBENCH_LM_URL / OPENAI_BASE_URL")
        http_client = None
        if base_url.startswith("unix://"):
            socket_path, _, rest = base_url[len("unix://"):].partition(":")
            http_client = httpx.Client(transport=httpx.HTTPTransport(uds=socket_path), timeout=timeout)
            base_url = f"http://localhost{rest or '/v1'}"
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY", "none"),
                                    timeout=timeout, max_retries=max_retries, http_client=http_client)
        self.name = name
        self.usage = Usage()
        self.batch_size = concurrency * 4
        self._pool = ThreadPoolExecutor(max_workers=concurrency)
        self._rate = _RateLimit(requests_per_minute)
        self.dtype: str | None = None  # the precision the server computes in, where it says (reconbench serve does)
        self.fingerprint = self._server_fingerprint(base_url)

    def _map(self, fn, items: list) -> list:
        """``fn`` over ``items`` on the request threads, each in a copy of the caller's context, so that usage is
        recorded under the caller's pipeline stage (``benchmark.models.stage``), not the threads' default."""
        contexts = [contextvars.copy_context() for _ in items]
        return list(self._pool.map(lambda pair: pair[0].run(fn, pair[1]), zip(contexts, items)))

    def _server_fingerprint(self, base_url: str) -> str:
        try:
            listed = self.client.models.list().data
        except openai.OpenAIError as e:
            raise ModelNotAvailable(f"cannot reach the model server at {base_url}: {e}") from None
        for m in listed:
            if m.id == self.name and (m.model_extra or {}).get("fingerprint"):
                dtype = m.model_extra.get("dtype")  # a server's word: kept only when it is a plain name
                self.dtype = dtype if isinstance(dtype, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,31}", dtype) else None
                return m.model_extra["fingerprint"]
        return sha256_text(f"openai-compatible\0{base_url}\0{self.name}")

    def _create(self, **kwargs):
        self._rate.wait()
        with Timer() as t:
            resp = self.client.chat.completions.create(model=self.name, **kwargs)
        u = resp.usage
        self.usage.record(calls=1, prompt_tokens=u.prompt_tokens if u else 0,
                          completion_tokens=u.completion_tokens if u else 0, seconds=t.seconds)
        return resp

    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]:
        def one(messages):
            kw = dict(messages=messages, max_tokens=params.max_tokens, temperature=params.temperature,
                      top_p=params.top_p, seed=params.seed, n=params.n)
            if params.stop:
                kw["stop"] = list(params.stop)
            return [c.message.content or "" for c in self._create(**kw).choices]

        return self._map(one, prompts)

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        def one(request):
            messages, continuation = request
            if not continuation:
                return 0.0
            resp = self._create(messages=[*messages, {"role": "assistant", "content": continuation}], max_tokens=1,
                                temperature=0.0, extra_body={"add_generation_prompt": False,
                                                             "continue_final_message": True, "prompt_logprobs": 0})
            entries = (resp.model_extra or {}).get("prompt_logprobs")
            if not entries:
                raise ModelNotAvailable(f"the server at {self.client.base_url} does not return prompt_logprobs")
            # walk back from the end over the prompt tokens until they cover the continuation
            total, covered = 0.0, 0
            for entry in reversed(entries):
                if entry is None or covered >= len(continuation):
                    break
                token = next(iter(entry.values()))
                total += token["logprob"]
                covered += len(token.get("decoded_token") or "")
            return total

        return self._map(one, requests)

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        def one(messages):
            resp = self._create(messages=messages, max_tokens=1, temperature=0.0, logprobs=True, top_logprobs=20)
            content = resp.choices[0].logprobs.content if resp.choices[0].logprobs else None
            top = {t.token: t.logprob for t in content[0].top_logprobs} if content else {}
            probs = {}
            for opt in options:
                # the option's first token is the longest returned token it starts with
                match = max((t for t in top if t and opt.startswith(t)), key=len, default=None)
                probs[opt] = math.exp(top[match]) if match is not None else 0.0
            total = sum(probs.values())
            if total == 0:
                warnings.warn(f"none of the options {options} is among the server's top tokens; scoring them "
                              "uniformly", RuntimeWarning, stacklevel=2)
                return {opt: 1 / len(options) for opt in options}
            return {opt: p / total for opt, p in probs.items()}

        return self._map(one, prompts)
