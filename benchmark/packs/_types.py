"""What a format-specific builder hands to the shared pack machinery.

A builder turns raw upstream files into ``Dialogue`` objects: ordered turns with speakers. The shared code
(``_build.py``) then makes one (context, action) example for each *candidate* turn spoken by a pack user, applies the
spec's context window and skip rules, splits chronologically and writes the lock. A builder therefore only knows its
file format; adding a domain is adding one builder file and one ``domains/<pack>/pack.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Turn:
    speaker: str  # display name as in the source ("Sonia Sotomayor", "Q", "jyoshu")
    text: str  # cleaned text (markup reduced, whitespace normalised)
    ref: str  # stable locator inside the source file (turn index, post id, speech id)
    candidate: bool = True  # may this turn become an action? (False for e.g. ancestor posts repeated in a chain)
    speaker_id: str | None = None  # stable speaker identifier where the source has one


@dataclass(frozen=True)
class Dialogue:
    file: str  # raw file path relative to the pack's raw folder (posix)
    key: str  # stable id of the dialogue within the pack (used in record ids)
    timestamp: str  # ISO date (YYYY-MM-DD) or UTC date-time (YYYY-MM-DDTHH:MM:SSZ)
    turns: tuple[Turn, ...] = field(default_factory=tuple)


# A builder: (spec, raw folder of this pack) -> dialogues, in a deterministic order.
# It raises benchmark.errors.DataError naming the file and the problem for bad input.
Builder = Callable[[dict, Path], Iterator[Dialogue]]

BUILDERS: dict[str, Builder] = {}


def builder(fmt: str) -> Callable[[Builder], Builder]:
    """Register a builder for raw format ``fmt`` (the ``format`` field of a pack spec)."""

    def register(fn: Builder) -> Builder:
        BUILDERS[fmt] = fn
        return fn

    return register
