"""Shared test fixtures. Tests use the real raw corpora from ../shared/data/raw (or RECONBENCH_RAW) and real
models; each area keeps its own fixtures in tests/<area>/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmark import paths


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    d = paths.raw_dir()
    if not d.is_dir():
        pytest.fail(f"raw corpora not found at {d}: set RECONBENCH_RAW to the folder holding scotus/, briefings/, ...")
    return d


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Runs, data and the LM cache of the test session go to a temporary home, unless RECONBENCH_HOME is set
    explicitly (to reuse converted models across runs, set RECONBENCH_MODELS instead)."""
    if "RECONBENCH_HOME" not in os.environ:
        home = tmp_path_factory.mktemp("reconbench-home")
        os.environ["RECONBENCH_HOME"] = str(home)
        # converted models are expensive to make and not test state: keep them in the user's cache
        os.environ.setdefault("RECONBENCH_MODELS", str(Path.home() / ".cache" / "reconbench" / "models"))
    yield


@pytest.fixture(scope="session")
def build_pack_once(raw_dir, _isolated_home):
    """``build_pack_once(pack) -> data dir``: build a pack from the real raw corpora into the session's
    RECONBENCH_DATA the first time it is asked for (it must reproduce the committed lock), then reuse it."""
    from benchmark import packs

    built: set[str] = set()

    def build(pack: str) -> Path:
        if pack not in built:
            if not packs.lock_path(pack).exists():
                pytest.fail(f"pack {pack!r} has no committed lock: run `reconbench packs build {pack}` and commit it")
            packs.build_pack(pack, raw_dir)
            built.add(pack)
        return paths.data_dir()

    return build


@pytest.fixture(scope="session")
def built_packs(build_pack_once) -> Path:
    """Every pack with a spec, built once per session; returns the data dir (``benchmark.packs.load_split`` reads
    it by default)."""
    from benchmark import packs

    for pack in packs.pack_names():
        build_pack_once(pack)
    return paths.data_dir()
