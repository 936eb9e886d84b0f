"""One meaning per flag: the commands that run or evaluate a comparison show the same option names for the same
things, the old spellings still work for one version with a warning, and no command shows a flag whose meaning
differs between commands (``--limit`` meant test records in some and training records in others)."""

from __future__ import annotations

import re

import click
import pytest
from click.core import ParameterSource
from click.testing import CliRunner

from benchmark.cli import cli
from benchmark.flags import renamed

COMMANDS = {"evaluate": ["evaluate"], "controls": ["controls"], "transfer": ["transfer"], "submit": ["submit"],
            "demo": ["demo"], "baselines run": ["baselines", "run"]}
# option -> the commands that take it (each of them must show it; none may show a retired spelling)
SHARED = {
    "--pack": ["evaluate", "controls", "transfer", "submit", "demo", "baselines run"],
    "--user": ["evaluate", "controls", "transfer", "submit", "demo", "baselines run"],
    "--test-limit": ["evaluate", "controls", "transfer", "submit", "demo"],
    "--train-limit": ["evaluate", "controls", "transfer", "submit", "demo", "baselines run"],
    "--baseline-traces": ["evaluate", "controls", "submit"],
    "--protocol": ["evaluate", "controls", "transfer", "submit", "demo"],
    "--action-model": ["evaluate", "controls", "transfer", "submit", "demo"],
    "--judge": ["evaluate", "controls", "transfer", "submit", "demo"],
    "--backend": ["evaluate", "controls", "transfer", "submit", "demo"],
    "--k": ["evaluate", "controls", "transfer", "submit", "demo", "baselines run"],
    "--demonstrated": ["submit", "baselines run"],
}
RETIRED = ("--limit", "--eval-limit", "--traces", "--baseline")


def test_out_is_always_a_file():
    """``--out`` names a file wherever a command shows it (evaluate, rescore); folders are ``--reports-dir``
    (controls), ``--run-dir`` (baselines run), ``--out-dir`` (packs export), ``--state`` (grid), ``--board``."""
    for command in (["evaluate"], ["rescore"], ["controls"], ["baselines", "run"], ["packs", "export"], ["grid"],
                    ["transfer"], ["submit"], ["demo"]):
        out = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200).output
        shown = [line.split()[1] for line in out.splitlines() if line.strip().startswith("--out ")]
        assert shown in ([], ["FILE"]), (command, shown)
    old = CliRunner().invoke(cli, ["controls", "--pack", "no-such-pack", "--user", "u", "--out", "/tmp/x"])
    assert "--out is deprecated" in old.output and "use --reports-dir" in old.output


def _options(command: str) -> set[str]:
    out = CliRunner().invoke(cli, [*COMMANDS[command], "--help"], terminal_width=200).output
    return set(re.findall(r"^\s+(--[a-z][a-z-]*)", out, re.M))


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_the_shared_names_and_no_retired_spelling(command):
    shown = _options(command)
    missing = [opt for opt, where in SHARED.items() if command in where and opt not in shown]
    assert not missing, f"{command} lacks {missing}"
    assert not set(RETIRED) & shown, f"{command} still shows {sorted(set(RETIRED) & shown)}"


def _probe():
    seen = {}

    @click.command()
    @renamed("--limit", "--test-limit", type=int)
    @click.option("--test-limit", type=int, default=None)
    def probe(test_limit):
        ctx = click.get_current_context()
        seen.update(value=test_limit, params=dict(ctx.params),
                    source=ctx.get_parameter_source("test_limit"))

    return probe, seen


def test_an_old_spelling_still_works_with_a_warning_and_is_recorded_as_the_new_one():
    probe, seen = _probe()
    result = CliRunner().invoke(probe, ["--limit", "7"])
    assert result.exit_code == 0, result.output
    assert "--limit is deprecated" in result.output and "use --test-limit" in result.output
    assert seen["value"] == 7 and seen["params"] == {"test_limit": 7}
    assert seen["source"] is ParameterSource.COMMANDLINE  # a recorded command line says --test-limit 7

    probe, seen = _probe()
    assert CliRunner().invoke(probe, ["--test-limit", "7"]).output == ""  # the new spelling: no warning
    clash = CliRunner().invoke(_probe()[0], ["--limit", "7", "--test-limit", "8"])
    assert clash.exit_code == 2 and "disagree" in clash.output


def test_the_real_commands_accept_the_old_spellings(tmp_path):
    # parsing only: an unknown pack stops each command right after its options were read
    out = CliRunner().invoke(cli, ["controls", "--pack", "no-such-pack", "--user", "u", "--limit", "3"])
    assert "--limit is deprecated" in out.output
    out = CliRunner().invoke(cli, ["evaluate", "--traces", __file__, "--baseline", __file__, "--name", "m",
                                   "--pack", "no-such-pack", "--user", "u", "--limit", "3"])
    assert out.output.count("is deprecated") == 3


def test_the_evaluation_options_are_one_set_shared_by_evaluate_controls_and_submit():
    """evaluate, controls and submit take the evaluation settings through one decorator (benchmark.evaluate.settings):
    the same flags, types, defaults and help, and each command gets one typed EvalSettings."""
    from benchmark.evaluate.settings import FIELDS, EvalSettings

    ctx = click.Context(cli)
    described = {}
    for name in ("evaluate", "controls", "submit"):
        params = {p.name: p for p in cli.get_command(ctx, name).params}
        assert set(FIELDS) <= set(params), f"{name} lacks {set(FIELDS) - set(params)}"
        described[name] = {f: (tuple(params[f].opts), params[f].type.name, params[f].default, params[f].help)
                           for f in FIELDS}
    assert described["evaluate"] == described["controls"] == described["submit"]
    assert {f: d[2] for f, d in described["evaluate"].items()} == EvalSettings().as_dict()


# the commands that evaluate take every evaluation setting (benchmark.evaluate.settings.eval_options); where one
# differs it is listed with why
EVALUATING = ("evaluate", "controls", "transfer", "submit", "demo")
DIFFERS = {("transfer", "action_model"): "repeatable: one column of the matrix per action model",
           ("demo", "test_limit"): "the demo's default is a small slice (DEMO_LIMIT)"}


def _command(name: str) -> click.Command:
    command = cli
    for part in COMMANDS[name]:
        command = command.get_command(None, part)
    return command


def test_every_evaluating_command_takes_the_same_evaluation_options():
    from benchmark.evaluate.settings import FIELDS, _options

    expected = _options()
    assert tuple(expected) == FIELDS  # one option per field of EvalSettings
    for name in EVALUATING:
        params = {p.opts[0]: p for p in _command(name).params if isinstance(p, click.Option) and not p.hidden}
        for field, (flag, attrs) in expected.items():
            assert flag in params, f"{name} lacks {flag}"
            option = params[flag]
            assert option.opts == [flag], (name, option.opts)
            if (name, field) in DIFFERS:
                continue
            assert (option.help, option.default, repr(option.type)) == (
                attrs["help"], attrs["default"], repr(attrs["type"])), f"{name} {flag} differs from eval_options"
