"""The SQLite cache: hits with zero model calls, per-stage accounting, corruption and killed writers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from benchmark.models import GenParams, stage
from benchmark.models._cache import LMCache

from .conftest import PROMPTS

PARAMS = GenParams(max_tokens=8, temperature=0.7, seed=3, n=2)


def test_second_identical_call_is_a_cache_hit_with_zero_model_calls(lm):
    with stage("test-first"):
        first = lm.generate(PROMPTS[:3], PARAMS)
    with stage("test-second"):
        second = lm.generate(PROMPTS[:3], PARAMS)
    assert second == first
    s = lm.usage.stages
    assert s["test-first"].calls == 6 and s["test-first"].completion_tokens > 0
    assert s["test-second"].calls == 0 and s["test-second"].prompt_tokens == 0
    assert s["test-second"].cache_hits == 3


def test_cached_results_equal_uncached_ones(lm, uncached):
    lm.generate(PROMPTS, PARAMS)  # fills the cache (partly hits from other tests)
    assert lm.generate(PROMPTS, PARAMS) == uncached.generate(PROMPTS, PARAMS)


def test_other_params_or_methods_are_not_served_from_the_cache(lm):
    lm.generate(PROMPTS[:1], PARAMS)
    with stage("test-miss"):
        lm.generate(PROMPTS[:1], GenParams(max_tokens=8, temperature=0.7, seed=4, n=2))
        lm.score_options(PROMPTS[:1], ["Yes", "No"])
    assert lm.usage.stages["test-miss"].calls == 3 and lm.usage.stages["test-miss"].cache_hits == 0


def _fill(path, n=400):
    cache = LMCache(path)
    entries = {f"key-{i}": {"text": f"value {i} " + "x" * 900} for i in range(n)}
    cache.put_many(entries)
    cache.close()
    return entries


def test_corrupt_page_keeps_the_other_entries(tmp_path):
    path = tmp_path / "cache.sqlite"
    entries = _fill(path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with path.open("r+b") as f:  # overwrite one page in the middle of the table with garbage
        f.seek(page_size * (pages // 2))
        f.write(os.urandom(page_size))
    with pytest.warns(RuntimeWarning, match="damaged"):
        cache = LMCache(path)
    kept = cache.get_many(list(entries))
    assert len(entries) * 0.9 <= len(kept) < len(entries)
    assert all(entries[k] == v for k, v in kept.items())
    assert list(tmp_path.glob("cache.sqlite.corrupt-*"))  # the damaged file is kept for inspection
    cache.put_many({"new": [1]})
    assert cache.get_many(["new"]) == {"new": [1]}


def test_a_file_that_is_not_a_database_is_moved_aside(tmp_path):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.warns(RuntimeWarning, match="damaged"):
        cache = LMCache(path)
    cache.put_many({"k": "v"})
    assert cache.get_many(["k", "missing"]) == {"k": "v"}


WRITER = textwrap.dedent("""
    import sys
    from benchmark.models._cache import LMCache
    cache, tag = LMCache(sys.argv[1]), sys.argv[2]
    for batch in range(int(sys.argv[3])):
        cache.put_many({f"{tag}-{batch}-{j}": {"pad": "y" * 2000} for j in range(50)})
        print(batch, flush=True)
""")


def test_killed_writer_loses_only_its_unfinished_batch(tmp_path):
    path = tmp_path / "cache.sqlite"
    LMCache(path).put_many({"before": "kept"})
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), "w", "100000"], stdout=subprocess.PIPE,
                            text=True)
    done = [int(proc.stdout.readline()) for _ in range(20)]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    cache = LMCache(path)
    assert cache.get_many(["before"]) == {"before": "kept"}
    last = done[-1] + 1
    for batch in range(last + 2):
        found = len(cache.get_many([f"w-{batch}-{j}" for j in range(50)]))
        assert found == 50 if batch < last else found in (0, 50)  # a batch is all there or not at all


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "cache.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "30"], stdout=subprocess.DEVNULL)
             for tag in ("a", "b", "c")]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert len(LMCache(path)) == 3 * 30 * 50


def test_precision_keys_the_cache_and_float32_keeps_the_old_keys(tmp_path):
    """The same weights in bfloat16 compute other numbers (greedy text, log-probabilities), so a bfloat16 run must not
    be answered from float32 entries (nor the reverse); float32, the CPU default, keeps the keys made before the
    precision was part of them, so existing caches stay valid."""
    from benchmark.models._cache import CachedLM, cache_key
    from benchmark.models.fake_lm import FakeLM

    request, params = PROMPTS[0], PARAMS.as_dict()
    legacy = cache_key("f" * 64, "generate", request, params)
    assert cache_key("f" * 64, "generate", request, params, "float32") == legacy
    assert cache_key("f" * 64, "generate", request, params, None) == legacy
    assert cache_key("f" * 64, "generate", request, params, "bfloat16") != legacy

    path = tmp_path / "cache.sqlite"
    fp32, bf16 = FakeLM("fake"), FakeLM("fake")
    fp32.dtype, bf16.dtype = "float32", "bfloat16"
    first = CachedLM(fp32, LMCache(path))
    assert first.dtype == "float32"
    with stage("test-precision-fp32"):
        first.generate(PROMPTS[:2], PARAMS)
    again = CachedLM(bf16, LMCache(path))
    with stage("test-precision-bf16"):
        again.generate(PROMPTS[:2], PARAMS)
    assert bf16.usage.stages["test-precision-bf16"].calls > 0  # computed, not read from the float32 entries
    assert bf16.usage.stages["test-precision-bf16"].cache_hits == 0
    unknown = FakeLM("fake")  # a backend that cannot tell (a server behind openai) shares the float32 entries
    with stage("test-precision-none"):
        CachedLM(unknown, LMCache(path)).generate(PROMPTS[:2], PARAMS)
    assert unknown.usage.stages["test-precision-none"].cache_hits == 2
    assert unknown.usage.stages["test-precision-none"].calls == 0
