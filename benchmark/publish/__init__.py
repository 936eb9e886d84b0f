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

__all__ = ["add", "add_result", "aggregate", "board_dir", "build", "load_result", "load_results", "render_html",
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
    board = board_dir(board)
    stored = add_result(result, results_dir(board))
    try:
        build(board)
    except BaseException:
        stored.unlink(missing_ok=True)
        raise
    return stored
