"""Cross-model transfer matrices on the board: their digest and where they are stored. The experiment that makes
them (traces by synthesizer model A used by action model B) is ``benchmark.orchestrate.transfer``."""

from __future__ import annotations

from pathlib import Path

from ..io import dumps_canonical, sha256_text, write_json
from ..schema import validate


def digest(doc: dict) -> str:
    """sha256 of the matrix without ``run`` and ``digest`` (what a rerun must reproduce)."""
    return sha256_text(dumps_canonical({k: v for k, v in doc.items() if k not in ("run", "digest")}))


def save_transfer(doc: dict, board: Path) -> Path:
    """Write the matrix to ``<board>/transfer/<name>.json`` (the board shows every matrix there)."""
    path = Path(board) / "transfer" / f"{doc['name']}.json"
    validate("transfer", doc, file=path)
    write_json(path, doc)
    return path
