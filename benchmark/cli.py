"""The ``reconbench`` command. Each stage owns its sub-commands in its own ``cli.py``; they load lazily so that
``reconbench packs show`` does not import torch."""

from __future__ import annotations

import importlib
import sys

import click

from .errors import ReconBenchError

# command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "packs": "benchmark.packs.cli:packs",
    "models": "benchmark.models.cli:models",
    "serve": "benchmark.models.cli:serve",
    "baselines": "benchmark.orchestrate.baselines:baselines",
    "evaluate": "benchmark.evaluate.cli:evaluate",
    "rescore": "benchmark.evaluate.cli:rescore",
    "submit": "benchmark.orchestrate.submit:submit",
    "images": "benchmark.runners.cli:images",
    "leaderboard": "benchmark.publish.cli:leaderboard",
    "transfer": "benchmark.orchestrate.transfer:transfer",
    "controls": "benchmark.orchestrate.controls:controls",
    "grid": "benchmark.orchestrate.cli:grid",
    "demo": "benchmark.demo:demo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx, name):
        return self._load(name)

    @staticmethod
    def _load(name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except ModuleNotFoundError as e:
            # a stage that is not built yet is simply not listed; a missing dependency is a real error
            if e.name and (e.name == module or module.startswith(e.name + ".")):
                return None
            raise


@click.group(cls=LazyGroup)
@click.version_option(package_name="reconbench")
def cli():
    """RECON-Bench: reasoning synthesis for user modeling, measured."""


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except ReconBenchError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
