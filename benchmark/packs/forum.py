"""4forums.com threads (Internet Argument Corpus v1 JSON, gzipped here) -> one dialogue per post of a pack user.

A thread file is ``[posts, annotations, meta]``; a post is ``[post_id, _, author, text, info, parent_post_id, _,
unix_time]``. Replies form a tree, so the conversation a post answers is its chain of ancestors along the reply-to
links, not the posts printed before it. Each post by a user becomes a dialogue: the ancestors, oldest first, as
non-candidate context turns, then the post itself as the one candidate turn.

Quotes: the corpus renders a vBulletin quote box as the quoted text followed by two bare newlines (``"\\n\\n"``);
inside a post it begins after a blank run ``"\\n \\n \\n"``. Some users typed the quote header instead
(``Originally Posted by NAME``, quote up to the next blank run). Quoted text is someone else's words, mostly the
parent's, which stays in the context anyway; it is removed from every turn, so an action holds only the user's
own writing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError
from ._types import Dialogue, Turn, builder

_QUOTE_BOX = re.compile(r"(?:\A|\n \n \n)(?:(?!\n \n \n).)*?\n\n", re.S)
_TYPED_QUOTE = re.compile(r"(?:\A|\n)[ \t]*Originally Posted by\b.*?(?=\n[ \t]*\n[ \t]*\n|\Z)", re.S | re.I)
MIN_QUOTED_LINE = 20  # a line this long found verbatim in an ancestor is a quote, not a coincidence


def flat(text: str) -> str:
    """Text with every run of whitespace made one space (how quotes are compared)."""
    return " ".join(text.split())


def own_words(text: str, quoted: list[str]) -> str:
    """The post's own words, whitespace tidied: quote boxes, typed ``Originally Posted by`` quotes and lines
    copied verbatim from one of the ``quoted`` texts (its ancestors, ``flat``-ened; quotes whose box markup the
    scrape lost) are removed."""
    text = _QUOTE_BOX.sub("\n\n", text)
    text = _TYPED_QUOTE.sub("\n\n", text)
    lines = []
    for line in text.split("\n"):
        words = flat(line)
        probe = words.removesuffix("...").strip()  # quotes cut short end in "..."
        if len(probe) >= MIN_QUOTED_LINE and any(probe in q for q in quoted):
            words = ""
        lines.append(words)
    paragraphs = " \n".join(lines).split("\n \n")  # an empty line ends a paragraph
    return "\n\n".join(p for p in (" ".join(p.split()) for p in paragraphs) if p)


def read_thread(path: Path) -> list[list]:
    """The posts of one thread file (gzipped or plain JSON); bad input raises a DataError naming the file."""
    try:
        raw = path.read_bytes()
        data = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"not a complete gzip file ({e})", file=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"not valid JSON ({e})", file=path) from None
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[0], list)):
        raise DataError("expected [posts, annotations, meta]", file=path)
    posts = data[0]
    for i, post in enumerate(posts):
        if not (isinstance(post, list) and len(post) == 8):
            raise DataError("a post must be a list of 8 fields", file=path, record=f"post #{i}")
        pid, author, text, ts = post[0], post[2], post[3], post[7]
        where = {"file": path, "record": f"post {pid!r}"}
        if not isinstance(pid, int):
            raise DataError("post id is not an integer", field="post_id", **where)
        if not isinstance(author, str) or not author:
            raise DataError("missing author", field="author", **where)
        if not isinstance(text, str):
            raise DataError("missing text", field="text", **where)
        if not isinstance(ts, (int, float)) or isinstance(ts, bool):
            raise DataError("missing unix timestamp", field="timestamp", **where)
    if not posts:
        raise DataError("thread has no posts", file=path)
    return posts


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def thread_dialogues(path: Path, rel: str, users: set[str]) -> Iterator[Dialogue]:
    """One dialogue per post by an author in ``users``, in thread order."""
    posts = read_thread(path)
    thread = Path(rel).name.split(".")[0]
    cleaned: dict[int, str] = {}  # post id -> its own words
    flats: dict[int, str] = {}  # post id -> its flat text
    by_id = {p[0]: p for p in posts}
    if len(by_id) != len(posts):
        raise DataError("duplicate post ids", file=path, field="post_id")
    for post in posts:
        if post[2] not in users:
            continue
        chain, seen, parent = [], {post[0]}, post[5]
        while parent is not None:
            if parent not in by_id:
                raise DataError(f"reply to post {parent} which is not in the thread", file=path,
                                record=f"post {chain[-1][0] if chain else post[0]}", field="parent_post_id")
            if parent in seen:
                raise DataError("reply-to links form a cycle", file=path, record=f"post {parent}",
                                field="parent_post_id")
            seen.add(parent)
            chain.append(by_id[parent])
            parent = by_id[parent][5]
        chain.reverse()  # oldest first
        texts = [flats.setdefault(p[0], flat(p[3])) for p in chain]
        for i, p in enumerate(chain):  # reply chains run 200 posts deep: clean each ancestor once per thread
            if p[0] not in cleaned:
                cleaned[p[0]] = own_words(p[3], texts[:i])
        turns = [Turn(speaker=p[2], text=cleaned[p[0]], ref=str(p[0]), candidate=False)
                 for p in chain if cleaned[p[0]]]
        own = own_words(post[3], texts)
        if not own:  # a post that only quotes has no words of the user's own
            continue
        turns.append(Turn(speaker=post[2], text=own, ref=str(post[0])))
        # key: the thread; the post id (the action turn's ref) makes the record id unique
        yield Dialogue(file=rel, key=thread, timestamp=_utc(post[7]), turns=tuple(turns))


@builder("forum")
def build(spec: dict, raw_pack_dir: Path) -> Iterator[Dialogue]:
    """Dialogues for the users' posts in every thread file listed in the spec, in the spec's file order."""
    users = {s for u in spec["users"] for s in u["speakers"]}
    for entry in spec["files"]:
        yield from thread_dialogues(raw_pack_dir / entry["path"], entry["path"], users)
