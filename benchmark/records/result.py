"""The result file: build it, validate it against ``result.schema.json`` and write it atomically.

Everything but ``run`` is deterministic, so rerunning an evaluation gives the same bytes for it; ``digest`` is the
sha256 of the canonical JSON of the document without ``run`` and ``digest`` and is what comparisons use. ``run``
holds what describes one invocation only: when, costs (calls, tokens, seconds, cache hits per stage), the git
revision and package versions.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .. import layout, paths
from ..io import dumps_canonical, read_json, sha256_text, write_json
from ..schema import validate

SCHEMA_VERSION = 2  # 2: the scoring protocol and each example's raw numbers (version 1 files still load)
PACKAGES = ("reconbench", "torch", "transformers", "sentence-transformers", "numpy", "jsonschema")


def digest(doc: dict) -> str:
    """sha256 of the deterministic part of a result (everything but ``run`` and ``digest``)."""
    return sha256_text(dumps_canonical({k: v for k, v in doc.items() if k not in ("run", "digest")}))


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state() -> dict:
    """The repository's revision and whether the work tree has changes; nulls outside a git checkout."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    rev = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"revision": rev, "dirty": None if status is None else bool(status)}


def run_block(costs: dict, seconds: float) -> dict:
    return {"created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "git": git_state(),
            "packages": package_versions(), "python": sys.version.split()[0], "platform": platform.platform(),
            "costs": costs, "seconds": round(seconds, 3)}


def finalize(doc: dict, run: dict) -> dict:
    """Add ``schema_version``, ``digest`` and ``run``; validate. Raises DataError naming the field if invalid."""
    doc = {"schema_version": SCHEMA_VERSION} | {k: v for k, v in doc.items() if k not in ("run", "digest")}
    doc["digest"] = digest(doc)
    doc["run"] = run
    validate("result", doc, record=f"{doc.get('method', {}).get('name')} vs {doc.get('baseline', {}).get('name')}")
    return doc


def write_result(path: Path | str, doc: dict) -> Path:
    """Validate and atomically write a result file (pretty, key-sorted JSON)."""
    validate("result", doc, file=path)
    write_json(path, doc)
    return Path(path)


def read_result(path: Path | str) -> dict:
    """A result file, validated."""
    doc = read_json(path)
    validate("result", doc, file=path)
    return doc


def protocol_of(doc: dict) -> str:
    """The scoring protocol a result was decided with; version 1 files predate protocols and used ``pairwise``."""
    return doc.get("protocol", {}).get("name", "pairwise")


def default_result_path(pack: str, user: str, method: str, baseline: str, action_model: str, judge: str,
                        protocol: str = "pairwise") -> Path:
    """``<runs>/results/<pack>/<user>/<method>--vs--<baseline>--<action model>--<judge>--<protocol>.json``."""
    return layout.result_file(pack, user, method, baseline, action_model, judge, protocol)
