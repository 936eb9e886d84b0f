"""The debates builder on the real R data file: one dialogue per debate, the users' statement counts of
SOURCE.md, and clear errors for an empty, garbled or foreign R file."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pyreadr
import pytest

from benchmark.errors import DataError
from benchmark.packs.debates import read_debates

RDA = "debate_transcripts.rda"


@pytest.fixture(scope="module")
def debates(raw_dir):
    return read_debates(raw_dir / "debates" / RDA, RDA)


def test_users_have_the_statement_counts_of_source_md(debates):
    counts = Counter(t.speaker for d in debates for t in d.turns)
    assert counts["Joe Biden"] == 1129 and counts["Donald Trump"] == 1051
    assert sum(counts.values()) == 19435


def test_one_dialogue_per_debate_date_and_type_in_date_order(debates):
    assert len(debates) == 71  # 70 dates; 2016-01-28 had a Democratic and a Republican debate
    assert {"2016-01-28-dem", "2016-01-28-rep"} <= {d.key for d in debates}
    assert [d.timestamp for d in debates] == sorted(d.timestamp for d in debates)
    refs = [int(t.ref) for d in debates for t in d.turns]
    assert sorted(refs) == list(range(1, 19436))
    for d in debates:  # statements keep debate order
        assert [int(t.ref) for t in d.turns] == sorted(int(t.ref) for t in d.turns)


@pytest.mark.parametrize("content", [b"", b"RDX2\nX\n\x00\x01garbled", None], ids=["empty", "garbled", "truncated"])
def test_unreadable_r_file_names_the_file(raw_dir, tmp_path, content):
    path = tmp_path / RDA
    real = (raw_dir / "debates" / RDA).read_bytes()
    path.write_bytes(real[: len(real) // 2] if content is None else content)
    with pytest.raises(DataError, match=rf"{RDA}.*not a readable R data file"):
        read_debates(path, RDA)


def test_r_file_without_the_transcripts_frame_names_the_file(tmp_path):
    path = tmp_path / RDA
    pyreadr.write_rdata(str(path), pd.DataFrame({"speaker": ["A"]}), df_name="other")
    with pytest.raises(DataError, match=rf"{RDA}.*no data frame 'debate_transcripts'"):
        read_debates(path, RDA)
