"""Command-line flags that mean the same thing in every command, and the deprecated spellings they replace.

One meaning per flag: ``--test-limit N`` is always the first N test records (``evaluate``, ``controls``,
``transfer``, ``submit``, ``demo``), ``--train-limit N`` always the first N training records (the demonstration
pool; ``baselines run`` and ``submit`` synthesize for just those), ``--method-traces`` / ``--baseline-traces`` always
a traces.jsonl of the method / of Backward Synthesis. The old spellings (``--limit``, which meant test records in
some commands and training records in others; ``--eval-limit``; ``--traces``, which meant the method's traces in
``evaluate`` and the baseline's in ``controls``; ``--baseline``) still work for one version, with a warning.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click
from click.core import ParameterSource

TRACES = click.Path(exists=True, dir_okay=False, path_type=Path)


# the attributes of --test-limit and --train-limit (benchmark.evaluate.settings.eval_options and baselines run)
LIMIT = {"type": click.IntRange(min=1), "default": None, "metavar": "N"}


def train_limit(help: str = "only the first N training records (the demonstration pool)") -> click.option:
    return click.option("--train-limit", **LIMIT, help=help)


def renamed(old: str, new: str, **option):
    """A hidden, deprecated spelling ``old`` of the option ``new``: still accepted for one version, with a warning
    on stderr; giving both with different values is a usage error. Put it right under ``@click.command()``."""
    dest = "deprecated_" + old.lstrip("-").replace("-", "_")
    target = new.lstrip("-").replace("-", "_")

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            value = kwargs.pop(dest, None)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                ctx.params.pop(dest, None)
            if value is not None:
                click.echo(f"warning: {old} is deprecated and will be removed; use {new}", err=True)
                if kwargs.get(target) is not None and kwargs[target] != value:
                    raise click.UsageError(f"{old} (deprecated) and {new} disagree; give only {new}")
                kwargs[target] = value
                if ctx is not None:  # what the command records as its command line is the new spelling
                    ctx.params[target] = value
                    ctx.set_parameter_source(target, ParameterSource.COMMANDLINE)
            return f(*args, **kwargs)

        return click.option(old, dest, hidden=True, default=None, **option)(wrapper)

    return decorate
