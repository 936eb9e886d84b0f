"""``reconbench demo`` (and ``make demo``): the whole chain on a small slice of one user, on the default offline CPU
model, in a few minutes: build the pack, write Backward Synthesis and RECON-Select traces for the training turns the
first test turns are shown as demonstrations (the whole training split is the demonstration pool), evaluate
RECON-Select against backward with the default scoring protocol, attach that protocol's validity controls for the
pack (the repository's recorded report, which is what gates the pack on the published board; ``--run-controls``
runs them on the demo's own slice instead), add the result to a board and build it. The last lines say the number,
whether it is decided and whether the controls let the board rank it. The demo's board is its own folder under the
runs folder, so the demo never edits the repository's ``leaderboard/``; rerunning it reuses every trace and cached
LM call.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import click

from . import layout, paths
from .evaluate.settings import EvalSettings, eval_options
from .flags import renamed
from .models.options import MODEL

STEPS = 6
DEMO_LIMIT = 10  # test turns: 27 training turns of debates/biden are shown to them as demonstrations


def _step(i: int, text: str, start: float) -> None:
    click.echo(f"[{i}/{STEPS}] {text}  (t={time.perf_counter() - start:.0f}s)", err=True)


def recorded_reports(pack: str, protocol: str, action_model: dict, judge: dict) -> list[Path]:
    """The repository's recorded control reports (``leaderboard/controls``) for ``pack`` under ``protocol`` with
    this action model and judge (``{"fingerprint", "dtype"?}`` as a result records them; under likelihood the judge
    is the action model), in the same precision: what the published board gates ``pack`` by."""
    from .records.controls_report import protocol_name, readable_reports
    from .records.result import precision

    def ident(model: dict) -> tuple[str, str]:
        return model["fingerprint"], precision(model)

    return [path for path, rep in readable_reports(paths.LEADERBOARD_DIR / "controls")
            if (rep["pack"]["name"], protocol_name(rep), ident(rep["action_model"]), ident(rep["judge"]))
            == (pack, protocol, ident(action_model), ident(judge))]


def run_demo(*, pack: str = "debates", user: str = "biden", settings: EvalSettings | None = None,
             model: str = "smollm2-135m", board: Path | None = None, run_controls_here: bool = False) -> dict:
    """Run the demo; returns ``{"board", "result", "report", "report_source", "seconds"}``. ``settings``: the
    evaluation's (default: ``EvalSettings(test_limit=DEMO_LIMIT)``; the test slice is what traces are written
    for); ``model``: the synthesis roles' model (synthesizer, reconstruction)."""
    from . import publish
    from .evaluate import evaluate
    from .orchestrate.controls import controls_with_synthesis
    from .orchestrate.slices import ensure_pack, slice_config, synthesize_slice
    from .records.controls_report import read_report, write_report

    settings = settings or EvalSettings()
    if settings.test_limit is None:
        settings = replace(settings, test_limit=DEMO_LIMIT)
    limit, protocol = settings.test_limit, settings.protocol
    start = time.perf_counter()
    board = Path(board) if board is not None else layout.demo_dir() / "leaderboard"
    _step(1, f"pack {pack}: verify the built splits, or build them from {paths.raw_dir()}", start)
    ensure_pack(pack)
    config = slice_config("cpu", model)
    for role in ("reconstruction", "judge"):
        config["models"][role]["name"] = model
    pool = "the whole training split" if settings.train_limit is None else f"its first {settings.train_limit} turns"
    shown = f"the training turns of {pack}/{user} shown as demonstrations to its first {limit} test turns"
    _step(2, f"Backward Synthesis traces for {shown}", start)
    baseline = synthesize_slice("backward", pack, user, settings.train_limit, config, demonstrated=limit,
                                k=settings.k)
    _step(3, "RECON-Select traces for the same turns (N=4 candidates, reconstruction fidelity picks one)", start)
    method = synthesize_slice("recon_select", pack, user, settings.train_limit, config, demonstrated=limit,
                              k=settings.k)
    _step(4, f"evaluate recon_select against backward on the first {limit} test turns, {pool} as the "
             f"demonstration pool (protocol {protocol})", start)
    out = layout.demo_dir() / f"recon_select--{pack}--{user}--{protocol}.json"
    result = evaluate(method, baseline, pack, user, method_name="recon_select", baseline_name="backward",
                      **settings.kwargs(), out=out)
    shutil.rmtree(publish.results_dir(board), ignore_errors=True)  # the demo's own board holds this run only
    shutil.rmtree(board / "controls", ignore_errors=True)
    recorded = [] if run_controls_here else recorded_reports(pack, protocol, result["action_model"], result["judge"])
    if recorded:
        _step(5, f"validity controls of protocol {protocol} on {pack}: the repository's recorded report(s) for this "
                 f"model ({', '.join(p.relative_to(paths.REPO_ROOT).as_posix() for p in recorded)}), which gate "
                 f"{pack} on the published board", start)
        written = {path: write_report(read_report(path), board / "controls")[0] for path in recorded}
        mine = next((p for p in recorded if p.stem == f"{pack}--{user}"), recorded[0])  # this user's, if recorded
        report_path, source = written[mine], mine.relative_to(paths.REPO_ROOT).as_posix()
    else:
        _step(5, f"validity controls of protocol {protocol} on the same slice (wrong user, self, shuffled traces, "
                 f"...)", start)
        report = controls_with_synthesis(pack, user, traces=baseline, **settings.kwargs(),
                                         command=f"reconbench demo --protocol {protocol} --run-controls")
        report_path, _ = write_report(report, board / "controls")
        source = "run on the demo's slice"
    _step(6, f"add the result, build the board in {board}", start)
    publish.add(out, board)
    return {"board": board / "index.html", "result": out, "report": report_path, "report_source": source,
            "seconds": round(time.perf_counter() - start, 1)}


@click.command()
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--pack", default="debates", show_default=True)
@click.option("--user", default="biden", show_default=True)
@eval_options(test_limit=DEMO_LIMIT)
@click.option("--model", type=MODEL, default="smollm2-135m", show_default=True,
              help="the synthesis roles' model (synthesizer, reconstruction); the evaluation's are --action-model "
                   "and --judge")
@click.option("--board", type=click.Path(file_okay=False, path_type=Path),
              help="board folder [default: <runs>/demo/leaderboard]")
@click.option("--run-controls", is_flag=True,
              help="run the validity controls on the demo's own slice instead of using the repository's recorded "
                   "report for the pack (a slice this small is too small for the wrong-user control to pass)")
def demo(pack, user, model, board, run_controls, settings):
    """Run the whole chain on a small slice of one user and print where the board is."""
    from .publish.cli import show_cmd
    from .records.controls_report import read_report, table
    from .records.result import Result

    out = run_demo(pack=pack, user=user, settings=settings, model=model, board=board,
                   run_controls_here=run_controls)
    click.get_current_context().invoke(show_cmd, by="overall", board=out["board"].parent)
    report, result = read_report(out["report"]), Result.read(out["result"])
    click.echo("\n" + table(report))
    o = result.overall
    wr = o.win_rate
    number = ("undefined (every example tied)" if wr.estimate is None else
              f"{100 * wr.estimate:.1f}% [{100 * wr.ci_low:.1f}%, {100 * wr.ci_high:.1f}%]")
    click.echo(f"\nrecon_select vs backward on {pack}/{user}, protocol {result.protocol}: win rate "
               f"{number} ({o.wins} won, {o.losses} lost, {o.ties} tied of {o.n})")
    # the board's own gate decides (every reported user of the pack, this one among them, must pass)
    scores = json.loads((out["board"].parent / "scores.json").read_text(encoding="utf-8"))
    gate = next(r["controls"] for r in scores["rows"] if r["method"] == "recon_select")
    click.echo(f"controls ({out['report_source']}; {report['test']['n_evaluated']} test turns): "
               f"{report['passed']} passed, {report['failed']} failed; on the board -> "
               f"{'RANKED' if gate['ranks'] else 'NOT RANKED'} ({gate['reason']})")
    click.echo(f"result: {out['result']}")
    click.echo(f"board:  {out['board']}")
    click.echo(f"done in {out['seconds']:.0f} s")
