"""Reference traces and evaluations on a small slice of one user split: what the demo and the transfer grid run.

Traces are written by ``benchmark.synthesize`` into ``<runs>/slices/<pack>/<user>/train<N>/<synthesizer>/<method>/``
and reused when complete (every LM call is cached as well), so the transfer grid writes each synthesizer's traces
once for all action models, and a rerun repeats nothing.
"""

from __future__ import annotations

import copy
from pathlib import Path

from .. import layout
from ..errors import ReconBenchError
from ..packs import build_pack, load_split, verify_pack


def ensure_pack(pack: str) -> None:
    """Verify the built pack against its lock; build it from the raw corpora when it is missing or damaged."""
    try:
        verify_pack(pack)
    except ReconBenchError:
        build_pack(pack)


def slice_config(config: str | dict = "cpu", synthesizer: str | None = None, backend: str | None = None) -> dict:
    """A synthesis config (``benchmark.synthesize`` configs) with the synthesizer model replaced when given."""
    from ..synthesize import load_config

    config = copy.deepcopy(config if isinstance(config, dict) else load_config(config))
    if synthesizer is not None:
        config["models"]["synthesizer"] = {"name": synthesizer,
                                           "backend": backend or config["models"]["synthesizer"]["backend"]}
    return config


def synthesize_slice(method: str, pack: str, user: str, train_limit: int | None, config: dict, *,
                     demonstrated: int | None = None, k: int = 4) -> Path:
    """Traces of ``method`` for the first ``train_limit`` training records (``demonstrated``: only those that
    retrieval shows, ``k`` each, to the first ``demonstrated`` test records); returns the traces.jsonl path."""
    from ..retrieval import demonstrated as shown
    from ..runners import prepare_input
    from ..synthesize import synthesize

    records = load_split(pack, user, "train")[:train_limit]
    folder = f"train{train_limit or 'all'}"
    if demonstrated is not None:
        records = shown(records, load_split(pack, user, "test")[:demonstrated], k)
        folder += f"-shown{demonstrated}k{k}"
    base = layout.slice_dir(pack, user, folder, config["models"]["synthesizer"]["name"])
    prepare_input(base / "input", pack=pack, user=user, records=records)
    out = base / method
    synthesize(method, base / "input", out, config=config)
    return out / "traces.jsonl"
