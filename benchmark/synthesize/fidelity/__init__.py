"""Reconstruction fidelity: how close the action reconstructed from (context, trace) comes to the real action.

A scorer is ``score(run, records, traces, reconstructions) -> scores``: for each record, its candidate traces and
(when the scorer needs them) the reconstruction model's action for each; it returns one score per candidate, higher
is closer. ``reconstructs`` says whether the reconstructions must be generated first. Adding a scorer is adding one
file and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from . import embedding, judge, loglik


class Fidelity(NamedTuple):
    score: Callable[..., list[list[float]]]
    reconstructs: bool  # False: scores the real action directly (no reconstruction generated)


FIDELITY: dict[str, Fidelity] = {
    "judge": Fidelity(judge.score, reconstructs=True),
    "loglik": Fidelity(loglik.score, reconstructs=False),
    "embedding": Fidelity(embedding.score, reconstructs=True),
}

__all__ = ["FIDELITY", "Fidelity"]
