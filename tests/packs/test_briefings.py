"""The briefings builder on the real White House transcripts: labelled and reporter turns, continuation
paragraphs, labels without a blank line before them, and a malformed label named by file and line."""

from __future__ import annotations

import re
import shutil
from collections import Counter

import pytest

from benchmark import packs
from benchmark.errors import DataError
from benchmark.packs.briefings import build, parse_briefing


@pytest.fixture(scope="module")
def dialogues(raw_dir):
    spec = packs.load_spec("briefings")
    return list(build(spec, raw_dir / spec["raw_subdir"]))


def _speakers_of(user: str) -> set[str]:
    return set(next(u for u in packs.load_spec("briefings")["users"] if u["id"] == user)["speakers"])


def test_press_secretaries_have_about_the_turns_source_md_counts(dialogues):
    counts = Counter(t.speaker for d in dialogues for t in d.turns)
    psaki = sum(counts[s] for s in _speakers_of("psaki"))
    jean_pierre = sum(counts[s] for s in _speakers_of("jean-pierre"))
    assert abs(psaki - 8800) < 200 and abs(jean_pierre - 8100) < 200, (psaki, jean_pierre)
    assert counts["Q"] > 15000
    assert len(dialogues) == 270


def test_every_labelled_line_starts_a_turn_even_without_a_blank_line_or_when_indented(raw_dir, dialogues):
    # 2021-10-14 indents every line with U+00A0; other files put a label right after the previous paragraph
    for d in dialogues:
        lines = (raw_dir / "briefings" / d.file).read_text(encoding="utf-8").split("\n")
        labelled = {i for i, line in enumerate(lines, 1) if re.match(r"^\s*MS\.\s+(PSAKI|JEAN-PIERRE)\s*:", line)}
        starts = {int(t.ref[1:]) for t in d.turns if t.speaker in ("MS. PSAKI", "MS. JEAN-PIERRE")}
        assert labelled == starts, d.file


def test_unlabelled_paragraphs_continue_the_previous_turn(dialogues):
    first = dialogues[0].turns[0]
    assert first.speaker == "MS. PSAKI" and first.text.count("\n\n") >= 5  # the opening statement
    assert all("\xa0" not in t.text and "  " not in t.text for d in dialogues for t in d.turns)


def test_page_furniture_is_not_part_of_the_last_turn(dialogues):
    for d in dialogues:
        assert not re.search(r"(\d:\d\d [AP]\.M\. E[SD]T|###|END)$", d.turns[-1].text), d.file


def test_malformed_label_names_the_file_and_line(raw_dir, tmp_path, dialogues):
    src = raw_dir / "briefings" / dialogues[0].file
    lines = src.read_text(encoding="utf-8").split("\n")
    n = next(i for i, line in enumerate(lines) if line.startswith("MS. PSAKI:"))
    lines[n] = lines[n].replace("MS. PSAKI:", "MS. PSAKI", 1)
    broken = tmp_path / "briefing.md"
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataError, match=rf"briefing\.md.*line {n + 1}.*malformed speaker label"):
        parse_briefing(broken, "briefing.md")


def test_missing_front_matter_names_the_file(raw_dir, tmp_path, dialogues):
    broken = tmp_path / "briefing.md"
    shutil.copyfile(raw_dir / "briefings" / dialogues[0].file, broken)
    broken.write_text(broken.read_text(encoding="utf-8").split("\n---\n", 1)[1], encoding="utf-8")
    with pytest.raises(DataError, match=r"briefing\.md.*front matter"):
        parse_briefing(broken, "briefing.md")
