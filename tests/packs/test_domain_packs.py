"""The briefings, debates, forum and pmq-sample packs built from the real raw files: each reproduces its committed
lock (so a rebuild is byte-identical to the build that wrote it) and verifies; splits are chronological per user,
no action leaks into its own context, ids are unique and every record matches the schema."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmark import packs
from benchmark.io import read_json
from benchmark.schema import validate

PACKS = ("briefings", "debates", "forum", "pmq-sample")

pytestmark = pytest.mark.slow  # builds whole packs


@pytest.fixture(scope="module", params=PACKS)
def built(request, build_pack_once):
    """(pack, user -> split -> records) of one real pack, built once per session and loaded through the lock."""
    pack = request.param
    data = build_pack_once(pack)
    lock = packs.verify_pack(pack, data)
    have = {f["path"] for f in lock["files"]}
    records = {u: {s: packs.load_split(pack, u, s, data) for s in ("train", "dev", "test") if f"{u}/{s}.jsonl" in have}
               for u in packs.users(pack)}
    return pack, records


def test_pack_reproduces_its_committed_lock(built, build_pack_once):
    pack, _ = built
    assert packs.verify_pack(pack, build_pack_once(pack)) == read_json(packs.lock_path(pack))


def test_every_user_has_the_spec_test_size_and_a_train_set(built):
    pack, records = built
    sizes = packs.load_spec(pack)["split"]
    for user, by_split in records.items():
        assert len(by_split["test"]) == sizes["test"], user
        assert len(by_split.get("dev", [])) == sizes["dev"], user
        assert len(by_split["train"]) >= 100, user


def test_splits_are_chronological_per_user(built):
    _, records = built
    for user, by_split in records.items():
        older = [r["timestamp"] for s in ("train", "dev") for r in by_split.get(s, [])]
        assert max(older) <= min(r["timestamp"] for r in by_split["test"]), user


def test_records_are_valid_unique_and_never_contain_their_action_in_context(built):
    pack, records = built
    ids = Counter()
    for user, by_split in records.items():
        for rs in by_split.values():
            for r in rs:
                validate("record", r)
                assert r["id"].startswith(f"{pack}/{user}/")
                assert r["context"], r["id"]
                assert not any(r["action"] in turn["text"] for turn in r["context"]), r["id"]
                ids[r["id"]] += 1
    assert max(ids.values()) == 1
