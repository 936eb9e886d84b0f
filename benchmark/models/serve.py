"""``reconbench serve``: an OpenAI-compatible HTTP server over any backend, on a TCP port or a Unix socket, so a
container without network access can share the host's model (and its cache) through a mounted socket.

Endpoints:

- ``GET /v1/models``: each entry also carries the model's ``fingerprint`` and ``dtype``, so the ``openai`` backend
  shares cache entries (and board rows) with in-process runs.
- ``POST /v1/chat/completions`` with ``n``, ``seed``, ``stop``, ``logprobs``/``top_logprobs``, ``stream`` (server-sent
  events in OpenAI's ``chat.completion.chunk`` format, ending with ``data: [DONE]``; ``stream_options.include_usage``
  adds a usage chunk) and, as in vLLM's server, ``continue_final_message`` with ``prompt_logprobs`` for the
  log-likelihood of a given assistant continuation (reported as one entry covering the whole continuation).
- ``POST /v1/completions``: raw prompts, no chat template: ``prompt`` is a string, a list of strings, a list of
  token ids or a list of such lists; ``max_tokens`` (default 16, 0 allowed), ``temperature``, ``top_p``, ``seed``,
  ``stop``, ``n``, ``stream``, ``echo`` and ``logprobs`` (0-20) in OpenAI's legacy shape ``{tokens, token_logprobs,
  top_logprobs, text_offset}``. With ``echo`` the prompt's tokens come first (the first has ``None``), which is how
  lm-evaluation-harness's ``local-completions`` model scores log-likelihoods (``max_tokens=1``, ``logprobs=1``,
  ``echo=True``). A string prompt is tokenized with the tokenizer's special tokens (as vLLM's server does); the
  completions are cached like every other call (method ``completion``, keyed by the prompt's token ids).

Limits: whoever can reach the socket (a submission's container, with ``needs_lm_endpoint``) is untrusted, and
requests run one at a time, so one greedy request would stall every later one, or exhaust memory. A request body
over ``MAX_BODY_BYTES`` is refused with 413 (never held beyond the limit); ``max_tokens`` above
``MAX_NEW_TOKENS``, ``n`` above ``MAX_N`` or more than ``MAX_PROMPTS`` prompts in one request with 400, naming the
parameter and the limit (``create_app(lm, limits=...)`` takes others).

Streams are buffered: the whole answer is computed first (the backends have no token callback), then sent as
chunks, one per word. Requests run one at a time: the model is one set of weights, and batching happens inside a
request."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from ..errors import DataError
from ._base import LM, GenParams, Timer

MAX_LOGPROBS = 20
MAX_BODY_BYTES = 8 * 1024 * 1024  # a request body: a few hundred long prompts
MAX_NEW_TOKENS = 4096  # max_tokens of one completion
MAX_N = 16  # completions per prompt
MAX_PROMPTS = 256  # prompts in one /v1/completions request


@dataclass(frozen=True)
class Limits:
    """What one request may ask of the server (see the module's docstring)."""

    body_bytes: int = MAX_BODY_BYTES
    new_tokens: int = MAX_NEW_TOKENS
    n: int = MAX_N
    prompts: int = MAX_PROMPTS

    def check(self, *, max_tokens: int, n: int, prompts: int = 1) -> None:
        for name, value, cap in (("max_tokens", max_tokens, self.new_tokens), ("n", n, self.n),
                                 ("prompts", prompts, self.prompts)):
            if value > cap:
                raise HTTPException(400, f"{name} = {value} is over this server's limit of {cap}")


class _BodyLimit:
    """ASGI middleware: a request whose body is over ``limit`` bytes gets 413. A declared ``content-length`` over
    the limit is refused before anything is read; otherwise the body is read here, at most ``limit`` bytes of it
    (one more chunk and it is refused), and handed on whole, so no request is ever held beyond the limit."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._refuse(send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send):
        body = json.dumps({"detail": f"request body over this server's limit of {self.limit} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[dict] = Field(min_length=1)
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float = 1.0  # OpenAI's default
    top_p: float = 1.0
    n: int = 1
    seed: int | None = None
    stop: str | list[str] | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    stream: bool = False
    stream_options: dict | None = None
    # vLLM's extensions, for log-likelihoods of a given continuation
    add_generation_prompt: bool = True
    continue_final_message: bool = False
    prompt_logprobs: int | None = None


class CompletionRequest(BaseModel):
    model: str | None = None
    prompt: str | list[str] | list[int] | list[list[int]]
    max_tokens: int | None = 16  # OpenAI's default
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    seed: int | None = None
    stop: str | list[str] | None = None
    logprobs: int | None = None
    echo: bool = False
    stream: bool = False
    stream_options: dict | None = None


def create_app(lm: LM, limits: Limits = Limits()) -> FastAPI:
    """The FastAPI application serving ``lm`` (any backend wrapped by the cache), with the request ``limits``."""
    app = FastAPI(title="reconbench serve")
    app.add_middleware(_BodyLimit, limit=limits.body_bytes)
    lock = threading.Lock()

    def check_model(model: str | None) -> None:
        if model not in (None, lm.name, lm.fingerprint):
            raise HTTPException(404, f"model {model!r} is not served here; this server has {lm.name!r}")

    def header(kind: str) -> dict:
        return {"id": f"{kind}-{uuid.uuid4().hex}", "created": int(time.time()), "model": lm.name,
                "system_fingerprint": lm.fingerprint[:16]}

    @app.get("/v1/models")
    def list_models() -> dict:
        entry = {"id": lm.name, "object": "model", "created": 0, "owned_by": "reconbench",
                 "fingerprint": lm.fingerprint}
        dtype = getattr(lm, "dtype", None)
        return {"object": "list", "data": [entry | ({"dtype": dtype} if dtype else {})]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest):  # a plain def: FastAPI runs it in a worker thread
        check_model(req.model)
        if req.stream and req.continue_final_message:
            raise HTTPException(400, "continue_final_message cannot be streamed")
        limits.check(max_tokens=req.max_completion_tokens or req.max_tokens or 0, n=req.n)
        with lock:
            before = lm.usage.total
            try:
                if req.continue_final_message:
                    choices, prompt_logprobs = _continuation(lm, req)
                    extra = {"prompt_logprobs": prompt_logprobs}
                else:
                    choices, extra = _completions(lm, req), {}
            except (ValueError, DataError) as e:  # bad parameters or messages: the client's fault
                raise HTTPException(400, str(e)) from None
            after = lm.usage.total
        usage = _usage(after.prompt_tokens - before.prompt_tokens, after.completion_tokens - before.completion_tokens)
        head = header("chatcmpl")
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            return _sse(_chat_chunks(head, choices, usage if include_usage else None))
        return {**head, "object": "chat.completion", "choices": choices, "usage": usage, **extra}

    @app.post("/v1/completions")
    def completions(req: CompletionRequest):
        check_model(req.model)
        raw = _raw_backend(lm)
        max_tokens = 16 if req.max_tokens is None else req.max_tokens
        if max_tokens < 0 or req.n < 1:
            raise HTTPException(400, f"need max_tokens >= 0 and n >= 1, got {max_tokens} and {req.n}")
        if req.logprobs is not None and not 0 <= req.logprobs <= MAX_LOGPROBS:
            raise HTTPException(400, f"logprobs must be between 0 and {MAX_LOGPROBS}")
        prompts = _prompt_list(req.prompt)
        limits.check(max_tokens=max_tokens, n=req.n, prompts=len(prompts))
        try:
            prompt_ids = [_tokens(raw.tokenizer, p) for p in prompts]
            stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
            # GenParams checks the sampling parameters; max_tokens=0 generates nothing (echo alone)
            params = GenParams(max_tokens=max(1, max_tokens), temperature=req.temperature, top_p=req.top_p,
                               seed=req.seed or 0, stop=stop, n=req.n)
        except (ValueError, DataError) as e:
            raise HTTPException(400, str(e)) from None
        key = params.as_dict() | {"max_tokens": max_tokens, "logprobs": req.logprobs, "echo": req.echo}
        with lock:
            try:
                results = _cached(lm, "completion", prompt_ids, key,
                                  lambda batch: _complete(raw, batch, params, max_tokens, req.logprobs, req.echo))
            except (ValueError, DataError) as e:
                raise HTTPException(400, str(e)) from None
        choices, n_completion = [], 0
        for i, (prompt, ids, result) in enumerate(zip(prompts, prompt_ids, results)):
            prompt_text = prompt if isinstance(prompt, str) else raw.tokenizer.decode(ids)
            for j, gen in enumerate(result):
                n_completion += len(gen["ids"])
                choices.append({
                    "index": i * req.n + j, "text": (prompt_text if req.echo else "") + gen["text"],
                    "finish_reason": gen["finish_reason"],
                    "logprobs": None if req.logprobs is None else _legacy_logprobs(
                        raw.tokenizer, ids, prompt_text, gen, req.logprobs, req.echo)})
        usage = _usage(sum(map(len, prompt_ids)), n_completion)
        head = header("cmpl")
        if req.stream:
            include_usage = bool((req.stream_options or {}).get("include_usage"))
            return _sse(_completion_chunks(head, choices, usage if include_usage else None))
        return {**head, "object": "text_completion", "choices": choices, "usage": usage}

    return app


def _usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


# -- chat completions -----------------------------------------------------------------------------------------------
def _completions(lm: LM, req: ChatRequest) -> list[dict]:
    stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
    params = GenParams(max_tokens=req.max_completion_tokens or req.max_tokens or 128, temperature=req.temperature,
                       top_p=req.top_p, seed=req.seed or 0, stop=stop, n=req.n)
    texts = lm.generate([req.messages], params)[0]
    choices = []
    for i, text in enumerate(texts):
        choice = {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
                  "logprobs": None}
        if req.logprobs:
            token_logprobs = getattr(getattr(lm, "backend", lm), "completion_logprobs", None)
            if token_logprobs is None:
                raise HTTPException(400, "this backend does not report logprobs")
            choice["logprobs"] = {"content": token_logprobs(req.messages, text, req.top_logprobs)}
        choices.append(choice)
    return choices


def _continuation(lm: LM, req: ChatRequest) -> tuple[list[dict], list]:
    """vLLM's ``continue_final_message`` + ``prompt_logprobs``: the log-likelihood of the final assistant message,
    as (choices, prompt_logprobs)."""
    *prompt, last = req.messages
    if last.get("role") != "assistant" or req.prompt_logprobs is None:
        raise HTTPException(400, "continue_final_message is supported with prompt_logprobs and a final assistant "
                                 "message only")
    continuation = last.get("content") or ""
    ll = lm.loglikelihood([(prompt, continuation)])[0]
    entries = [None, {"0": {"logprob": ll, "rank": 1, "decoded_token": continuation}}] if continuation else [None]
    choice = {"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "length",
              "logprobs": None}
    return [choice], entries


# -- streaming ------------------------------------------------------------------------------------------------------
def _pieces(text: str) -> list[str]:
    """``text`` in word-sized pieces that concatenate back to it exactly."""
    return re.findall(r"\S+\s*|\s+", text)


def _sse(chunks: Iterable[dict]) -> StreamingResponse:
    def events() -> Iterator[str]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _chat_chunks(head: dict, choices: list[dict], usage: dict | None) -> Iterator[dict]:
    """OpenAI's chunk sequence per choice: the role, the content in pieces (the logprobs ride on the first), then an
    empty delta with the finish reason; the usage chunk (no choices) last when asked for."""
    base = {**head, "object": "chat.completion.chunk"}

    def chunk(index: int, delta: dict, logprobs=None, finish_reason=None) -> dict:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": logprobs,
                                     "finish_reason": finish_reason}]}

    for choice in choices:
        i = choice["index"]
        yield chunk(i, {"role": "assistant", "content": ""})
        for k, piece in enumerate(_pieces(choice["message"]["content"]) or [""]):
            yield chunk(i, {"content": piece}, choice["logprobs"] if k == 0 else None)
        yield chunk(i, {}, finish_reason=choice["finish_reason"])
    if usage is not None:
        yield {**base, "choices": [], "usage": usage}


def _completion_chunks(head: dict, choices: list[dict], usage: dict | None) -> Iterator[dict]:
    """Legacy completion chunks: the text in pieces, or whole when it carries logprobs; the finish reason on the
    last chunk of each choice."""
    base = {**head, "object": "text_completion"}
    for choice in choices:
        pieces = [choice["text"]] if choice["logprobs"] is not None else (_pieces(choice["text"]) or [""])
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1
            yield {**base, "choices": [{"index": choice["index"], "text": piece, "logprobs": choice["logprobs"],
                                        "finish_reason": choice["finish_reason"] if last else None}]}
    if usage is not None:
        yield {**base, "choices": [], "usage": usage}


# -- raw-prompt completions -----------------------------------------------------------------------------------------
def _prompt_list(prompt) -> list[str | list[int]]:
    """One prompt or a batch of them: a string, a list of strings, a list of token ids, a list of such lists."""
    if isinstance(prompt, str) or (prompt and all(isinstance(t, int) for t in prompt)):
        prompts = [prompt]
    else:
        prompts = list(prompt)
    if not prompts or any(len(p) == 0 for p in prompts):
        raise HTTPException(400, "prompt must be a non-empty string, list of strings or list of token ids")
    return prompts


def _tokens(tokenizer, prompt: str | list[int]) -> list[int]:
    if isinstance(prompt, str):
        ids = tokenizer(prompt).input_ids
        if not ids:
            raise ValueError(f"prompt {prompt!r} has no tokens")
        return ids
    vocab = len(tokenizer)
    if any(not 0 <= t < vocab for t in prompt):
        raise ValueError(f"prompt token ids must lie in [0, {vocab})")
    return list(prompt)


_ADAPTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _raw_backend(lm: LM):
    """The backend's raw-prompt pair (``raw_generate``, ``token_logprobs``): its own (vllm), or an adapter over a
    transformers model; other backends (openai) cannot serve raw prompts."""
    backend = getattr(lm, "backend", lm)
    if callable(getattr(backend, "raw_generate", None)) and callable(getattr(backend, "token_logprobs", None)):
        return backend
    if hasattr(backend, "model") and hasattr(backend, "_forward_last"):
        if backend not in _ADAPTERS:
            _ADAPTERS[backend] = _TransformersRaw(backend)
        return _ADAPTERS[backend]
    raise HTTPException(400, f"/v1/completions needs a backend with the model in process (transformers or vllm); "
                             f"{type(backend).__name__} has none")


def _cached(lm: LM, method: str, requests: list, params: dict, compute) -> list:
    """``compute`` through the LM's on-disk cache when it has one (``CachedLM``), else directly."""
    run = getattr(lm, "_run", None)
    if run is None:
        return compute(requests)
    return run(method, requests, params, compute, None)


def _complete(raw, prompts: list[list[int]], params: GenParams, max_tokens: int, logprobs: int | None,
              echo: bool) -> list[list[dict]]:
    """Per prompt, ``params.n`` choices ``{"ids", "text", "finish_reason", "lp"}``; ``lp`` (with ``logprobs``) is,
    per reported token (the prompt's too with ``echo``), ``None`` or ``[logprob, [[token id, logprob], ...]]``."""
    if max_tokens > 0:
        gens = raw.raw_generate(prompts, params)
    else:
        gens = [[{"ids": [], "text": "", "finish_reason": "length"} for _ in range(params.n)] for _ in prompts]
    out = [[{**g, "lp": None} for g in row] for row in gens]
    if logprobs is None:
        return out
    seqs = {tuple(p + g["ids"]) for p, row in zip(prompts, gens) for g in row}  # greedy n copies scored once
    order = sorted(seqs, key=len)
    scored = dict(zip(order, raw.token_logprobs([list(s) for s in order], logprobs)))
    for p, row in zip(prompts, out):
        for g in row:
            entries = scored[tuple(p + g["ids"])]
            g["lp"] = [None if e is None else [e[0], [list(t) for t in e[1]]]
                       for e in (entries if echo else entries[len(p):])]
    return out


def _legacy_logprobs(tokenizer, prompt_ids: list[int], prompt_text: str, gen: dict, logprobs: int,
                     echo: bool) -> dict:
    """OpenAI's legacy ``logprobs`` object. ``top_logprobs`` maps the ``logprobs`` most likely tokens and the
    chosen one to their log-probabilities (as vLLM reports it); ``text_offset`` counts characters of the decoded
    tokens from the start of the prompt."""
    ids = (prompt_ids if echo else []) + gen["ids"]
    tokens = [tokenizer.decode([t]) for t in ids]
    offsets, at = [], 0 if echo else len(prompt_text)
    for tok in tokens:
        offsets.append(at)
        at += len(tok)
    top = []
    for tok, entry in zip(tokens, gen["lp"]):
        if entry is None:
            top.append(None)
            continue
        choices: dict[str, float] = {}
        for t, v in entry[1][:logprobs]:
            choices.setdefault(tokenizer.decode([t]), v)
        choices.setdefault(tok, entry[0])
        top.append(choices)
    return {"tokens": tokens, "token_logprobs": [None if e is None else e[0] for e in gen["lp"]],
            "top_logprobs": top, "text_offset": offsets}


class _TransformersRaw:
    """Raw-prompt generation and scoring on a ``TransformersLM``'s loaded model (its own methods render the chat
    template): the same sampling (per-row generators seeded by (seed, prompt ids, sample index)), equal-length
    batches when batch invariant, fp32 log-probabilities from its forward pass."""

    def __init__(self, backend):
        self.backend, self.tokenizer = backend, backend.tokenizer

    def token_logprobs(self, seqs: list[list[int]], top_k: int = 0) -> list[list]:
        import torch

        b, out = self.backend, []
        for seq in seqs:
            if len(seq) < 2:
                out.append([None] * len(seq))
                continue
            with Timer() as t:
                ids = torch.tensor([seq], device=b.device)
                logp = b._forward_last(ids, torch.ones_like(ids), len(seq))[0, :-1]  # position p predicts p+1
                chosen = logp.gather(-1, torch.tensor(seq[1:], device=b.device).unsqueeze(-1)).squeeze(-1).tolist()
                if top_k:
                    values, indices = logp.topk(top_k, dim=-1)
                    values, indices = values.tolist(), indices.tolist()
            b.usage.record(calls=1, prompt_tokens=len(seq), seconds=t.seconds)
            out.append([None] + [(chosen[p], list(zip(indices[p], values[p])) if top_k else [])
                                 for p in range(len(seq) - 1)])
        return out

    def raw_generate(self, prompts: list[list[int]], params: GenParams) -> list[list[dict]]:
        import torch
        from transformers import LogitsProcessorList

        from .transformers_lm import _RowSampler, sample_seed

        b = self.backend
        samples = 1 if params.temperature == 0 else params.n
        rows = [(i, j) for i in range(len(prompts)) for j in range(samples)]
        results: dict[tuple[int, int], dict] = {}
        pad = self.tokenizer.pad_token_id
        for batch in b._batches([len(prompts[i]) for i, _ in rows]):
            chunk = [rows[k] for k in batch]
            seqs = [prompts[i] for i, _ in chunk]
            width = max(map(len, seqs))
            ids = torch.tensor([[pad] * (width - len(s)) + s for s in seqs], device=b.device)
            mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=b.device)
            kwargs = dict(max_new_tokens=params.max_tokens, do_sample=False, pad_token_id=pad,
                          eos_token_id=b.eos_ids, temperature=None, top_p=None, top_k=None)
            if params.temperature > 0:
                gens = [torch.Generator().manual_seed(sample_seed(params.seed, prompts[i], j)) for i, j in chunk]
                kwargs["logits_processor"] = LogitsProcessorList([_RowSampler(gens, params.temperature,
                                                                              params.top_p)])
            if params.stop:
                kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with Timer() as t, torch.inference_mode():
                generated = b.model.generate(input_ids=ids, attention_mask=mask, **kwargs)[:, width:].tolist()
            finished = [self._finish(g, params) for g in generated]
            results.update(zip(chunk, finished))
            b.usage.record(calls=len(chunk), prompt_tokens=int(mask.sum()),
                           completion_tokens=sum(len(f["ids"]) for f in finished), seconds=t.seconds)
        out: list[list[dict]] = [[] for _ in prompts]
        for i, j in rows:
            out[i].append(results[(i, j)])
        return [c * (params.n // samples) for c in out]

    def _finish(self, generated: list[int], params: GenParams) -> dict:
        """The generated ids up to the end-of-sequence token (kept, as vLLM reports it) or the token that completed
        a stop string, the text (cut before the stop string) and the finish reason."""
        from .transformers_lm import truncate_at_stop

        def decode(ids):
            return self.tokenizer.decode(ids, skip_special_tokens=True)

        eos = set(self.backend.eos_ids)
        end = next((k for k, tok in enumerate(generated) if tok in eos), None)
        ids = generated if end is None else generated[:end + 1]
        text = decode(ids)
        cut = truncate_at_stop(text, params.stop)
        if len(cut) < len(text):
            k = next(k for k in range(1, len(ids) + 1) if any(s and s in decode(ids[:k]) for s in params.stop))
            return {"ids": ids[:k], "text": cut, "finish_reason": "stop"}
        return {"ids": ids, "text": text, "finish_reason": "length" if end is None else "stop"}


def serve(lm: LM, *, host: str = "127.0.0.1", port: int = 8000, uds: str | None = None) -> None:
    """Serve ``lm`` until interrupted, on ``uds`` (a Unix socket path) if given, else on ``host:port``."""
    import uvicorn

    uvicorn.run(create_app(lm), host=host, port=port, uds=uds, log_level="warning")
