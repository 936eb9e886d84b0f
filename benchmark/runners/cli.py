"""``reconbench images``: build the local base image, the wheelhouse and the project image, all offline.
(``reconbench submit``, which runs a submission and then evaluates it, is in benchmark.orchestrate.submit.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click

from .. import paths
from ..errors import ReconBenchError

BASE_IMAGE = "reconbench-base:bookworm"
WHEELHOUSE_IMAGE = "reconbench-wheelhouse:latest"


@click.group()
def images():
    """Build the images submissions run in, offline: the Debian base, the wheelhouse and the project image."""


def _script(name: str, *args: str) -> None:
    proc = subprocess.run(["bash", str(paths.REPO_ROOT / "scripts" / name), *args])
    if proc.returncode != 0:
        raise ReconBenchError(f"scripts/{name} failed (exit {proc.returncode})")


@images.command("build-base")
@click.option("--image", default=BASE_IMAGE, show_default=True)
@click.option("--force", is_flag=True, help="rebuild even if the image exists")
def build_base(image, force):
    """Debootstrap Debian bookworm (minbase + python3) and import it as IMAGE (needs root and a Debian mirror)."""
    env = {**os.environ, **({"RECONBENCH_FORCE": "1"} if force else {})}
    proc = subprocess.run(["bash", str(paths.REPO_ROOT / "scripts" / "build-base-image.sh"), image], env=env)
    if proc.returncode != 0:
        raise ReconBenchError(f"scripts/build-base-image.sh failed (exit {proc.returncode})")


@images.command("wheelhouse")
@click.option("--dir", "wheel_dir", type=click.Path(path_type=Path), default=paths.REPO_ROOT / "wheels",
              show_default=True)
@click.option("--image", default=WHEELHOUSE_IMAGE, show_default=True)
def wheelhouse(wheel_dir, image):
    """Collect every wheel the project image needs (scripts/wheelhouse.sh) and load them as IMAGE for the build."""
    from .images import build_wheelhouse_image

    _script("wheelhouse.sh", str(wheel_dir))
    build_wheelhouse_image(wheel_dir, image)
    click.echo(image)


@images.command("build")
@click.option("--tag", default=None, help="default reconbench:<version>")
@click.option("--base-image", default=BASE_IMAGE, show_default=True)
@click.option("--wheelhouse-image", default=WHEELHOUSE_IMAGE, show_default=True)
def build(tag, base_image, wheelhouse_image):
    """Build the project image (harness + reference methods) from the Dockerfile, with no network."""
    from .images import build_project_image

    click.echo(build_project_image(tag=tag, base_image=base_image, wheelhouse_image=wheelhouse_image,
                                   echo=True))
