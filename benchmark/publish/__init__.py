"""Publishing: the results store, the scorer and the static board under ``leaderboard/``.

``add(result)`` checks a result file and puts it in the store (refusing a malformed or duplicate one before
anything changes), ``build()`` rescores the whole store and regenerates ``index.html``, ``LEADERBOARD.md`` and
``scores.json``; ``transfer`` runs the synthesizer model x action model grid. See docs/leaderboard.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import paths
from .board import render_html, render_markdown, write_board
from .scorer import aggregate, score_store
from .store import add_result, load_result, load_results, result_key, results_dir

__all__ = ["add", "add_many", "add_result", "aggregate", "board_dir", "build", "load_result", "load_results",
           "render_html",
           "render_markdown", "result_key", "results_dir", "score_store", "write_board"]


def board_dir(path: Path | str | None = None) -> Path:
    """The board folder: ``path``, else ``RECONBENCH_LEADERBOARD``, else the repository's ``leaderboard/``."""
    if path is not None:
        return Path(path)
    env = os.environ.get("RECONBENCH_LEADERBOARD")
    return Path(env).expanduser() if env else paths.LEADERBOARD_DIR


def build(board: Path | str | None = None) -> dict[str, Path]:
    """Rescore every result in the store and regenerate the board files; returns their paths."""
    board = board_dir(board)
    return write_board(board, score_store(results_dir(board)))


def add(result: Path | str, board: Path | str | None = None) -> Path:
    """Add a result file to the store and rebuild the board. A refused file changes nothing; if the rebuild fails
    the added file is taken out again, so the store and the board stay consistent."""
    return add_many([result], board)[0]


def add_many(results: list[Path | str], board: Path | str | None = None, *, replace: bool = False) -> list[Path]:
    """Add several result files all-or-nothing: every file is checked against the store and against the others
    first; if any is refused, or the rebuild fails, none stays in the store. ``replace``: a stored result with the
    same key is replaced (kept if it is the same result, by digest) instead of refusing the new file; if anything
    fails, the replaced files are put back."""
    from .store import load_result, load_results, result_key

    board = board_dir(board)
    keys: dict[tuple, Path] = {}
    docs = []
    for r in results:  # refuse duplicates among the new files before anything is written
        doc = load_result(r)
        key = result_key(doc)
        if key in keys:
            from ..errors import DataError
            raise DataError(f"same (submission, pack, user, action model, judge, protocol) as {keys[key]}", file=r)
        keys[key] = Path(r)
        docs.append((Path(r), doc))
    removed: dict[Path, bytes] = {}  # replaced files, put back if anything fails
    unchanged: list[Path] = []
    to_add = [r for r, _ in docs]
    if replace:
        on_board = {result_key(d): (p, d) for p, d in load_results(results_dir(board))}
        to_add = []
        for r, doc in docs:
            old_path, old_doc = on_board.get(result_key(doc), (None, None))
            if old_doc is not None and old_doc["digest"] == doc["digest"]:
                unchanged.append(old_path)  # already there: nothing to do
                continue
            if old_path is not None:
                removed[old_path] = old_path.read_bytes()
            to_add.append(r)
    stored: list[Path] = []
    try:
        for path in removed:
            path.unlink()
        for r in to_add:
            stored.append(add_result(r, results_dir(board)))
        build(board)
    except BaseException:
        for path in stored:
            path.unlink(missing_ok=True)
        for path, data in removed.items():
            from ..io import atomic_write_bytes
            atomic_write_bytes(path, data)
        if stored or removed:
            build(board)  # the board as it was before
        raise
    return unchanged + stored
