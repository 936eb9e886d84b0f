"""The pmq builder on the five real TheyWorkForYou PMQs sessions: every PMQs speech is found and nothing from the
sections around it, crowd and "rose —" speeches never become actions, the Prime Minister's answers become actions
with the question right before them, the sample pack builds byte-identically, and broken input names the file."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from collections import Counter

import pytest

from benchmark import packs
from benchmark.errors import DataError
from benchmark.io import read_json
from benchmark.packs.download import DownloadError, download
from benchmark.packs.pmq import parse_sitting

CAMERON = {"David Cameron", "David Cameron (The Prime Minister)"}
SAMPLE = "2011-05-11"  # has a closed question under its own minor-heading, a crowd speech and a "rose —"


@pytest.fixture(scope="module")
def files(raw_dir):
    return {e["path"]: raw_dir / "pmq" / e["path"] for e in packs.load_spec("pmq-sample")["files"]}


@pytest.fixture(scope="module")
def sittings(files):
    return {rel: parse_sitting(path, rel) for rel, path in files.items()}


def _file_of(files, date):
    return next(p for rel, p in files.items() if date in rel)


def test_every_pmqs_speech_becomes_a_turn(files, sittings):
    for rel, d in sittings.items():
        xml = files[rel].read_text(encoding="latin-1")
        with_speaker = re.findall(r'<speech id="uk\.org\.publicwhip/debate/([^"]+)" (?!nospeaker)', xml)
        assert [t.ref for t in d.turns] == with_speaker, rel
    counts = Counter(t.speaker for d in sittings.values() for t in d.turns)
    assert sum(counts[s] for s in CAMERON) == 159 and counts["Edward Miliband"] == 31  # SOURCE.md
    assert sum(counts.values()) == 334 - 5  # all speeches less the five "The Prime Minister was asked"


def test_surrounding_sections_are_left_out(files, tmp_path):
    """An upstream day file holds departmental questions before PMQs and an urgent question, a statement and
    points of order after it: wrap a real session in such sections and the turns must not change."""
    path = _file_of(files, SAMPLE)
    xml = path.read_text(encoding="latin-1")
    start, end = xml.index("<major-heading"), xml.rindex("</publicwhip>")

    def section(tag, heading, n, qnum=False):
        speeches = "".join(
            f'<speech id="uk.org.publicwhip/debate/2011-05-11d.99{n}.{i}" speakerid="uk.org.publicwhip/member/1" '
            f'speakername="Someone Else"{" oral-qnum=" + chr(34) + str(i) + chr(34) if qnum else ""}>'
            f"<p>Words outside PMQs number {i}.</p></speech>\n" for i in range(3))
        return f"<{tag}>{heading}</{tag}>\n{speeches}"

    before = ("<oral-heading>ORAL ANSWERS TO QUESTIONS</oral-heading>\n" + section("major-heading", "SCOTLAND", 1, True)
              + section("minor-heading", "Engagements elsewhere", 2, True))
    after = section("minor-heading", "Armed Forces (Redundancies)", 3) + section("major-heading", "Points of Order", 4)
    wrapped = tmp_path / "debates2011-05-11d.xml"
    wrapped.write_text(xml[:start] + before + xml[start:end] + after + xml[end:], encoding="latin-1")
    assert parse_sitting(wrapped, wrapped.name).turns == parse_sitting(path, path.name).turns


def test_a_closed_question_under_its_own_heading_stays_in_pmqs(sittings):
    d = next(d for rel, d in sittings.items() if SAMPLE in rel)
    refs = [t.ref for t in d.turns]
    assert {"2011-05-11d.1163.2", "2011-05-11d.1163.3"} <= set(refs)  # "Computer Sciences Corporation"
    assert refs[-1] == "2011-05-11d.1164.6"


def test_crowd_and_rose_speeches_are_context_only(sittings):
    d = next(d for rel, d in sittings.items() if SAMPLE in rel)
    crowd = [t for t in d.turns if t.speaker == "Hon. Members"]
    rose = [t for t in d.turns if t.text.startswith("rose")]
    assert len(crowd) == 1 and len(rose) == 1
    assert not crowd[0].candidate and crowd[0].speaker_id is None and not rose[0].candidate
    assert all(t.candidate for t in d.turns if t not in crowd + rose)


def test_speeches_are_plain_text_with_the_office_and_ids(sittings):
    for d in sittings.values():
        for t in d.turns:
            assert "<" not in t.text and "&#" not in t.text and "  " not in t.text
        pm = [t for t in d.turns if t.speaker in CAMERON]
        assert {t.speaker for t in pm} == {"David Cameron (The Prime Minister)"}
        assert {t.speaker_id for t in pm} == {"uk.org.publicwhip/member/40665"}
    d = next(d for rel, d in sittings.items() if SAMPLE in rel)
    # a sentence cut by a Hansard column break is one paragraph again
    assert "rather than the ability to pay." in next(t.text for t in d.turns if t.ref == "2011-05-11d.1156.6")


def test_answers_are_actions_with_the_question_before_them(build_pack_once, sittings):
    data = build_pack_once("pmq-sample")
    records = [r for s in ("train", "test") for r in packs.load_split("pmq-sample", "cameron", s, data)]
    assert len(records) == 158
    by_ref = {t.ref: (d, i) for d in sittings.values() for i, t in enumerate(d.turns)}
    for r in records:
        d, i = by_ref[r["source"]["ref"]]
        assert d.turns[i].speaker in CAMERON and r["action"] == d.turns[i].text
        assert r["context"][-1] == {"speaker": d.turns[i - 1].speaker, "text": d.turns[i - 1].text}
        assert r["context"][-1]["speaker"] not in CAMERON


def test_sample_pack_rebuilds_byte_identically(raw_dir, build_pack_once, tmp_path):
    first = build_pack_once("pmq-sample") / "pmq-sample"
    result = packs.build_pack("pmq-sample", raw_dir, tmp_path)
    assert result.lock == read_json(packs.lock_path("pmq-sample"))
    packs.verify_pack("pmq-sample", tmp_path)
    names = sorted(p.name for p in first.rglob("*.jsonl"))
    assert names == sorted(p.name for p in (tmp_path / "pmq-sample").rglob("*.jsonl")) == ["test.jsonl", "train.jsonl"]
    for p in first.rglob("*.jsonl"):
        assert p.read_bytes() == (tmp_path / "pmq-sample" / p.relative_to(first)).read_bytes()


def test_malformed_xml_names_the_file_and_line(files, tmp_path):
    xml = _file_of(files, SAMPLE).read_bytes()
    broken = tmp_path / "debates2011-05-11d.xml"
    broken.write_bytes(xml[: len(xml) // 2])
    with pytest.raises(DataError, match=r"debates2011-05-11d\.xml.*line \d+.*malformed XML"):
        parse_sitting(broken, broken.name)


def test_file_without_a_pmqs_section_names_the_file(files, tmp_path):
    xml = _file_of(files, SAMPLE).read_text(encoding="latin-1")
    other = tmp_path / "debates2011-05-11d.xml"
    other.write_text(xml.replace("PRIME MINISTER", "TREASURY"), encoding="latin-1")
    with pytest.raises(DataError, match=r"debates2011-05-11d\.xml.*no PMQs section"):
        parse_sitting(other, other.name)


def test_full_pack_generator_pins_the_wednesday_sittings_and_download_fails_cleanly_offline(files, tmp_path):
    spec_path = packs.spec_path("pmq-sample").parents[2] / "scripts" / "pmq_full_spec.py"
    loader = importlib.util.spec_from_file_location("pmq_full_spec", spec_path)
    generator = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(generator)
    raw = tmp_path / "pmq"
    (raw / "debates").mkdir(parents=True)
    for path in files.values():  # the excerpts under their upstream names, plus an older scrape of one day
        name = path.name.replace(".pmq.xml", ".xml")
        (raw / "debates" / name).write_bytes(path.read_bytes())
    (raw / "debates" / "debates2011-03-02a.xml").write_bytes(b"<publicwhip/>")
    spec = generator.full_spec(raw, dt.date(2010, 5, 26), dt.date(2016, 7, 13), test=5, dev=0)
    assert [f["upstream_path"] for f in spec["files"]] == [
        f"scrapedxml/debates/{p.name.replace('.pmq.xml', '.xml')}" for p in sorted(files.values())]
    assert [u["id"] for u in spec["users"]] == ["cameron", "miliband"]
    (raw / "debates" / "debates2011-03-02b.xml").unlink()
    with pytest.raises(DownloadError, match="cannot fetch"):
        download(spec, raw, timeout=5)
