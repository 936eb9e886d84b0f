"""The ``vllm`` backend: vLLM's offline engine (``vllm.LLM``) on a GPU. Imported only when asked for; install it
with ``pip install -e .[vllm]`` on a GPU machine. Prompts are rendered with the model's chat template and sent as
token ids, so rendering and tokenization match the transformers backend; each sample is its own request seeded by
(seed, prompt, sample index), as there."""

from __future__ import annotations

import math

from ..errors import DataError, ModelNotAvailable
from ._base import GenParams, Messages, Timer, Usage
from ._convert import local_model
from .transformers_lm import sample_seed, truncate_at_stop


class VLLMLM:
    """Options: ``dtype`` (default "auto"), ``gpu_memory_utilization`` (default 0.85), ``max_model_len``, and
    ``batch_size`` (requests handed to the engine at once, default 256); anything else goes to ``vllm.LLM``."""

    def __init__(self, name: str, *, dtype: str = "auto", gpu_memory_utilization: float = 0.85,
                 batch_size: int = 256, **engine_options):
        try:
            import vllm
        except ImportError:
            raise ModelNotAvailable("the vllm backend needs vLLM on a GPU machine: pip install -e '.[vllm]'") from None
        self._vllm = vllm
        folder, self.fingerprint = local_model(name)
        self.name, self.batch_size, self.usage = name, batch_size, Usage()
        self.engine = vllm.LLM(model=str(folder), dtype=dtype, gpu_memory_utilization=gpu_memory_utilization,
                               **engine_options)
        self.tokenizer = self.engine.get_tokenizer()

    def _ids(self, messages: Messages) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def _run(self, token_ids: list[list[int]], params: list) -> list:
        prompts = [{"prompt_token_ids": ids} for ids in token_ids]
        with Timer() as t:
            outputs = self.engine.generate(prompts, params, use_tqdm=False)
        completion = sum(len(c.token_ids) for o in outputs for c in o.outputs)
        self.usage.record(calls=len(prompts), prompt_tokens=sum(map(len, token_ids)), completion_tokens=completion,
                          seconds=t.seconds)
        return outputs

    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]:
        samples = 1 if params.temperature == 0 else params.n
        rows = [(i, j) for i in range(len(prompts)) for j in range(samples)]
        ids = [self._ids(m) for m in prompts]
        sampling = [self._vllm.SamplingParams(
            n=1, max_tokens=params.max_tokens, temperature=params.temperature, top_p=params.top_p,
            seed=sample_seed(params.seed, prompts[i], j), stop=list(params.stop) or None) for i, j in rows]
        outputs = self._run([ids[i] for i, _ in rows], sampling)
        out: list[list[str]] = [[] for _ in prompts]
        for (i, _), o in zip(rows, outputs):
            out[i].append(truncate_at_stop(o.outputs[0].text, params.stop))
        return [c * (params.n // samples) for c in out]

    def _last_logprobs(self, token_ids: list[list[int]], count: list[int]) -> list[float]:
        """Sum of the log-probabilities of the last ``count[k]`` prompt tokens of each sequence."""
        outputs = self._run(token_ids, self._vllm.SamplingParams(max_tokens=1, prompt_logprobs=0))
        sums = []
        for ids, k, o in zip(token_ids, count, outputs):
            sums.append(sum(o.prompt_logprobs[p][ids[p]].logprob for p in range(len(ids) - k, len(ids))))
        return sums

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        seqs, counts = [], []
        for messages, continuation in requests:
            cont = self.tokenizer(continuation, add_special_tokens=False).input_ids
            seqs.append(self._ids(messages) + cont)
            counts.append(len(cont))
        return self._last_logprobs(seqs, counts)

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        firsts = [self.tokenizer(o, add_special_tokens=False).input_ids[:1] for o in options]
        if any(not f for f in firsts) or len({f[0] for f in firsts}) != len(options):
            raise DataError(f"answer options {options} are empty or share a first token", field="options")
        # each option's first token appended to the prompt: its prompt logprob is the next-token probability
        seqs = [self._ids(m) + f for m in prompts for f in firsts]
        logps = self._last_logprobs(seqs, [1] * len(seqs))
        out = []
        for k in range(len(prompts)):
            row = logps[k * len(options):(k + 1) * len(options)]
            top = max(row)
            weights = [math.exp(v - top) for v in row]
            out.append({o: w / sum(weights) for o, w in zip(options, weights)})
        return out
