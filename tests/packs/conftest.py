"""Fixtures for the pack tests: the real scotus pack built once, and small specs over copies of real raw files
that tests may damage."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from benchmark import packs


@pytest.fixture(scope="session")
def scotus_data(build_pack_once) -> Path:
    """The data dir holding the real scotus pack, built from ../shared/data/raw."""
    return build_pack_once("scotus")


@pytest.fixture(scope="session")
def scotus_records(scotus_data) -> dict[str, dict[str, list[dict]]]:
    """user -> split -> records of the real scotus pack (loaded through the verifying API)."""
    lock = packs.verify_pack("scotus", scotus_data)
    have = {f["path"] for f in lock["files"]}
    return {u: {s: packs.load_split("scotus", u, s, scotus_data) for s in ("train", "dev", "test")
                if f"{u}/{s}.jsonl" in have} for u in packs.users("scotus")}


@pytest.fixture
def small_scotus(raw_dir, tmp_path):
    """A spec over the first 6 real scotus transcripts, copied into a private raw folder (``raw``) that a test
    may damage; split sizes small enough for 6 arguments."""
    spec = copy.deepcopy(packs.load_spec("scotus"))
    spec["files"] = spec["files"][:6]
    spec["split"] = {"test": 10, "dev": 5, "train_max": 1000}
    raw = tmp_path / "raw" / spec["raw_subdir"]
    for entry in spec["files"]:
        (raw / entry["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw_dir / spec["raw_subdir"] / entry["path"], raw / entry["path"])
    return spec, raw


def rewrite_transcript(raw: Path, spec: dict, index: int, change) -> Path:
    """Apply ``change`` to the JSON of the ``index``-th file and re-gzip it; the spec pins the new content, so
    that the builder (not the sha256 check) meets the damage."""
    entry = spec["files"][index]
    path = raw / entry["path"]
    doc = json.loads(gzip.decompress(path.read_bytes()))
    change(doc)
    content = json.dumps(doc).encode()
    path.write_bytes(gzip.compress(content))
    entry["sha256"] = hashlib.sha256(content).hexdigest()
    return path
