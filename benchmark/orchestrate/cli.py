"""``reconbench grid GRID.yaml``: run an evaluation grid (docs/grid.md)."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate


@click.command()
@click.argument("grid_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: a bounded pool of processes on this machine; ray: Ray tasks with the grid's resources")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="cells at once (local; for ray, the local instance it starts gets room for this many)")
@click.option("--address", default=None, help="ray: the address of an existing cluster [default: start a local "
              "instance]")
@click.option("--state", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the grid's state folder [default: <runs>/grid/<name>]")
@click.option("--board", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="board folder the results go to [default: $RECONBENCH_LEADERBOARD or leaderboard/]")
@click.option("--plan", is_flag=True, help="list the cells and their recorded status; run nothing")
@click.option("--force", is_flag=True, help="rerun every cell, even those recorded as done")
@click.option("--no-publish", is_flag=True, help="record the results; do not put them on the board")
def grid(grid_file, executor, workers, address, state, board, plan, force, no_publish):
    """Run the cells of GRID_FILE (YAML or JSON) that are not done yet, record each outcome, then put every
    successful result on the board and rebuild it once. A failed cell is reported and does not stop the others;
    a rerun retries only failed and missing cells."""
    from .executors import make_executor
    from .grid import expand, load_grid, recorded, run_grid, state_dir, summary_markdown

    spec = load_grid(grid_file)
    if plan:
        folder = state_dir(spec, state)
        rows = []
        for c in expand(spec):
            o = recorded(folder, c) or {}
            rows.append([c.label, o.get("status", "to run"), (o.get("failure") or {}).get("kind", ""),
                         c.digest[:12]])
        click.echo(tabulate(rows, headers=["cell", "status", "failure", "digest"]))
        return
    ex = make_executor(executor, workers=workers, address=address, resources=spec.get("resources"),
                       env={"RECONBENCH_LM_URL": spec.get("lm_url")})
    try:
        run = run_grid(spec, ex, state=state, board=board, force=force, publish=not no_publish)
    finally:
        if hasattr(ex, "shutdown"):
            ex.shutdown()
    click.echo(summary_markdown(run))
    click.echo(f"state: {run.state}" + (f"; board: {len(run.published)} results" if run.published else ""))
    if run.failed:
        raise SystemExit(1)
