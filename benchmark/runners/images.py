"""Building the images offline with the Docker SDK: the wheelhouse image (the wheels, FROM scratch) and the
project image from the repository's Dockerfile. The base image comes from scripts/build-base-image.sh."""

from __future__ import annotations

import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import docker
import requests
import urllib3

from ..paths import REPO_ROOT
from ._capture import HeadTail
from ._contract import MAX_LOG_BYTES
from ._engine import client as engine_client
from .failures import InfrastructureFailure, SubmissionFailure

# build errors that are the Dockerfile's own doing (a failing RUN step, a syntax error, a missing COPY source)
_DOCKERFILE_ERRORS = ("returned a non-zero code", "dockerfile parse error", "unknown instruction", "copy failed",
                      "add failed", "failed to compute cache key", "no such file or directory", "failed to process",
                      "syntax error", "unknown flag", "invalid reference format")


def build(c: docker.DockerClient, *, tag: str, echo: bool = False, submission: bool = False,
          timeout_s: int | None = None, memory_mb: int | None = None, log_bytes: int = MAX_LOG_BYTES,
          **kwargs) -> str:
    """Build an image with no network and without pulling; returns its id. With ``echo`` the build's output is
    streamed to stderr (builds take minutes). ``memory_mb`` caps each build step's memory; ``timeout_s`` the whole
    build (the connection is dropped, which cancels it on the engine). A failed build raises a RunFailure carrying the
    head and tail of the build log: ``bad_build`` (the submission's) when ``submission`` and the Dockerfile itself
    failed or ran past the time limit, else ``build_failed`` (the infrastructure's)."""
    log = HeadTail(log_bytes)
    image_id = None
    limits = {"memory": memory_mb << 20, "memswap": memory_mb << 20} if memory_mb else None
    t0 = time.monotonic()

    def fail(message: str, own: bool):
        if submission and own:
            raise SubmissionFailure("bad_build", message, logs=log.text())
        raise InfrastructureFailure("build_failed", message, logs=log.text())

    stream = None
    try:
        stream = c.api.build(tag=tag, network_mode="none", pull=False, rm=True, forcerm=True, decode=True,
                             container_limits=limits, timeout=timeout_s, **kwargs)
        for chunk in stream:
            text = chunk.get("stream") or chunk.get("status") or ""
            if "error" in chunk:
                error = str(chunk["error"])
                log.write(error.encode("utf-8", "replace"))
                fail(f"building {tag} failed: {error.strip()[:500]}",
                     any(m in error.lower() for m in _DOCKERFILE_ERRORS))
            image_id = chunk.get("aux", {}).get("ID", image_id)
            log.write(text.encode("utf-8", "replace"))
            if echo and text:
                sys.stderr.write(text)
            if timeout_s is not None and time.monotonic() - t0 > timeout_s:
                stream.close() if hasattr(stream, "close") else None
                fail(f"building {tag} ran past the {timeout_s} s build time limit", True)
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError,
            urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ProtocolError):
        # reading the build's stream timed out (iterating the raw stream raises urllib3's own errors); dropping the
        # connection makes the engine cancel the build
        if hasattr(stream, "close"):
            stream.close()
        if timeout_s is not None and time.monotonic() - t0 >= timeout_s * 0.9:
            fail(f"building {tag} ran past the {timeout_s} s build time limit (a step was silent that long)", True)
        fail(f"building {tag}: the engine stopped answering", False)
    except docker.errors.APIError as e:
        fail(f"building {tag} failed: {str(e.explanation)[:500]}",
             any(m in str(e.explanation).lower() for m in _DOCKERFILE_ERRORS))
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
