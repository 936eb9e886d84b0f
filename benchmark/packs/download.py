"""Fetch a pack's pinned upstream files by URL (for machines that are online) and check their sha256.

Files already present with the pinned content are left alone, so an interrupted download resumes. A file that is
gzipped here but plain upstream is compressed on arrival (without a timestamp, so equal content gives equal bytes).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
from tqdm import tqdm

from .. import paths
from ..errors import DataError, ReconBenchError
from ..io import atomic_write_bytes, sha256_bytes
from ._build import load_spec, upstream_sha256


class DownloadError(ReconBenchError):
    """An upstream file could not be fetched (offline, moved, refused)."""


def _present(path: Path, entry: dict) -> bool:
    try:
        return upstream_sha256(path, entry) == entry["sha256"]
    except DataError:  # missing or damaged: fetch it again
        return False


def download(spec: dict, raw: Path, *, timeout: float = 30.0) -> list[Path]:
    """Fetch every file of ``spec`` missing or damaged in ``raw`` (the pack's raw folder); return those written."""
    upstream = spec["upstream"]
    template = upstream.get("url_template")
    if not template:
        raise DownloadError(f"pack {spec['pack']!r} has no upstream url_template: copy its files from "
                            f"{upstream['repository']} at commit {upstream['commit']} into {raw}")
    todo = [e for e in spec["files"] if not _present(raw / e["path"], e)]
    written = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for entry in tqdm(todo, desc=f"{spec['pack']}: download", unit="file", leave=False):
            url = template.format(commit=upstream["commit"], upstream_path=entry["upstream_path"])
            try:
                response = client.get(url)
                response.raise_for_status()
            except httpx.HTTPError as e:
                raise DownloadError(f"cannot fetch {url}: {e or type(e).__name__}. Without network access, copy "
                                    f"the files of {upstream['repository']} at commit {upstream['commit']} into "
                                    f"{raw} (see the pack's SOURCE.md)") from None
            data = response.content
            if (got := sha256_bytes(data)) != entry["sha256"]:
                raise DataError(f"downloaded content has sha256 {got}, the spec pins {entry['sha256']}", file=url,
                                field="sha256")
            if entry["path"].endswith(".gz") and not entry["upstream_path"].endswith(".gz"):
                data = gzip.compress(data, mtime=0)
            path = raw / entry["path"]
            try:
                atomic_write_bytes(path, data)
            except OSError as e:
                raise DownloadError(f"cannot write {path}: {e.strerror}") from None
            written.append(path)
    return written


def download_pack(pack: str, raw_dir: Path | str | None = None, *, timeout: float = 30.0) -> list[Path]:
    """Fetch the pinned upstream files of ``pack`` into ``<raw_dir>/<raw_subdir>/``."""
    spec = load_spec(pack)
    raw = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    return download(spec, raw / spec["raw_subdir"], timeout=timeout)
