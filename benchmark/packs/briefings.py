"""White House press briefings (markdown with YAML front matter) -> one dialogue per briefing.

A turn starts at a line that begins with an upper-case speaker label and a colon (``MS. PSAKI:``, ``MR. KIRBY:``) or
with a reporter's ``Q`` and spaces (often U+00A0). Lines without a label continue the current turn, so labels that
appear mid-paragraph (no blank line before them) still start a new turn. The speaker is the label with its spacing
normalised, exactly as printed: upstream typos (``S. PSAKI``, ``MS PSAKI``) stay distinct names, and a pack spec
lists every spelling that belongs to a user. A line that starts like an honorific label (``MS. PSAKI``) but is not
one raises a DataError naming the file and the line, so a garbled label cannot silently glue two turns together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError
from ..io import sha256_text
from ._types import Dialogue, Turn, builder

_UPPER = "A-ZÀ-Þ"
_WORD = rf"[{_UPPER}][{_UPPER}.'’-]*"
# an all-capitals label, a colon, then the turn's text on the same line ("COVID:" alone on a line is a list heading)
_LABEL = re.compile(rf"^(?P<label>(?:{_WORD}[ \xa0]+)*{_WORD})[ \xa0]*:(?=.*\S)")
# honorific labels are also seen closed by a full stop ("MR. KIRBY.  Thank you")
_HONORIFIC_LABEL = re.compile(rf"^(?P<label>(?:MR|MS|MRS|DR)\.?[ \xa0]+[{_UPPER}][{_UPPER}'’-]+)\.(?=[ \xa0])")
_LOOKS_LIKE_LABEL = re.compile(rf"^(?:MR|MS|MRS|DR)\.?[ \xa0]+[{_UPPER}]{{2,}}")
_REPORTER = re.compile(r"^Q(?:[ \xa0]+|$)")
_END = re.compile(r"^END\b")  # "END  1:39 P.M. EST" closes the transcript
# a clock time alone on a line or a markdown rule ("\\###") is page furniture, not speech
_TRAILER = re.compile(r"^(?:\d{1,2}:\d{2}\s+[AP]\.M\.\s+[A-Z]{2,4}|\\?#+)\s*$")
_DATE = re.compile(r"^date:\s*'?(\d{4}-\d{2}-\d{2})'?\s*$", re.M)


def _front_matter(text: str, path: Path) -> tuple[str, int]:
    """The briefing date from the YAML front matter, and the index of the first body line."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise DataError("no YAML front matter (the file must start with '---')", file=path, record="line 1")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            m = _DATE.search("\n".join(lines[1:i]))
            if not m:
                raise DataError("front matter has no 'date: YYYY-MM-DD'", file=path, record=f"lines 1-{i + 1}",
                                field="date")
            return m.group(1), i + 1
    raise DataError("front matter is not closed by '---'", file=path, record="line 1")


def _clean(lines: list[str]) -> str:
    """Join wrapped lines into paragraphs (blank line = paragraph break) with single spaces."""
    paragraphs, current = [], []
    for line in lines:
        words = line.split()  # str.split() also splits on U+00A0
        if words:
            current.extend(words)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def parse_briefing(path: Path, rel: str) -> Dialogue:
    """Parse one briefing file into a dialogue of labelled turns (``rel`` is its path inside the pack)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not valid UTF-8 ({e.reason} at byte {e.start})", file=path) from None
    date, first = _front_matter(text, path)
    turns: list[Turn] = []
    speaker, start, body = None, 0, []

    def close() -> None:
        if speaker is not None and (cleaned := _clean(body)):
            turns.append(Turn(speaker=speaker, text=cleaned, ref=f"L{start}"))

    for lineno, line in enumerate(text.split("\n")[first:], first + 1):
        line = line.lstrip()  # some transcripts indent every line with U+00A0
        if _END.match(line):
            break
        m = _LABEL.match(line) or _HONORIFIC_LABEL.match(line)
        q = None if m else _REPORTER.match(line)
        if m or q:
            close()
            speaker = " ".join(m.group("label").split()) if m else "Q"
            start, body = lineno, [line[(m or q).end():]]
        elif _LOOKS_LIKE_LABEL.match(line):
            raise DataError(f"malformed speaker label {line[:40]!r} (expected 'NAME:' in capitals)",
                            file=path, record=f"line {lineno}")
        elif speaker is not None and not _TRAILER.match(line):
            body.append(line)
    close()
    if not turns:
        raise DataError("no labelled turns found", file=path)
    # file names run to 250 characters: a short hash of the path keeps record ids short and stable
    return Dialogue(file=rel, key=f"{date}-{sha256_text(rel)[:10]}", timestamp=date, turns=tuple(turns))


@builder("briefings")
def build(spec: dict, raw_pack_dir: Path) -> Iterator[Dialogue]:
    """One dialogue per briefing file listed in the spec, in the spec's file order."""
    for entry in spec["files"]:
        yield parse_briefing(raw_pack_dir / entry["path"], entry["path"])
