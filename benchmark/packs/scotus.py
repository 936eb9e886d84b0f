"""Builder for Oyez oral-argument transcripts (format ``scotus``): one gzipped JSON file per argument session.

A file holds ``transcript.sections[].turns[]``; a turn has ``speaker.name`` and ``text_blocks[].text``. The argument
date is read from the transcript title ("Oral Argument - March 04, 2020"). One dialogue per file: the sections of an
argument (petitioner, respondent, rebuttal) run on as one conversation.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ..errors import DataError
from ._types import Dialogue, Turn, builder

DATE = re.compile(r"([A-Z][a-z]+ \d{1,2}, \d{4})")
UNKNOWN_SPEAKER = "Unknown speaker"  # Oyez leaves a few unattributed turns without a speaker


def read_transcript(path: Path) -> dict:
    """The parsed JSON document of one gzipped Oyez transcript file."""
    try:
        doc = json.loads(gzip.decompress(path.read_bytes()))
    except FileNotFoundError:
        raise DataError("raw file is missing", file=path) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"truncated or corrupt gzip ({e})", file=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"not valid JSON ({e})", file=path) from None
    if not isinstance(doc, dict):
        raise DataError("expected a JSON object", file=path)
    return doc


def argument_date(doc: dict, path: Path) -> str:
    """ISO date of the argument, from the transcript title."""
    title = doc.get("title") or ""
    m = DATE.search(title)
    if not m:
        raise DataError(f"title {title!r} holds no argument date like 'March 04, 2020'", file=path, field="title")
    try:
        return datetime.strptime(m.group(1), "%B %d, %Y").date().isoformat()
    except ValueError:
        raise DataError(f"title {title!r}: {m.group(1)!r} is not a date", file=path, field="title") from None


def turns(doc: dict, path: Path) -> list[Turn]:
    """The non-empty turns of a transcript in order, each with ref ``s<section>t<turn>``."""
    transcript = doc.get("transcript")
    if not isinstance(transcript, dict) or not isinstance(transcript.get("sections"), list):
        raise DataError("no transcript.sections list", file=path, field="transcript")
    out = []
    for si, section in enumerate(transcript["sections"]):
        for ti, turn in enumerate(section.get("turns") or []):
            text = " ".join(" ".join(b.get("text") or "" for b in turn.get("text_blocks") or []).split())
            if not text:
                continue  # silent stretches of audio have a turn with no words
            speaker = turn.get("speaker") or {}
            out.append(Turn(speaker=speaker.get("name") or UNKNOWN_SPEAKER, text=text, ref=f"s{si}t{ti}",
                            speaker_id=speaker.get("identifier")))
    if not out:
        raise DataError("transcript has no turns with text", file=path, field="transcript/sections")
    return out


@builder("scotus")
def build(spec: dict, raw: Path) -> Iterator[Dialogue]:
    """One dialogue per transcript file the spec lists, in spec order."""
    for entry in spec["files"]:
        path = raw / entry["path"]
        doc = read_transcript(path)
        key = Path(entry["path"]).name.removesuffix(".gz").removesuffix(".json")
        yield Dialogue(file=entry["path"], key=key, timestamp=argument_date(doc, path), turns=tuple(turns(doc, path)))
