"""`packs verify` refuses anything in a built pack that its lock does not name -- an extra file, an empty extra
folder, a link -- and its advice works: the rebuild it names removes the extra entries, after which verify passes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmark import packs
from benchmark.errors import PackIntegrityError


@pytest.fixture
def scotus_copy(scotus_data, tmp_path) -> Path:
    shutil.copytree(scotus_data / "scotus", tmp_path / "data" / "scotus")
    return tmp_path / "data"


def test_an_empty_extra_folder_fails_verify(scotus_copy):
    (scotus_copy / "scotus" / "sotomayor" / "scratch").mkdir()
    with pytest.raises(PackIntegrityError, match=r"sotomayor/scratch: extra folder not in the lock"):
        packs.verify_pack("scotus", scotus_copy)


def test_a_link_in_place_of_a_split_file_fails_verify(scotus_copy):
    path = scotus_copy / "scotus" / "gorsuch" / "dev.jsonl"
    real = path.with_name("dev.real")
    path.rename(real)
    os.symlink(real, path)
    with pytest.raises(PackIntegrityError, match=r"dev\.jsonl: changed \(not a plain file\)"):
        packs.verify_pack("scotus", scotus_copy)


def test_the_advice_for_extra_entries_fixes_them(scotus_copy, raw_dir):
    (scotus_copy / "scotus" / "sotomayor" / "notes.txt").write_text("mine")
    (scotus_copy / "scotus" / "empty").mkdir()
    with pytest.raises(PackIntegrityError) as err:
        packs.verify_pack("scotus", scotus_copy)
    message = str(err.value)
    assert "notes.txt: extra file" in message and "empty: extra folder" in message
    assert "reconbench packs build scotus" in message and "removes every entry that is not in the lock" in message
    # follow the advice: the rebuild (same data dir) removes them and verify passes
    packs.build_pack("scotus", raw_dir, scotus_copy)
    packs.verify_pack("scotus", scotus_copy)
    assert not (scotus_copy / "scotus" / "empty").exists()


def test_the_manual_advice_works_too(scotus_copy):
    (scotus_copy / "scotus" / "extra.bin").write_bytes(b"x")
    with pytest.raises(PackIntegrityError) as err:
        packs.verify_pack("scotus", scotus_copy)
    for command in re.findall(r"rm -r '[^']+'", str(err.value)):
        subprocess.run(command, shell=True, check=True)
    packs.verify_pack("scotus", scotus_copy)
