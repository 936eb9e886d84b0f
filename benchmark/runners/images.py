"""Building the images offline with the Docker SDK: the wheelhouse image (the wheels, FROM scratch) and the
project image from the repository's Dockerfile. The base image comes from scripts/build-base-image.sh."""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path

import docker

from ..paths import REPO_ROOT
from ._engine import client as engine_client
from .failures import InfrastructureFailure


def _build(c: docker.DockerClient, **kwargs) -> str:
    try:
        img, _ = c.images.build(network_mode="none", pull=False, rm=True, forcerm=True, **kwargs)
    except docker.errors.BuildError as e:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in e.build_log)
        raise InfrastructureFailure("build_failed", f"building {kwargs.get('tag')} failed: {e.msg}\n{log[-4000:]}") \
            from None
    return img.id


def build_wheelhouse_image(wheel_dir: Path, image: str) -> str:
    """Load the wheels of ``wheel_dir`` into ``image`` (FROM scratch, at /wheels); returns the image id."""
    wheel_dir = Path(wheel_dir).resolve()
    if not any(wheel_dir.glob("*.whl")):
        raise InfrastructureFailure("build_failed", f"no wheels in {wheel_dir}: run scripts/wheelhouse.sh first")
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", dir=wheel_dir) as df:
        df.write("FROM scratch\nCOPY *.whl /wheels/\n")
        df.flush()
        return _build(engine_client(timeout=600), path=str(wheel_dir), dockerfile=Path(df.name).name, tag=image)


def build_project_image(*, tag: str | None = None, base_image: str, wheelhouse_image: str) -> str:
    """Build the repository's Dockerfile as ``tag`` (default reconbench:<version>); returns the tag."""
    tag = tag or f"reconbench:{metadata.version('reconbench')}"
    _build(engine_client(timeout=1800), path=str(REPO_ROOT), tag=tag,
           buildargs={"BASE_IMAGE": base_image, "WHEELHOUSE_IMAGE": wheelhouse_image})
    return tag
