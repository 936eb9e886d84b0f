"""``reconbench demo`` (and ``make demo``): the whole chain on a small slice of one user, on the default offline CPU
model, in a few minutes: build the pack, write Backward Synthesis and RECON-Select traces, evaluate RECON-Select
against backward, add the result to a board and build it. The demo's board is its own folder under the runs folder,
so the demo never edits the repository's ``leaderboard/``; rerunning it reuses every trace and cached LM call.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

from . import paths

STEPS = 5


def _step(i: int, text: str, start: float) -> None:
    click.echo(f"[{i}/{STEPS}] {text}  (t={time.perf_counter() - start:.0f}s)", err=True)


def run_demo(*, pack: str = "debates", user: str = "biden", train_limit: int = 8, limit: int = 6,
             model: str = "smollm2-135m", board: Path | None = None) -> dict:
    """Run the demo; returns ``{"board", "result", "seconds"}``."""
    from . import publish
    from .publish._slice import ensure_pack, evaluate_slice, slice_config, synthesize_slice

    start = time.perf_counter()
    board = Path(board) if board is not None else paths.runs_dir() / "demo" / "leaderboard"
    _step(1, f"pack {pack}: verify the built splits, or build them from {paths.raw_dir()}", start)
    ensure_pack(pack)
    config = slice_config("cpu", model)
    for role in ("reconstruction", "judge"):
        config["models"][role]["name"] = model
    _step(2, f"Backward Synthesis traces for the first {train_limit} training turns of {pack}/{user}", start)
    baseline = synthesize_slice("backward", pack, user, train_limit, config)
    _step(3, "RECON-Select traces (N=4 candidates, reconstruction fidelity picks one)", start)
    method = synthesize_slice("recon_select", pack, user, train_limit, config)
    _step(4, f"evaluate recon_select against backward on the first {limit} test turns (predict, judge both orders)",
          start)
    out = paths.runs_dir() / "demo" / f"recon_select--{pack}--{user}.json"
    evaluate_slice("recon_select", method, baseline, pack, user, train_limit=train_limit, limit=limit,
                   action_model=model, judge=model, judge_mode="options", backend="transformers", out=out)
    _step(5, f"add the result and build the board in {board}", start)
    shutil.rmtree(publish.results_dir(board), ignore_errors=True)  # the demo's own board holds this run only
    publish.add(out, board)
    return {"board": board / "index.html", "result": out, "seconds": round(time.perf_counter() - start, 1)}


@click.command()
@click.option("--pack", default="debates", show_default=True)
@click.option("--user", default="biden", show_default=True)
@click.option("--train-limit", type=click.IntRange(min=1), default=8, show_default=True,
              help="training turns given traces")
@click.option("--limit", type=click.IntRange(min=1), default=6, show_default=True, help="test turns evaluated")
@click.option("--model", default="smollm2-135m", show_default=True,
              help="every role: synthesizer, reconstruction, action model, judge")
@click.option("--board", type=click.Path(file_okay=False, path_type=Path),
              help="board folder [default: <runs>/demo/leaderboard]")
def demo(pack, user, train_limit, limit, model, board):
    """Run the whole chain on a small slice of one user and print where the board is."""
    from .publish.cli import show_cmd

    out = run_demo(pack=pack, user=user, train_limit=train_limit, limit=limit, model=model, board=board)
    click.get_current_context().invoke(show_cmd, by="overall", board=out["board"].parent)
    click.echo(f"result: {out['result']}")
    click.echo(f"board:  {out['board']}")
    click.echo(f"done in {out['seconds']:.0f} s")
