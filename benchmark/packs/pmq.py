"""UK Prime Minister's Questions from TheyWorkForYou / ParlParse debate XML -> one dialogue per PMQs session.

A day's ``debatesYYYY-MM-DDx.xml`` holds the whole sitting as a flat list of ``<major-heading>``,
``<minor-heading>`` and ``<speech>`` elements. PMQs is found by its headings, never by time stamps (every element
of the oral-questions block carries ``time="11:30:00"`` in these scrapes): it starts at the major-heading
``PRIME MINISTER`` and runs through the minor-headings under it that belong to questions to the Prime Minister
(``Engagements``, or a heading whose first speech is a numbered oral question, such as a closed question's
topic), up to the next major-heading, oral-heading or other minor-heading (an urgent question, a statement).

Speeches become turns: the speaker's name, followed by the office the first speech of a member gives
(``David Cameron (The Prime Minister)``), the speaker id, the paragraphs joined (a sentence split over a Hansard
column break is rejoined) and inline markup reduced to its text. The procedural "The Prime Minister was asked"
has no speaker and is left out; crowd speeches (``Hon. Members``, speaker id ``unknown``) and a member who only
"rose —" stay as context but never become actions.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from ..errors import DataError
from ._types import Dialogue, Turn, builder

PMQ_HEADING = "PRIME MINISTER"
PMQ_MINOR_HEADING = "Engagements"
_ID = re.compile(r"^uk\.org\.publicwhip/debate/(?P<ref>(?P<date>\d{4}-\d{2}-\d{2})[a-z]?\.\d+\.\d+)$")
_ROSE = re.compile(r"^rose\s*[—–-]*$")
_SENTENCE_END = re.compile(r"[.?!:;\"”’)\]—–-]$")


def _text(el: ET.Element) -> str:
    return " ".join("".join(el.itertext()).split())


def _speech_text(speech: ET.Element) -> str:
    """Paragraphs joined by blank lines; a paragraph cut mid-sentence by a column break joins the next one."""
    paragraphs: list[str] = []
    for p in speech.iter("p"):
        text = _text(p)
        if not text:
            continue
        if paragraphs and not _SENTENCE_END.search(paragraphs[-1]) and text[0].islower():
            paragraphs[-1] += " " + text
        else:
            paragraphs.append(text)
    return "\n\n".join(paragraphs)


def pmq_section(root: ET.Element, path: Path) -> list[ET.Element]:
    """The speeches of the PMQs section of one sitting, in document order."""
    children = list(root)
    start = next((i for i, el in enumerate(children)
                  if el.tag == "major-heading" and _text(el).upper() == PMQ_HEADING), None)
    if start is None:
        raise DataError(f"no PMQs section (no <major-heading>{PMQ_HEADING}</major-heading>)", file=path)
    speeches: list[ET.Element] = []
    for i in range(start + 1, len(children)):
        el = children[i]
        if el.tag == "speech":
            speeches.append(el)
        elif el.tag == "minor-heading":
            nxt = next((c for c in children[i + 1:] if c.tag != "gidredirect"), None)
            numbered = nxt is not None and nxt.tag == "speech" and nxt.get("oral-qnum") is not None
            if _text(el) != PMQ_MINOR_HEADING and not numbered:
                break
        elif el.tag in ("major-heading", "oral-heading"):
            break
    if not any(_text(h) == PMQ_MINOR_HEADING for h in children[start + 1:] if h.tag == "minor-heading"):
        raise DataError(f"PMQs section has no '{PMQ_MINOR_HEADING}' minor-heading", file=path)
    return speeches


def parse_sitting(path: Path, rel: str) -> Dialogue:
    """The PMQs session in one debate XML file (``rel``: its path inside the pack) as a dialogue."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    except ET.ParseError as e:
        line, col = e.position
        raise DataError(f"malformed XML: {e}", file=path, record=f"line {line} column {col}") from None
    speeches = pmq_section(root, path)
    offices: dict[str, str] = {}
    turns: list[Turn] = []
    date = None
    for speech in speeches:
        m = _ID.match(speech.get("id", ""))
        if not m:
            raise DataError(f"unexpected speech id {speech.get('id')!r}", file=path, field="id")
        date = date or m.group("date")
        if speech.get("nospeaker") == "true":
            continue  # "The Prime Minister was asked—"
        name, sid = speech.get("speakername"), speech.get("speakerid")
        if not name:
            raise DataError("speech has neither a speaker name nor nospeaker='true'", file=path,
                            record=m.group("ref"), field="speakername")
        text = _speech_text(speech)
        if not text:
            raise DataError("speech has no text", file=path, record=m.group("ref"), field="p")
        known = sid not in (None, "unknown")
        if known and speech.get("speakeroffice"):
            offices[sid] = speech.get("speakeroffice")
        office = offices.get(sid) if known else None
        turns.append(Turn(
            speaker=f"{name} ({office})" if office else name,
            text=text,
            ref=m.group("ref"),
            candidate=known and not _ROSE.match(text),  # crowds and a bare "rose —" are not anyone's answer
            speaker_id=sid if known else None,
        ))
    if not turns:
        raise DataError("PMQs section has no speeches", file=path)
    return Dialogue(file=rel, key=date, timestamp=date, turns=tuple(turns))


@builder("pmq")
def build(spec: dict, raw_pack_dir: Path) -> Iterator[Dialogue]:
    """One dialogue per sitting file listed in the spec, in the spec's file order."""
    for entry in spec["files"]:
        yield parse_sitting(raw_pack_dir / entry["path"], entry["path"])
