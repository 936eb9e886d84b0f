"""``reconbench controls``: run the validity controls on one user split and write the report and its table."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
from click.core import ParameterSource

from .. import layout
from ..evaluate.predict import MAX_TOKENS
from ..evaluate.protocols import DEFAULT as DEFAULT_PROTOCOL
from ..flags import TRACES, renamed, test_limit, train_limit
from ..models.options import BACKEND, MODEL

PROTOCOL_NAMES = ["likelihood", "pairwise", "pairwise-calibrated", "pointwise"]


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
@renamed("--traces", "--baseline-traces", type=TRACES)
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--pack", required=True, help="pack name, e.g. pmq-sample")
@click.option("--user", required=True, help="user id in the pack, e.g. cameron")
@click.option("--judge", type=MODEL, default="smollm2-135m", show_default=True,
              help="judge model (registry name or path)")
@click.option("--action-model", type=MODEL, default="smollm2-135m", show_default=True, help="the frozen action model")
@click.option("--judge-mode", type=click.Choice(["options", "text"]), default="options", show_default=True)
@click.option("--protocol", type=click.Choice(PROTOCOL_NAMES), default=DEFAULT_PROTOCOL, show_default=True,
              help="scoring protocol whose controls are run")
@click.option("--tie-band", type=click.FloatRange(min=0), default=None,
              help="the protocol's tie band (default: the protocol's own)")
@click.option("--backend", type=BACKEND, default="transformers", show_default=True)
@test_limit()
@train_limit("only the first N training records as the demonstration pool (retrieval, traces, shuffling); "
             "default: the whole training split")
@click.option("--seed", type=int, default=0, show_default=True, help="generation, bootstrap and trace shuffling")
@click.option("--k", type=click.IntRange(min=1), default=4, show_default=True, help="demonstrations per prediction")
@click.option("--max-tokens", type=click.IntRange(min=1), default=MAX_TOKENS, show_default=True,
              help="tokens per prediction")
@click.option("--baseline-traces", type=TRACES, default=None,
              help="Backward Synthesis traces.jsonl covering the training records the test slice is shown "
                   "(default: synthesize them with --config)")
@click.option("--train-window", type=click.Choice(["oldest", "newest"]), default="oldest", show_default=True,
              help="which end of the chronological training split --train-limit takes (newest: the turns right "
                   "before the test period)")
@click.option("--only", default=None, help="comma-separated controls to run (a quick probe; such a report never ranks)")
@click.option("--config", default="cpu", show_default=True, help="synthesis config for the backward traces")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder of reports (default <runs>/controls/reports; leaderboard/controls to record them)")
def controls(pack, user, judge, action_model, judge_mode, protocol, tie_band, backend, test_limit, train_limit, seed,
             k, max_tokens, baseline_traces, train_window, only, config, out):
    """Run the validity controls (oracle, wrong user, self, shuffled traces, no reasoning, judge injection, length)
    that apply to the scoring protocol on PACK/USER."""
    from .report import table, write_report
    from .run import run_controls

    report = run_controls(pack, user, traces=baseline_traces, config=config, action_model=action_model, judge=judge,
                          judge_mode=judge_mode, backend=backend, protocol=protocol,
                          protocol_params=None if tie_band is None else {"tie_band": tie_band}, k=k, limit=test_limit,
                          train_limit=train_limit, seed=seed, max_tokens=max_tokens,
                          train_window=train_window,
                          only=None if only is None else [c.strip() for c in only.split(",") if c.strip()],
                          command=_command())
    json_path, md_path = write_report(report, out if out is not None else layout.controls_reports_dir())
    click.echo(table(report))
    click.echo(f"\n{report['passed']} passed, {report['failed']} failed; ranks on the board: "
               f"{'yes' if report['ranking']['ranks'] else 'NO'} ({report['ranking']['reason']})")
    click.echo(f"report: {json_path} (table: {md_path})")
