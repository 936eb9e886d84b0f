"""The submission entry point of the reference methods:

    python -m benchmark.synthesize --method recon_select [--config cpu] [--input DIR] [--output DIR]

reads ``task.json`` and ``train.jsonl`` from ``$RECONBENCH_INPUT`` (or ``--input``) and writes ``traces.jsonl`` to
``$RECONBENCH_OUTPUT`` (or ``--output``), one trace per training record; rerun on the same output, it keeps the
traces already written. The cost table goes to stderr."""

from __future__ import annotations

import os
import sys

import click
from tabulate import tabulate

from ..errors import ReconBenchError
from . import METHODS, config_names, synthesize


def usage_table(run) -> str:
    """Calls, tokens and seconds per stage, as a table."""
    rows = [[name, s.calls, s.cache_hits, s.prompt_tokens, s.completion_tokens, f"{s.seconds:.1f}"]
            for name, s in sorted(run.usage().stages.items())]
    return tabulate(rows, headers=["stage", "calls", "cache hits", "prompt tokens", "completion tokens", "seconds"])


@click.command()
@click.option("--method", type=click.Choice(sorted(METHODS)), required=True)
@click.option("--config", "config", default="cpu", show_default=True,
              help=f"shipped config ({', '.join(config_names())}) or a JSON file")
@click.option("--input", "input_dir", type=click.Path(file_okay=False), default=None,
              help="input folder (default $RECONBENCH_INPUT)")
@click.option("--output", "output_dir", type=click.Path(file_okay=False), default=None,
              help="output folder (default $RECONBENCH_OUTPUT)")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="folder for GRPO checkpoints (default $RECONBENCH_WORK or the cache home)")
def main(method, config, input_dir, output_dir, workdir):
    """Write traces.jsonl for one user split with a reference method."""
    input_dir = input_dir or os.environ.get("RECONBENCH_INPUT")
    output_dir = output_dir or os.environ.get("RECONBENCH_OUTPUT")
    if not input_dir or not output_dir:
        raise click.UsageError("give --input/--output or set RECONBENCH_INPUT/RECONBENCH_OUTPUT")
    run = synthesize(method, input_dir, output_dir, config=config, workdir=workdir)
    click.echo(usage_table(run), err=True)


if __name__ == "__main__":
    try:
        main(standalone_mode=False)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    except ReconBenchError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
