"""The typed result view (benchmark.records.result.Result) reads every recorded result file, old and new, gives the
same numbers as the document it wraps, writes it back byte for byte, and refuses a document the schema refuses."""

from __future__ import annotations

import copy

import pytest

from benchmark.errors import DataError
from benchmark.paths import LEADERBOARD_DIR
from benchmark.records.result import Result, digest

FILES = sorted((LEADERBOARD_DIR / "results").rglob("*.json"))


def test_the_repository_records_results():
    assert len(FILES) >= 8


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(LEADERBOARD_DIR).as_posix())
def test_every_recorded_result_reads_as_a_typed_result(path, tmp_path):
    r = Result.read(path)
    doc = r.doc
    assert r.digest == digest(doc) == doc["digest"]
    assert (r.method.name, r.baseline.name, r.pack, r.user) == (doc["method"]["name"], doc["baseline"]["name"],
                                                                 doc["pack"]["name"], doc["user"])
    o = doc["summary"]["dimensions"]["overall"]
    assert (r.overall.n, r.overall.wins, r.overall.losses, r.overall.ties) == (o["n"], o["wins"], o["losses"],
                                                                               o["ties"])
    assert r.overall.win_rate.estimate == o["win_rate"]["estimate"]
    assert r.n_evaluated == len(r.examples) and r.k == doc["retrieval"]["k"]
    assert r.write(tmp_path / "again.json").read_bytes() == path.read_bytes()


def test_a_document_the_schema_refuses_is_refused():
    doc = copy.deepcopy(Result.read(FILES[0]).doc)
    doc["summary"]["dimensions"]["overall"]["wins"] = -1
    with pytest.raises(DataError, match="wins"):
        Result.from_doc(doc, name="edited")


def test_a_prompt_id_that_is_not_a_template_name_is_refused():
    # prompt ids reach the board's gate reasons (and its HTML): only name.vN, the form benchmark.prompts writes
    doc = copy.deepcopy(Result.read(FILES[0]).doc)
    doc["prompts"] = {'<img src=x onerror="alert(1)">.v1': "0" * 64}
    with pytest.raises(DataError, match="prompts"):
        Result.from_doc(doc, name="edited")
    doc["prompts"] = {"judge_pairwise.v1": "0" * 64}
    assert Result.from_doc(doc, name="edited").prompts == {"judge_pairwise.v1": "0" * 64}
