"""The ``fake`` backend: a deterministic stand-in for a language model, with no weights and no torch, so that the
pipeline's logic can be tested in seconds (``get_lm("fake", "fake")``). Its numbers mean nothing about any method.

Every answer is a sha256-based function of the model name, the messages and the parameters, with just enough
structure that a pipeline run gives verdicts that are neither all ties nor all wins:

- ``generate`` writes ``Reasoning: <words>\\nResponse: <words>`` from words of the prompt (the response from the
  last message, which holds the demonstrations and the new conversation). One token is one word: ``max_tokens``
  cuts the text, then it is cut before the first stop string. At temperature 0 every sample is the same text and
  the seed does not matter; above 0 each sample is drawn from (seed, prompt, sample index), as in the transformers
  backend.
- ``loglikelihood``: a sum over the continuation's words (and punctuation marks) of a negative value per word,
  small for a word that occurs in the prompt and large otherwise, plus a jitter from the prompt and the word. A
  prompt that contains the continuation's words makes it more probable; identical prompts give identical numbers.
- ``score_options``: where the prompt labels a block of text with an option (a line ending in ``A:`` followed by
  text up to a blank line, as the judge prompts do), the option whose block shares more words with the rest of the
  prompt gets more probability; otherwise the distribution comes from the hash alone.

Names are models: ``fake`` and ``fake-judge`` answer differently and have different fingerprints. The fingerprint
keys the LM cache, so ``VERSION`` must change whenever an answer does."""

from __future__ import annotations

import math
import random
import re

from ..io import dumps_canonical, sha256_text
from ._base import GenParams, Messages, Timer, Usage

VERSION = 1
_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w+")
IN_PROMPT, NOT_IN_PROMPT = 0.5, 4.0  # nats per word of a continuation, before the jitter


def _unit(*parts) -> float:
    """A number in [0, 1) determined by ``parts``."""
    return int(sha256_text(dumps_canonical(list(parts)))[:16], 16) / 16 ** 16


def _text(messages: Messages) -> str:
    return "\n".join(str(m.get("content") or "") for m in messages)


def _cut_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """``text`` before the first stop string (the stop string itself is not returned, as in OpenAI's API)."""
    return text[:min((i for s in stop if s and (i := text.find(s)) >= 0), default=len(text))]


class FakeLM:
    """Options: ``batch_size`` (requests per backend call, default 64; it changes nothing but progress)."""

    def __init__(self, name: str, *, batch_size: int = 64):
        self.name = name
        self.fingerprint = sha256_text(f"reconbench-fake-lm\0v{VERSION}\0{name}")
        self.batch_size = batch_size
        self.usage = Usage()

    def _sample(self, messages: Messages, params: GenParams, index: int) -> str:
        # greedy decoding ignores the seed, so the key only holds what changes a greedy answer
        draw = (params.seed, index, params.temperature, params.top_p) if params.temperature > 0 else ()
        rng = random.Random(sha256_text(dumps_canonical([self.name, messages, *draw])))
        everything = _WORD.findall(_text(messages)) or ["nothing"]
        last = _WORD.findall(str(messages[-1].get("content") or "")) if messages else []
        reasoning = rng.choices(everything, k=rng.randint(4, 10))
        response = rng.choices(last or everything, k=rng.randint(5, 20))
        words = ["Reasoning:", *reasoning, "\nResponse:", *response]
        text = " ".join(words[:params.max_tokens]).replace(" \n", "\n")
        return _cut_at_stop(text, params.stop)

    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]:
        with Timer() as t:
            out = [[self._sample(m, params, i) for i in range(params.n)] for m in prompts]
        # one call per sample, as the transformers backend counts them
        self.usage.record(calls=len(prompts) * params.n,
                          prompt_tokens=params.n * sum(len(_TOKEN.findall(_text(m))) for m in prompts),
                          completion_tokens=sum(len(s.split()) for samples in out for s in samples),
                          seconds=t.seconds)
        return out

    def _loglik(self, messages: Messages, continuation: str) -> float:
        prompt = _text(messages)
        seen = {w.lower() for w in _TOKEN.findall(prompt)}
        key = sha256_text(dumps_canonical([self.name, messages]))
        total = 0.0
        for i, token in enumerate(_TOKEN.findall(continuation)):
            jitter = _unit(key, i, token)
            total -= IN_PROMPT * (1 + jitter) if token.lower() in seen else NOT_IN_PROMPT * (1 + jitter)
        return total

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        with Timer() as t:
            out = [self._loglik(m, c) for m, c in requests]
        self.usage.record(calls=len(requests), seconds=t.seconds,
                          prompt_tokens=sum(len(_TOKEN.findall(_text(m) + c)) for m, c in requests))
        return out

    def _options(self, messages: Messages, options: list[str]) -> dict[str, float]:
        prompt = _text(messages)
        blocks = {}
        for opt in options:
            m = re.search(rf"(?ms)^[^\n]*\b{re.escape(opt)}:[ \t]*\n(.*?)(?=\n[ \t]*\n|\Z)", prompt)
            if m:
                blocks[opt] = m
        rest = prompt
        for m in sorted(blocks.values(), key=lambda m: m.start(), reverse=True):
            rest = rest[:m.start()] + rest[m.end():]
        reference = {w.lower() for w in _WORD.findall(rest)}
        key = sha256_text(dumps_canonical([self.name, messages]))
        logits = {}
        for opt in options:
            words = [w.lower() for w in _WORD.findall(blocks[opt].group(1))] if opt in blocks else []
            overlap = sum(w in reference for w in words) / len(words) if words else 0.0
            logits[opt] = 4.0 * overlap + _unit(key, opt)
        top = max(logits.values())
        weights = {opt: math.exp(v - top) for opt, v in logits.items()}
        total = sum(weights.values())
        return {opt: w / total for opt, w in weights.items()}

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        with Timer() as t:
            out = [self._options(m, options) for m in prompts]
        self.usage.record(calls=len(prompts), prompt_tokens=sum(len(_TOKEN.findall(_text(m))) for m in prompts),
                          seconds=t.seconds)
        return out
