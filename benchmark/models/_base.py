"""The LM interface every stage uses: sampling parameters, the protocol each backend implements, and usage
accounting per pipeline stage."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

Messages = list[dict]  # OpenAI-style [{"role": ..., "content": ...}]


@dataclass(frozen=True)
class GenParams:
    """Sampling parameters; every field is part of the cache key."""

    max_tokens: int = 128
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()
    n: int = 1  # samples per prompt (RECON-Select candidates)

    def __post_init__(self):
        # a list given for stop would make the dataclass unhashable and the cache key depend on the type
        object.__setattr__(self, "stop", tuple(self.stop))
        if self.n < 1 or self.max_tokens < 1:
            raise ValueError(f"GenParams needs n >= 1 and max_tokens >= 1, got n={self.n}, "
                             f"max_tokens={self.max_tokens}")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError(f"GenParams needs temperature >= 0 and 0 < top_p <= 1, got {self}")

    def as_dict(self) -> dict:
        return asdict(self) | {"stop": list(self.stop)}


@runtime_checkable
class LM(Protocol):
    """What every stage calls. ``get_lm`` returns one, wrapped by the on-disk cache and usage accounting."""

    name: str  # registry name or path
    fingerprint: str  # sha256 of the weights (+ tokenizer), recorded in results
    usage: Usage

    def generate(self, prompts: list[Messages], params: GenParams, *, desc: str | None = None) -> list[list[str]]:
        """One list of ``params.n`` completions per prompt; a progress bar labelled ``desc``."""
        ...

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        """Sum of log p(continuation | chat prompt + assistant turn start), in nats, per request."""
        ...

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        """Next-token probability of each option's first token after the assistant turn start, renormalised."""
        ...


class Backend(Protocol):
    """What a backend file implements; the cache wrapper turns it into an ``LM``. Each method computes every
    request it is given (no caching) and records model calls and tokens in ``self.usage``."""

    name: str
    fingerprint: str
    batch_size: int
    usage: Usage

    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]: ...

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]: ...

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]: ...


_STAGE: contextvars.ContextVar[str] = contextvars.ContextVar("reconbench_stage", default="default")


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Attribute LM usage inside the block to pipeline stage ``name`` (``with stage("synthesize"): ...``)."""
    token = _STAGE.set(name)
    try:
        yield
    finally:
        _STAGE.reset(token)


def current_stage() -> str:
    return _STAGE.get()


@dataclass
class StageUsage:
    calls: int = 0  # requests the model computed (one per prompt, loglikelihood request or option scoring)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # wall time spent in the model
    cache_hits: int = 0  # requests answered from the cache


@dataclass
class Usage:
    """Calls, tokens, seconds and cache hits per stage. Thread-safe: the server records from many threads."""

    stages: dict[str, StageUsage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, *, calls: int = 0, prompt_tokens: int = 0, completion_tokens: int = 0, seconds: float = 0.0,
               cache_hits: int = 0) -> None:
        with self._lock:
            s = self.stages.setdefault(current_stage(), StageUsage())
            s.calls += calls
            s.prompt_tokens += prompt_tokens
            s.completion_tokens += completion_tokens
            s.seconds += seconds
            s.cache_hits += cache_hits

    @property
    def total(self) -> StageUsage:
        with self._lock:
            t = StageUsage()
            for s in self.stages.values():
                for k, v in asdict(s).items():
                    setattr(t, k, getattr(t, k) + v)
            return t

    def as_dict(self) -> dict:
        """Per-stage usage as plain data, for result files."""
        with self._lock:
            return {name: asdict(s) for name, s in self.stages.items()}


class Timer:
    """``with Timer() as t: ...; t.seconds``: wall time of a block, for usage records."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
