"""The scotus builder (Oyez transcript JSON, gzipped) on real raw files and on damaged copies of them."""

from __future__ import annotations

import pytest

from benchmark import packs
from benchmark.errors import DataError
from benchmark.packs import scotus

from .conftest import rewrite_transcript


def test_reads_argument_date_speakers_and_turn_order(raw_dir):
    spec = packs.load_spec("scotus")
    dialogue = next(scotus.build(spec, raw_dir / "scotus"))
    assert dialogue.file == "oyez_cases/2019.17-1268-t01.json.gz"
    assert dialogue.key == "2019.17-1268-t01"
    assert dialogue.timestamp == "2020-02-24"  # "Oral Argument - February 24, 2020"
    assert dialogue.turns[0].speaker == "John G. Roberts, Jr."
    assert dialogue.turns[0].ref == "s0t0"
    refs = [t.ref for t in dialogue.turns]
    assert len(refs) == len(set(refs))
    assert "Sonia Sotomayor" in {t.speaker for t in dialogue.turns}
    assert all(t.text == " ".join(t.text.split()) and t.text for t in dialogue.turns)


def test_every_listed_transcript_is_a_dialogue_with_a_date(raw_dir):
    spec = packs.load_spec("scotus")
    dialogues = list(scotus.build(spec, raw_dir / "scotus"))
    assert [d.file for d in dialogues] == [f["path"] for f in spec["files"]]
    assert min(d.timestamp for d in dialogues) >= "2019-10-01"
    assert max(d.timestamp for d in dialogues) <= "2024-06-30"


def test_record_ids_point_back_to_the_source_turn(scotus_records, raw_dir):
    record = scotus_records["sotomayor"]["test"][0]
    file, ref = record["source"]["file"], record["source"]["ref"]
    assert record["id"] == f"scotus/sotomayor/{file.split('/')[-1].removesuffix('.json.gz')}:{ref}"
    doc = scotus.read_transcript(raw_dir / "scotus" / file)
    turn = {t.ref: t for t in scotus.turns(doc, raw_dir / "scotus" / file)}[ref]
    assert turn.speaker == "Sonia Sotomayor" and turn.text == record["action"]


def test_transcript_with_no_turns_is_named(small_scotus, tmp_path):
    spec, raw = small_scotus

    def empty(doc):
        for section in doc["transcript"]["sections"]:
            section["turns"] = []

    path = rewrite_transcript(raw, spec, 3, empty)
    with pytest.raises(DataError, match=rf"{path.name}, field 'transcript/sections': transcript has no turns"):
        list(scotus.build(spec, raw))


def test_missing_transcript_object_is_named(small_scotus):
    spec, raw = small_scotus
    path = rewrite_transcript(raw, spec, 0, lambda doc: doc.update(transcript=None))
    with pytest.raises(DataError, match=rf"{path.name}, field 'transcript': no transcript.sections"):
        list(scotus.build(spec, raw))


def test_title_without_a_date_is_named(small_scotus):
    spec, raw = small_scotus
    path = rewrite_transcript(raw, spec, 4, lambda doc: doc.update(title="Oral Argument"))
    with pytest.raises(DataError, match=rf"{path.name}, field 'title': title 'Oral Argument' holds no argument date"):
        list(scotus.build(spec, raw))


def test_truncated_gzip_is_named_by_the_builder(small_scotus):
    spec, raw = small_scotus
    path = raw / spec["files"][5]["path"]
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DataError, match=rf"{path.name}: truncated or corrupt gzip"):
        list(scotus.build(spec, raw))
