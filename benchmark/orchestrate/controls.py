"""``reconbench controls``: synthesize the Backward Synthesis traces the validity controls need (unless given), run the
controls on one user split (``benchmark.controls.run_controls``) and write the report and its table."""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

import click
from click.core import ParameterSource

from .. import layout
from ..evaluate.settings import eval_options
from ..flags import TRACES, renamed
from ..io import sha256_text


def backward_traces(pack: str, user: str, records: list[dict], *, config: str = "cpu") -> Path:
    """The path of Backward Synthesis traces for ``records`` (training records of ``pack``/``user``: the ones the
    evaluated slice shows as demonstrations), synthesized with ``config`` the first time under
    ``<runs>/controls/<pack>/<user>/backward-<config>-train<N>-<ids>/`` (the synthesizer resumes from what is on disk
    and its LM calls are cached), so a recorded control report can be remade from the repository alone."""
    from ..runners import prepare_input
    from ..synthesize import synthesize

    # keyed by the records' ids: two slices of the same size are different inputs
    ids = sha256_text("\n".join(r["id"] for r in records))[:12]
    work = layout.controls_dir(pack, user) / f"backward-{config}-train{len(records)}-{ids}"
    prepare_input(work / "input", pack=pack, user=user, records=records)
    synthesize("backward", work / "input", work / "output", config=config)
    return work / "output" / "traces.jsonl"


def controls_with_synthesis(pack: str, user: str, *, config: str = "cpu", **kwargs) -> dict:
    """``benchmark.controls.run_controls`` with Backward Synthesis traces made with ``config`` wherever they are
    not given (the other user's, for the wrong-user control, always)."""
    from ..controls.run import run_controls

    return run_controls(pack, user, backward=functools.partial(backward_traces, config=config),
                        source=f"synthesized with config {config}", **kwargs)


def _command() -> str:
    """The command line that reproduces this run: every option the user set, from the parsed values (so it is the
    same however the command was invoked)."""
    ctx = click.get_current_context()
    parts = ["reconbench", ctx.info_name]
    for name, value in ctx.params.items():
        if value is not None and ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
            parts += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(parts)


@click.command()
@renamed("--out", "--reports-dir", type=click.Path(file_okay=False, path_type=Path))
@renamed("--traces", "--baseline-traces", type=TRACES)
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--pack", required=True, help="pack name, e.g. pmq-sample")
@click.option("--user", required=True, help="user id in the pack, e.g. cameron")
@eval_options
@click.option("--baseline-traces", type=TRACES, default=None,
              help="Backward Synthesis traces.jsonl covering the training records the test slice is shown "
                   "(default: synthesize them with --config)")
@click.option("--only", default=None, help="comma-separated controls to run (a quick probe; such a report never ranks)")
@click.option("--config", default="cpu", show_default=True, help="synthesis config for the backward traces")
@click.option("--reports-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of reports (default <runs>/controls/reports; leaderboard/controls to record them)")
def controls(pack, user, baseline_traces, only, config, reports_dir, settings):
    """Run the validity controls (oracle, wrong user, self, shuffled traces, no reasoning, judge injection, length)
    that apply to the scoring protocol on PACK/USER."""
    from ..records.controls_report import table, write_report

    report = controls_with_synthesis(pack, user, traces=baseline_traces, config=config, **settings.kwargs(),
                                     only=None if only is None else [c.strip() for c in only.split(",") if c.strip()],
                                     command=_command())
    json_path, md_path = write_report(report, reports_dir if reports_dir is not None else layout.controls_reports_dir())
    click.echo(table(report))
    click.echo(f"\n{report['passed']} passed, {report['failed']} failed; ranks on the board: "
               f"{'yes' if report['ranking']['ranks'] else 'NO'} ({report['ranking']['reason']})")
    click.echo(f"report: {json_path} (table: {md_path})")
