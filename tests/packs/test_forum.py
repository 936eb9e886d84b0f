"""The forum builder on the real 4forums threads: one dialogue per post of a user, its context the chain of
ancestors along reply-to links with the parent last, quotes of the parent stripped from the action, and clear
errors for a truncated gzip or garbled thread JSON."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter

import pytest

from benchmark import packs
from benchmark.errors import DataError
from benchmark.packs.forum import thread_dialogues

USERS = {"jyoshu", "Steeeeve"}


@pytest.fixture(scope="module")
def threads(raw_dir):
    """(raw posts by id, dialogues) of the first 150 thread files of the pack (a bounded, real part)."""
    spec = packs.load_spec("forum")
    out = []
    for entry in spec["files"][:150]:
        path = raw_dir / "forum" / entry["path"]
        posts = {p[0]: p for p in json.loads(gzip.decompress(path.read_bytes()))[0]}
        out.append((posts, list(thread_dialogues(path, entry["path"], USERS))))
    return out


def _long_sentences(text: str) -> list[str]:
    return [s for s in (" ".join(s.split()) for s in re.split(r"(?<=[.?!])\s+", text)) if len(s) >= 60]


def test_every_post_of_a_user_with_own_words_is_one_dialogue(threads):
    for posts, dialogues in threads:
        by_users = [pid for pid, p in posts.items() if p[2] in USERS]
        refs = [int(d.turns[-1].ref) for d in dialogues]
        assert refs == [pid for pid in by_users if pid in set(refs)]  # the users' posts, in thread order
        assert len(refs) >= len(by_users) - 2  # only quote-only posts are left out


def test_context_is_the_ancestor_chain_with_the_parent_last(threads):
    for posts, dialogues in threads:
        for d in dialogues:
            post = posts[int(d.turns[-1].ref)]
            chain, parent = [], post[5]
            while parent is not None:
                chain.append(parent)
                parent = posts[parent][5]
            assert [int(t.ref) for t in d.turns[:-1]] == [p for p in reversed(chain)
                                                          if any(t.ref == str(p) for t in d.turns)]
            if post[5] is not None and any(t.ref == str(post[5]) for t in d.turns):
                assert d.turns[-2].ref == str(post[5]) and d.turns[-2].speaker == posts[post[5]][2]
            assert [t.candidate for t in d.turns] == [False] * (len(d.turns) - 1) + [True]
            assert d.timestamp[:4] in {str(y) for y in range(2003, 2012)}


def test_quotes_of_the_parent_are_stripped_from_the_action(threads):
    raw_quoting = stripped_quoting = replies = 0
    for posts, dialogues in threads:
        for d in dialogues:
            post = posts[int(d.turns[-1].ref)]
            if post[5] is None:
                continue
            replies += 1
            parent = _long_sentences(posts[post[5]][3])
            raw_quoting += any(s in " ".join(post[3].split()) for s in parent)
            stripped_quoting += any(s in d.turns[-1].text for s in parent)
    assert replies > 1000
    assert raw_quoting > 0.3 * replies  # quoting the parent is the norm here ...
    assert stripped_quoting < 0.02 * replies  # ... and the actions keep (almost) none of it


@pytest.mark.slow  # builds the forum pack
def test_users_have_about_the_posts_source_md_counts(raw_dir, build_pack_once):
    data = build_pack_once("forum")
    lock = packs.verify_pack("forum", data)
    per_user = Counter()
    for f in lock["files"]:
        per_user[f["path"].split("/")[0]] += f["records"]
    # SOURCE.md: jyoshu about 3,000 posts, Steeeeve about 3,450; short, opening and quote-only posts are skipped
    assert 2500 <= per_user["jyoshu"] <= 3000 and 2900 <= per_user["steeeeve"] <= 3450, per_user


@pytest.mark.parametrize("damage", ["truncated gzip", "garbled json", "no posts list"])
def test_bad_thread_file_names_the_file(raw_dir, tmp_path, damage):
    entry = packs.load_spec("forum")["files"][0]
    real = (raw_dir / "forum" / entry["path"]).read_bytes()
    content = {"truncated gzip": real[: len(real) // 2],
               "garbled json": gzip.compress(gzip.decompress(real)[:-50]),
               "no posts list": gzip.compress(b'{"posts": []}')}[damage]
    path = tmp_path / "1.json.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"1\.json\.gz"):
        list(thread_dialogues(path, "discussions/1.json.gz", USERS))


def test_reply_to_a_post_outside_the_thread_names_the_post(raw_dir, tmp_path):
    entry = packs.load_spec("forum")["files"][0]
    doc = json.loads(gzip.decompress((raw_dir / "forum" / entry["path"]).read_bytes()))
    victim = next(p for p in doc[0] if p[2] in USERS and p[5] is not None)
    victim[5] = -1
    path = tmp_path / "1.json.gz"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    with pytest.raises(DataError, match=rf"1\.json\.gz.*post {victim[0]}.*parent_post_id"):
        list(thread_dialogues(path, "discussions/1.json.gz", USERS))
