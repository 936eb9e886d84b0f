"""``reconbench demo`` (and ``make demo``): the whole chain on a small slice of one user, on the default offline CPU
model, in a few minutes: build the pack, write Backward Synthesis and RECON-Select traces, evaluate RECON-Select
against backward with the default scoring protocol, run that protocol's validity controls on the same slice, add
the result and the control report to a board and build it. The last lines say the number, whether it is decided
and whether the controls let the board rank it. The demo's board is its own folder under the runs folder,
so the demo never edits the repository's ``leaderboard/``; rerunning it reuses every trace and cached LM call.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click

from . import paths

STEPS = 6


def _step(i: int, text: str, start: float) -> None:
    click.echo(f"[{i}/{STEPS}] {text}  (t={time.perf_counter() - start:.0f}s)", err=True)


def run_demo(*, pack: str = "debates", user: str = "biden", train_limit: int = 8, limit: int = 12,
             model: str = "smollm2-135m", protocol: str | None = None, board: Path | None = None) -> dict:
    """Run the demo; returns ``{"board", "result", "report", "seconds"}``."""
    from . import publish
    from .controls.report import write_report
    from .controls.run import run_controls
    from .evaluate.protocols import DEFAULT
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
    protocol = protocol or DEFAULT
    _step(4, f"evaluate recon_select against backward on the first {limit} test turns (protocol {protocol})", start)
    out = paths.runs_dir() / "demo" / f"recon_select--{pack}--{user}--{protocol}.json"
    evaluate_slice("recon_select", method, baseline, pack, user, train_limit=train_limit, limit=limit,
                   action_model=model, judge=model, judge_mode="options", backend="transformers", out=out,
                   protocol=protocol)
    _step(5, f"validity controls of protocol {protocol} on the same slice (wrong user, self, shuffled traces, ...)",
          start)
    report = run_controls(pack, user, traces=baseline, action_model=model, judge=model, protocol=protocol,
                          limit=limit, train_limit=train_limit, command=f"reconbench demo --protocol {protocol}")
    _step(6, f"add the result and the control report, build the board in {board}", start)
    shutil.rmtree(publish.results_dir(board), ignore_errors=True)  # the demo's own board holds this run only
    shutil.rmtree(board / "controls", ignore_errors=True)
    report_path, _ = write_report(report, board / "controls")
    publish.add(out, board)
    return {"board": board / "index.html", "result": out, "report": report_path,
            "seconds": round(time.perf_counter() - start, 1)}


@click.command()
@click.option("--pack", default="debates", show_default=True)
@click.option("--user", default="biden", show_default=True)
@click.option("--train-limit", type=click.IntRange(min=1), default=8, show_default=True,
              help="training turns given traces")
@click.option("--limit", type=click.IntRange(min=1), default=12, show_default=True, help="test turns evaluated")
@click.option("--protocol", type=click.Choice(["likelihood", "pairwise", "pairwise-calibrated", "pointwise"]),
              default=None, help="scoring protocol [default: the CPU default, likelihood]")
@click.option("--model", default="smollm2-135m", show_default=True,
              help="every role: synthesizer, reconstruction, action model, judge")
@click.option("--board", type=click.Path(file_okay=False, path_type=Path),
              help="board folder [default: <runs>/demo/leaderboard]")
def demo(pack, user, train_limit, limit, model, protocol, board):
    """Run the whole chain on a small slice of one user and print where the board is."""
    from .controls.report import read_report, table
    from .evaluate import read_result
    from .publish.cli import show_cmd

    out = run_demo(pack=pack, user=user, train_limit=train_limit, limit=limit, model=model, protocol=protocol,
                   board=board)
    click.get_current_context().invoke(show_cmd, by="overall", board=out["board"].parent)
    report, result = read_report(out["report"]), read_result(out["result"])
    click.echo("\n" + table(report))
    o = result["summary"]["dimensions"]["overall"]
    wr = o["win_rate"]
    number = ("undefined (every example tied)" if wr["estimate"] is None else
              f"{100 * wr['estimate']:.1f}% [{100 * wr['ci_low']:.1f}%, {100 * wr['ci_high']:.1f}%]")
    click.echo(f"\nrecon_select vs backward on {pack}/{user}, protocol {result['protocol']['name']}: win rate "
               f"{number} ({o['wins']} won, {o['losses']} lost, {o['ties']} tied of {o['n']})")
    click.echo(f"controls: {report['passed']} passed, {report['failed']} failed -> "
               f"{'RANKED' if report['ranking']['ranks'] else 'NOT RANKED'} ({report['ranking']['reason']})")
    click.echo(f"result: {out['result']}")
    click.echo(f"board:  {out['board']}")
    click.echo(f"done in {out['seconds']:.0f} s")
