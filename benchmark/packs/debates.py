"""US debate transcripts (one R data frame, read with pyreadr) -> one dialogue per debate.

The data frame ``debate_transcripts`` has one row per statement in debate order with columns
``speaker, text, type, election_year, date, candidate``. A debate is identified by its date and type (on 2016-01-28
a Democratic and a Republican debate took place), so the dialogue key is ``<date>-<type>``. A turn's ref is its
1-based row number in the data frame, which is the same in any copy of the pinned file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyreadr

from ..errors import DataError
from ._types import Dialogue, Turn, builder

FRAME = "debate_transcripts"
COLUMNS = ("speaker", "text", "type", "date")


def read_debates(path: Path, rel: str) -> list[Dialogue]:
    """All debates in the R data file at ``path`` (``rel``: its path inside the pack), oldest first."""
    if not path.is_file():
        raise DataError("file does not exist", file=path)
    try:
        frames = pyreadr.read_r(str(path))
    except Exception as e:  # pyreadr raises its own LibrdataError / PyreadrError with the C library's reason
        raise DataError(f"not a readable R data file ({type(e).__name__}: {e})", file=path) from None
    if FRAME not in frames:
        raise DataError(f"no data frame {FRAME!r} (found {sorted(frames)})", file=path)
    df = frames[FRAME]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"data frame {FRAME!r} lacks columns {missing}", file=path, field=missing[0])
    groups: dict[tuple[str, str], list[Turn]] = {}
    for row, (speaker, text, kind, date) in enumerate(zip(*(df[c] for c in COLUMNS)), 1):
        for name, value in (("speaker", speaker), ("text", text), ("type", kind)):
            if not isinstance(value, str) or not value.strip():
                raise DataError(f"empty or missing {name}", file=path, record=f"row {row}", field=name)
        if not isinstance(date, dt.date):
            raise DataError(f"not a date: {date!r}", file=path, record=f"row {row}", field="date")
        turn = Turn(speaker=" ".join(speaker.split()), text=" ".join(text.split()), ref=str(row))
        groups.setdefault((date.isoformat(), kind.strip()), []).append(turn)
    if not groups:
        raise DataError(f"data frame {FRAME!r} has no rows", file=path)
    return [
        Dialogue(file=rel, key=f"{date}-{kind.lower()}", timestamp=date, turns=tuple(turns))
        for (date, kind), turns in sorted(groups.items())
    ]


@builder("debates")
def build(spec: dict, raw_pack_dir: Path) -> Iterator[Dialogue]:
    """One dialogue per (date, type) debate of every R data file listed in the spec."""
    for entry in spec["files"]:
        yield from read_debates(raw_pack_dir / entry["path"], entry["path"])
