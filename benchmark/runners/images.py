"""Building the images offline with the Docker SDK: the wheelhouse image (the wheels, FROM scratch) and the
project image from the repository's Dockerfile. The base image comes from scripts/build-base-image.sh."""

from __future__ import annotations

import sys
import tempfile
from importlib import metadata
from pathlib import Path

import docker

from ..paths import REPO_ROOT
from ._contract import MAX_LOG_BYTES
from ._engine import client as engine_client
from .failures import InfrastructureFailure


def build(c: docker.DockerClient, *, tag: str, echo: bool = False, **kwargs) -> str:
    """Build an image with no network and without pulling; returns its id. With ``echo`` the build's output is
    streamed to stderr (builds take minutes). A failed build raises InfrastructureFailure("build_failed") carrying
    the tail of the build log."""
    log: list[str] = []
    image_id = None
    try:
        for chunk in c.api.build(tag=tag, network_mode="none", pull=False, rm=True, forcerm=True, decode=True,
                                 **kwargs):
            text = chunk.get("stream") or chunk.get("status") or ""
            if "error" in chunk:
                log.append(chunk["error"])
                raise InfrastructureFailure("build_failed", f"building {tag} failed: {chunk['error'].strip()}",
                                            logs="".join(log)[-MAX_LOG_BYTES:])
            image_id = chunk.get("aux", {}).get("ID", image_id)
            log.append(text)
            if echo and text:
                sys.stderr.write(text)
    except docker.errors.APIError as e:
        raise InfrastructureFailure("build_failed", f"building {tag} failed: {e.explanation}",
                                    logs="".join(log)[-MAX_LOG_BYTES:]) from None
    return image_id or c.images.get(tag).id


def build_wheelhouse_image(wheel_dir: Path, image: str) -> str:
    """Load the wheels of ``wheel_dir`` into ``image`` (FROM scratch, at /wheels); returns the image id."""
    wheel_dir = Path(wheel_dir).resolve()
    if not any(wheel_dir.glob("*.whl")) or not (wheel_dir / "requirements.txt").is_file():
        raise InfrastructureFailure("build_failed", f"no wheelhouse in {wheel_dir}: run scripts/wheelhouse.sh first")
    with tempfile.NamedTemporaryFile("w", suffix=".Dockerfile", dir=wheel_dir) as df:
        df.write("FROM scratch\nCOPY requirements.txt *.whl /wheels/\n")
        df.flush()
        return build(engine_client(timeout=600), path=str(wheel_dir), dockerfile=Path(df.name).name, tag=image,
                     echo=True)


def build_project_image(*, tag: str | None = None, base_image: str, wheelhouse_image: str,
                        echo: bool = False) -> str:
    """Build the repository's Dockerfile as ``tag`` (default reconbench:<version>); returns the tag."""
    tag = tag or f"reconbench:{metadata.version('reconbench')}"
    build(engine_client(timeout=1800), path=str(REPO_ROOT), tag=tag, echo=echo,
          buildargs={"BASE_IMAGE": base_image, "WHEELHOUSE_IMAGE": wheelhouse_image})
    return tag
