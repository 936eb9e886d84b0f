"""The default backend: Hugging Face transformers on CPU or GPU.

Batch invariance: a request's output must not depend on which other requests share its batch (the cache sends only
the misses, so batch composition changes with what is cached). Left padding changes the floating-point result of a
row slightly (about 1e-5 in log-probability), and greedy decoding amplifies that into different text after a few
dozen tokens. So by default requests are grouped by their exact token length and only rows of equal length share a
forward pass: no padding at all. Sampling draws each row from its own generator seeded by (seed, prompt, sample
index). ``batch_invariant=False`` restores left-padded batches of mixed lengths (faster generation on a GPU, at the
price of cache-dependent greedy text); see docs/models.md."""

from __future__ import annotations

import hashlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

from ..errors import DataError
from ..io import dumps_canonical
from ._base import GenParams, Messages, Timer, Usage
from ._convert import local_model
from ._untrusted import neutralize, special_strings


def sample_seed(seed: int, messages: Messages, index: int) -> int:
    """The generator seed of sample ``index`` of a prompt: independent of batch composition and backend."""
    digest = hashlib.sha256(f"{seed}\0{dumps_canonical(messages)}\0{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & 0x7FFF_FFFF_FFFF_FFFF


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> str:
    """Cut ``text`` before the first stop string (the stop string itself is not returned, as in OpenAI's API)."""
    cut = min((i for s in stop if s and (i := text.find(s)) >= 0), default=len(text))
    return text[:cut]


class _RowSampler(LogitsProcessor):
    """Samples each row with its own generator (temperature, top-p) and leaves only the drawn token, so greedy
    selection in ``generate`` picks it."""

    def __init__(self, generators: list[torch.Generator], temperature: float, top_p: float):
        self.generators, self.temperature, self.top_p = generators, temperature, top_p

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        probs = torch.softmax(scores.float() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            sorted_p, order = probs.sort(dim=-1, descending=True)
            # keep the smallest prefix whose mass reaches top_p (always at least the most likely token)
            drop = (sorted_p.cumsum(-1) - sorted_p) >= self.top_p
            probs = probs.scatter(-1, order, sorted_p.masked_fill(drop, 0.0))
        out = torch.full_like(scores, float("-inf"))
        for row, gen in enumerate(self.generators):
            token = torch.multinomial(probs[row].cpu(), 1, generator=gen)
            out[row, token.to(out.device)] = 0.0
        return out


class TransformersLM:
    """A causal LM loaded with transformers. Options: ``device`` ("cpu", "cuda", ...; default cuda when available),
    ``dtype`` ("float32", "bfloat16", ...; default float32 on CPU, where bf16 breaks batched == one-by-one greedy
    equality, and bfloat16 on GPU), ``batch_size`` (rows per forward pass, default 16)."""

    def __init__(self, name: str, *, device: str | None = None, dtype: str | None = None, batch_size: int = 16,
                 batch_invariant: bool = True):
        folder, self.fingerprint = local_model(name)
        self.name = name
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = dtype or ("float32" if self.device == "cpu" else "bfloat16")
        self.dtype = dtype
        self.batch_size = batch_size
        self.batch_invariant = batch_invariant
        self.usage = Usage()
        self.tokenizer = AutoTokenizer.from_pretrained(folder, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)).to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        eos = [eos] if isinstance(eos, int) else list(eos or [])
        self.eos_ids = sorted(set(eos) | {self.tokenizer.eos_token_id})
        self.specials = special_strings(self.tokenizer)

    # -- prompt rendering -------------------------------------------------------------------------------------
    def render(self, messages: Messages) -> str:
        """The chat prompt text up to and including the assistant turn start; special-token strings inside the
        messages are neutralized first (``benchmark.models._untrusted``), so untrusted text cannot inject control
        tokens."""
        try:
            return self.tokenizer.apply_chat_template(neutralize(messages, self.specials), tokenize=False,
                                                      add_generation_prompt=True)
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"cannot render chat messages: {e}", field="messages") from None

    def _text_ids(self, text: str) -> list[int]:
        """Token ids of a continuation as plain text: special-token strings in it stay text."""
        return self.tokenizer(text, add_special_tokens=False, split_special_tokens=True).input_ids

    def _prompt_ids(self, messages: Messages) -> list[int]:
        # the chat template already writes the special tokens; adding them again would double the BOS
        return self.tokenizer(self.render(messages), add_special_tokens=False).input_ids

    def _left_pad(self, seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask) of token sequences, left-padded to the longest (no padding at all when they
        are of equal length, as batch-invariant batches are)."""
        width, pad = max(map(len, seqs)), self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(s)) + s for s in seqs], device=self.device)
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=self.device)
        return ids, mask

    def _forward_last(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, keep: int) -> torch.Tensor:
        """Log-probabilities (fp32) at the last ``keep`` positions of a left-padded batch."""
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                logits_to_keep=keep).logits
        return torch.log_softmax(logits.float(), dim=-1)

    def _batches(self, lengths: list[int]) -> list[list[int]]:
        """Indices of the requests grouped into forward passes: equal token length only when batch invariant
        (in first-seen order of lengths, so the grouping is a function of the requests alone), else in order."""
        if not self.batch_invariant:
            order = list(range(len(lengths)))
            return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        groups: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            groups.setdefault(n, []).append(i)
        return [g[i:i + self.batch_size] for g in groups.values() for i in range(0, len(g), self.batch_size)]

    # -- the three calls ----------------------------------------------------------------------------------------
    def generate(self, prompts: list[Messages], params: GenParams) -> list[list[str]]:
        """``params.n`` completions per prompt. Greedy decoding computes one and repeats it ``n`` times."""
        samples = 1 if params.temperature == 0 else params.n
        rows = [(i, j) for i in range(len(prompts)) for j in range(samples)]
        encoded = [self._prompt_ids(m) for m in prompts]
        out: list[list[str]] = [[] for _ in prompts]
        results: dict[tuple[int, int], str] = {}
        for batch in self._batches([len(encoded[i]) for i, _ in rows]):
            chunk = [rows[b] for b in batch]
            with Timer() as t:
                completions, n_prompt, n_completion = self._generate_rows(
                    [encoded[i] for i, _ in chunk],
                    [sample_seed(params.seed, prompts[i], j) for i, j in chunk], params)
            results.update(zip(chunk, completions))
            self.usage.record(calls=len(chunk), prompt_tokens=n_prompt, completion_tokens=n_completion,
                              seconds=t.seconds)
        for i, j in rows:
            out[i].append(results[(i, j)])
        return [c * (params.n // samples) for c in out]

    def _generate_rows(self, seqs: list[list[int]], seeds: list[int], params: GenParams) -> tuple[list[str], int, int]:
        ids, mask = self._left_pad(seqs)
        kwargs = dict(max_new_tokens=params.max_tokens, do_sample=False, pad_token_id=self.tokenizer.pad_token_id,
                      eos_token_id=self.eos_ids, temperature=None, top_p=None, top_k=None)
        if params.temperature > 0:
            gens = [torch.Generator().manual_seed(s) for s in seeds]
            kwargs["logits_processor"] = LogitsProcessorList([_RowSampler(gens, params.temperature, params.top_p)])
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        with torch.inference_mode():
            generated = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)[:, ids.shape[1]:].tolist()
        completions, n_completion = [], 0
        for ids in generated:
            end = next((k for k, tok in enumerate(ids) if tok in self.eos_ids), len(ids))
            n_completion += min(end + 1, len(ids))  # the end-of-turn token was generated too
            text = self.tokenizer.decode(ids[:end], skip_special_tokens=True)
            completions.append(truncate_at_stop(text, params.stop))
        return completions, int(mask.sum()), n_completion

    def loglikelihood(self, requests: list[tuple[Messages, str]]) -> list[float]:
        """Sum of log p(continuation tokens | rendered prompt), nats; the continuation is tokenized on its own
        after the assistant turn start (which ends in a newline, so no token straddles the boundary)."""
        out = [0.0] * len(requests)  # an empty continuation has probability 1 and needs no forward pass
        todo = [k for k, (_, c) in enumerate(requests) if c]
        encoded = {k: (self._prompt_ids(requests[k][0]), self._text_ids(requests[k][1])) for k in todo}
        for batch in self._batches([len(encoded[k][0]) + len(encoded[k][1]) for k in todo]):
            index = [todo[b] for b in batch]
            chunk = [requests[k] for k in index]
            with Timer() as t:
                prompt_ids = [encoded[k][0] for k in index]
                cont_ids = [encoded[k][1] for k in index]
                ids, mask = self._left_pad([p + c for p, c in zip(prompt_ids, cont_ids)])
                keep = max(map(len, cont_ids)) + 1
                logp = self._forward_last(ids, mask, keep)  # position k predicts token at k+1
                for row, (k, c) in enumerate(zip(index, cont_ids)):
                    # continuation tokens are the last len(c) tokens; their predictors sit just before them
                    pred = logp[row, keep - 1 - len(c):keep - 1]
                    target = torch.tensor(c, device=self.device).unsqueeze(-1)
                    out[k] = float(pred.gather(-1, target).sum())
            self.usage.record(calls=len(chunk), prompt_tokens=int(mask.sum()), seconds=t.seconds)
        return out

    def option_token_ids(self, options: list[str]) -> list[int]:
        """The first token of each option; two options sharing it could not be told apart."""
        ids = []
        for opt in options:
            toks = self.tokenizer(opt, add_special_tokens=False).input_ids
            if not toks:
                raise DataError("an answer option is empty", field="options")
            ids.append(toks[0])
        if len(set(ids)) != len(ids):
            raise DataError(f"answer options {options} share a first token; make them start differently",
                            field="options")
        return ids

    def score_options(self, prompts: list[Messages], options: list[str]) -> list[dict[str, float]]:
        """Next-token distribution over the options' first tokens after the assistant turn start, renormalised."""
        option_ids = torch.tensor(self.option_token_ids(options), device=self.device)
        encoded = [self._prompt_ids(m) for m in prompts]
        out: list[dict[str, float] | None] = [None] * len(prompts)
        for batch in self._batches([len(s) for s in encoded]):
            with Timer() as t:
                ids, mask = self._left_pad([encoded[b] for b in batch])
                logp = self._forward_last(ids, mask, 1)[:, -1]
                probs = torch.softmax(logp[:, option_ids], dim=-1).tolist()
            for b, p in zip(batch, probs):
                out[b] = dict(zip(options, p))
            self.usage.record(calls=len(batch), prompt_tokens=int(mask.sum()), seconds=t.seconds)
        return out

    def completion_logprobs(self, messages: Messages, completion: str, top_k: int = 0) -> list[dict]:
        """Per-token log-probabilities of ``completion`` after the rendered prompt, with the ``top_k`` most likely
        tokens at each position (OpenAI's ``logprobs.content`` shape). An empty completion still reports the first
        position, so ``max_tokens=1`` scoring works when the model would end its turn at once."""
        prompt_ids = self._prompt_ids(messages)
        cont_ids = self._text_ids(completion)
        seq = prompt_ids + cont_ids
        with Timer() as t:
            ids = torch.tensor([seq], device=self.device)
            logp = self._forward_last(ids, torch.ones_like(ids), len(cont_ids) + 1)[0]
        self.usage.record(calls=1, prompt_tokens=len(seq), seconds=t.seconds)
        entries = []
        for pos in range(max(1, len(cont_ids))):
            # an empty completion means the turn ended at once: report the most likely token there
            tok = cont_ids[pos] if pos < len(cont_ids) else int(logp[pos].argmax())
            top = logp[pos].topk(top_k) if top_k else None
            entries.append({
                "token": self.tokenizer.decode([tok]), "logprob": float(logp[pos, tok]),
                "top_logprobs": [] if top is None else [
                    {"token": self.tokenizer.decode([i]), "logprob": float(v)}
                    for v, i in zip(top.values.tolist(), top.indices.tolist())],
            })
        return entries

