"""Shared test fixtures. Tests use the real raw corpora from ../shared/data/raw (or RECONBENCH_RAW) and real
models; each area keeps its own fixtures in tests/<area>/conftest.py.

Two tiers: `pytest -m "not slow"` is the fast tier (minutes on two cores), plain `pytest` (what .ci/run runs) is
the full suite. A test is slow when it loads a real language model, builds a whole pack (pmq-sample, five sittings
built in under a second, is a sample, not a whole pack), or runs Docker or Chromium. Tests that reach such work
through one of the fixtures in SLOW_FIXTURES (directly or through another fixture) or carry the ``docker`` marker
are marked slow here; tests that do it in their own body carry ``@pytest.mark.slow`` themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmark import paths

# fixture -> the slow work it does (each defined in a tests/<area>/conftest.py)
SLOW_FIXTURES = {
    "lm": "loads SmolLM2-135M (tests/models, tests/evaluate)",
    "vlm": "loads SmolLM2-135M on vLLM (tests/models)",
    "tiny_report": "runs every control with SmolLM2-135M (tests/controls)",
    "scotus_data": "builds the scotus pack (tests/packs)",
    "built_packs": "builds every pack",
    "slice_records": "builds the scotus pack (tests/synthesize, whose tests then load SmolLM2-135M)",
    "train_records": "builds the scotus pack (tests/runners)",
    "docker_engine": "starts or reaches a Docker engine (tests/runners)",
    "chromium": "runs headless Chromium (tests/publish)",
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("docker") or SLOW_FIXTURES.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


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
