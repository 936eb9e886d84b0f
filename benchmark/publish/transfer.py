"""Cross-model transfer matrices on the board: their digest and where they are stored. The experiment that makes
them (traces by synthesizer model A used by action model B) is ``benchmark.orchestrate.transfer``."""

from __future__ import annotations

from pathlib import Path

from ..errors import DataError
from ..io import dumps_canonical, read_json, sha256_text, write_json
from ..records.stats import rate_from_counts, same_estimate
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


def read_transfer(path: Path | str) -> dict:
    """A matrix from the board, checked: the schema, the digest (edited after it was made?) and every cell's
    estimates against its counts (a cell cannot show a win rate its wins and losses do not give). Raises a
    DataError naming the file, the cell and the field."""
    doc = read_json(path)
    validate("transfer", doc, file=path)
    if doc["digest"] != digest(doc):
        raise DataError("digest does not match the matrix's content (edited after it was made?)", file=path,
                        field="digest")
    for cell in doc["cells"]:
        wins, losses, ties = cell["wins"], cell["losses"], cell["ties"]
        for rate in ("win_rate", "win_rate_ties_half"):
            estimate, expected = cell[rate]["estimate"], rate_from_counts(rate, wins, losses, ties)
            if not same_estimate(estimate, expected):
                raise DataError(f"{rate} {estimate} is not what the cell's counts give ({expected})", file=path,
                                record=f"{cell['method']}: {cell['synthesizer']} -> {cell['action_model']}",
                                field=f"cells/{rate}")
    return doc
