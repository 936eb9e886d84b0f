"""``reconbench controls``: run the validity controls on one user split and write the report and its table."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from click.core import ParameterSource

from .. import layout
from ..evaluate.settings import eval_options
from ..flags import TRACES, renamed


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
    from .report import table, write_report
    from .run import run_controls

    report = run_controls(pack, user, traces=baseline_traces, config=config, **settings.kwargs(),
                          only=None if only is None else [c.strip() for c in only.split(",") if c.strip()],
                          command=_command())
    json_path, md_path = write_report(report, reports_dir if reports_dir is not None else layout.controls_reports_dir())
    click.echo(table(report))
    click.echo(f"\n{report['passed']} passed, {report['failed']} failed; ranks on the board: "
               f"{'yes' if report['ranking']['ranks'] else 'NO'} ({report['ranking']['reason']})")
    click.echo(f"report: {json_path} (table: {md_path})")
