"""``reconbench serve``: an OpenAI-compatible HTTP server over any backend, on a TCP port or a Unix socket, so a
container without network access can share the host's model (and its cache) through a mounted socket.

Endpoints: ``GET /v1/models`` (each entry also carries the model's ``fingerprint``, so the ``openai`` backend
shares cache entries with in-process runs) and ``POST /v1/chat/completions`` with ``n``, ``seed``, ``stop``,
``logprobs``/``top_logprobs`` and, as in vLLM's server, ``continue_final_message`` with ``prompt_logprobs`` for
the log-likelihood of a given assistant continuation (reported as one entry covering the whole continuation).
Requests run one at a time: the model is one set of weights, and batching happens inside a request."""

from __future__ import annotations

import threading
import time
import uuid

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from ._base import LM, GenParams


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
    # vLLM's extensions, for log-likelihoods of a given continuation
    add_generation_prompt: bool = True
    continue_final_message: bool = False
    prompt_logprobs: int | None = None


def create_app(lm: LM) -> FastAPI:
    """The FastAPI application serving ``lm`` (any backend wrapped by the cache)."""
    app = FastAPI(title="reconbench serve")
    lock = threading.Lock()

    @app.get("/v1/models")
    def list_models() -> dict:
        return {"object": "list", "data": [{"id": lm.name, "object": "model", "created": 0, "owned_by": "reconbench",
                                            "fingerprint": lm.fingerprint}]}

    @app.post("/v1/chat/completions")
    def chat(req: ChatRequest) -> dict:  # a plain def: FastAPI runs it in a worker thread
        if req.model not in (None, lm.name, lm.fingerprint):
            raise HTTPException(404, f"model {req.model!r} is not served here; this server has {lm.name!r}")
        if req.stream:
            raise HTTPException(400, "streaming is not supported")
        with lock:
            before = lm.usage.total
            try:
                if req.continue_final_message:
                    choices, prompt_logprobs = _continuation(lm, req)
                    extra = {"prompt_logprobs": prompt_logprobs}
                else:
                    choices, extra = _completions(lm, req), {}
            except ValueError as e:  # bad parameters or messages: the client's fault
                raise HTTPException(400, str(e)) from None
            after = lm.usage.total
        usage = {"prompt_tokens": after.prompt_tokens - before.prompt_tokens,
                 "completion_tokens": after.completion_tokens - before.completion_tokens}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
                "model": lm.name, "system_fingerprint": lm.fingerprint[:16], "choices": choices, "usage": usage,
                **extra}

    return app


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


def serve(lm: LM, *, host: str = "127.0.0.1", port: int = 8000, uds: str | None = None) -> None:
    """Serve ``lm`` until interrupted, on ``uds`` (a Unix socket path) if given, else on ``host:port``."""
    import uvicorn

    uvicorn.run(create_app(lm), host=host, port=port, uds=uds, log_level="warning")
