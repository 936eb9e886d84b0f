"""The shared pack machinery on the real scotus pack: chronological splits, no leaked actions, stable ids,
schema-valid records, byte-identical rebuilds, and a lock that refuses tampered, missing and extra files."""

from __future__ import annotations

import copy
import gzip
import http.server
import shutil
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest

from benchmark import packs, paths
from benchmark.errors import DataError, PackIntegrityError
from benchmark.io import read_json, write_json
from benchmark.packs import _build
from benchmark.packs._types import Turn
from benchmark.packs.download import DownloadError, download
from benchmark.schema import errors as schema_errors

SPLITS = ("train", "dev", "test")


# ---------------------------------------------------------------- the real pack


def test_split_sizes_follow_the_spec(scotus_records):
    sizes = packs.load_spec("scotus")["split"]
    for user, by_split in scotus_records.items():
        assert len(by_split["test"]) == sizes["test"], user
        assert len(by_split["dev"]) == sizes["dev"], user
        assert 0 < len(by_split["train"]) <= sizes["train_max"], user


def test_split_is_chronological_per_user(scotus_records):
    for user, by_split in scotus_records.items():
        train, dev, test = (by_split[s] for s in SPLITS)
        assert max(r["timestamp"] for r in train) <= min(r["timestamp"] for r in dev), user
        assert max(r["timestamp"] for r in dev) <= min(r["timestamp"] for r in test), user
        for records in (train, dev, test):
            stamps = [r["timestamp"] for r in records]
            assert stamps == sorted(stamps), f"{user}: a split file is not in chronological order"


def test_no_action_appears_in_its_own_context(scotus_records):
    for by_split in scotus_records.values():
        for records in by_split.values():
            for r in records:
                assert r["context"], r["id"]
                assert all(r["action"] not in turn["text"] for turn in r["context"]), r["id"]


def test_ids_are_unique_and_name_pack_and_user(scotus_records):
    ids = [r["id"] for by_split in scotus_records.values() for records in by_split.values() for r in records]
    assert len(ids) == len(set(ids))
    for user, by_split in scotus_records.items():
        for records in by_split.values():
            assert all(r["id"].startswith(f"scotus/{user}/") and r["user"] == user for r in records)


def test_every_record_matches_the_record_schema(scotus_records):
    for by_split in scotus_records.values():
        for records in by_split.values():
            bad = [(r["id"], schema_errors("record", r)) for r in records if schema_errors("record", r)]
            assert not bad, bad[:1]


def test_actions_are_the_users_own_selected_turns(scotus_records):
    spec = packs.load_spec("scotus")
    selection = spec["selection"]
    for records in (r for by_split in scotus_records.values() for r in by_split.values()):
        for r in records:
            assert len(r["action"]) >= selection["min_action_chars"]
            assert len(r["action"].split()) >= selection["min_action_words"]
            assert len(r["context"]) <= spec["context"]["max_turns"]
            assert sum(len(t["text"]) for t in r["context"]) <= spec["context"]["max_chars"]


def test_rebuild_is_byte_identical_and_matches_the_committed_lock(scotus_data, raw_dir, tmp_path):
    result = packs.build_pack("scotus", raw_dir, tmp_path)
    assert not result.lock_written
    assert result.lock == read_json(packs.lock_path("scotus"))
    first = sorted(p.relative_to(scotus_data / "scotus") for p in (scotus_data / "scotus").rglob("*.jsonl"))
    second = sorted(p.relative_to(tmp_path / "scotus") for p in (tmp_path / "scotus").rglob("*.jsonl"))
    assert first == second and len(first) == 6
    for rel in first:
        assert (scotus_data / "scotus" / rel).read_bytes() == (tmp_path / "scotus" / rel).read_bytes(), rel


# ---------------------------------------------------------------- the lock refuses changed packs


@pytest.fixture
def scotus_copy(scotus_data, tmp_path) -> Path:
    """A private copy of the built scotus pack that a test may damage; returns its data dir."""
    shutil.copytree(scotus_data / "scotus", tmp_path / "data" / "scotus")
    return tmp_path / "data"


def test_one_byte_tamper_is_refused_by_verify_and_load(scotus_copy):
    path = scotus_copy / "scotus" / "gorsuch" / "test.jsonl"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(PackIntegrityError, match=r"gorsuch/test\.jsonl: changed"):
        packs.verify_pack("scotus", scotus_copy)
    with pytest.raises(PackIntegrityError, match="does not match its lock"):
        packs.load_split("scotus", "sotomayor", "train", scotus_copy)


def test_missing_file_is_refused(scotus_copy):
    (scotus_copy / "scotus" / "sotomayor" / "dev.jsonl").unlink()
    with pytest.raises(PackIntegrityError, match=r"sotomayor/dev\.jsonl: missing"):
        packs.load_split("scotus", "sotomayor", "test", scotus_copy)


def test_extra_file_is_refused(scotus_copy):
    (scotus_copy / "scotus" / "sotomayor" / "notes.txt").write_text("mine")
    with pytest.raises(PackIntegrityError, match=r"notes\.txt: extra file"):
        packs.verify_pack("scotus", scotus_copy)


def test_unbuilt_pack_is_refused_with_the_command_to_build_it(tmp_path):
    with pytest.raises(PackIntegrityError, match="reconbench packs build scotus"):
        packs.load_split("scotus", "gorsuch", "test", tmp_path)


def test_unknown_user_and_split_are_named(scotus_data):
    with pytest.raises(DataError, match="no user 'roberts'"):
        packs.load_split("scotus", "roberts", "test", scotus_data)
    with pytest.raises(DataError, match="no split 'validation'"):
        packs.load_split("scotus", "gorsuch", "validation", scotus_data)


@pytest.fixture
def private_domains(monkeypatch, tmp_path) -> Path:
    """A copy of domains/scotus in a private domains folder, so a test may change the spec or the lock."""
    domains = tmp_path / "domains"
    shutil.copytree(paths.DOMAINS_DIR / "scotus", domains / "scotus")
    monkeypatch.setattr(paths, "DOMAINS_DIR", domains)
    return domains / "scotus"


def test_spec_changed_since_the_lock_is_refused(scotus_data, private_domains):
    spec = read_json(private_domains / "pack.json")
    spec["context"]["max_turns"] = 3
    write_json(private_domains / "pack.json", spec)
    with pytest.raises(PackIntegrityError, match="spec changed since its lock"):
        packs.verify_pack("scotus", scotus_data)


def test_first_build_writes_the_lock_and_a_build_that_does_not_reproduce_it_writes_nothing(
        small_scotus, private_domains, tmp_path):
    spec, raw = small_scotus
    write_json(private_domains / "pack.json", spec)
    (private_domains / "lock.json").unlink()
    first = packs.build_pack("scotus", raw.parent, tmp_path / "first")
    assert first.lock_written and read_json(private_domains / "lock.json") == first.lock
    packs.verify_pack("scotus", tmp_path / "first")
    lock = read_json(private_domains / "lock.json")
    lock["files"][0]["sha256"] = "0" * 64
    write_json(private_domains / "lock.json", lock)
    with pytest.raises(PackIntegrityError, match="does not reproduce its lock.*nothing was written"):
        packs.build_pack("scotus", raw.parent, tmp_path / "second")
    assert not (tmp_path / "second").exists()


# ---------------------------------------------------------------- bad raw input


def build_small(spec, raw, tmp_path):
    return _build.build(spec, raw, tmp_path / "out", lock_file=None, spec_file="test spec")


def test_small_spec_builds_from_copied_raw_files(small_scotus, tmp_path):
    spec, raw = small_scotus
    result = build_small(spec, raw, tmp_path)
    assert {f["path"] for f in result.lock["files"]} == {f"{u}/{s}.jsonl" for u in ("sotomayor", "gorsuch")
                                                         for s in SPLITS}


def test_truncated_gzip_names_the_file(small_scotus, tmp_path):
    spec, raw = small_scotus
    path = raw / spec["files"][2]["path"]
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError, match=rf"{path.name}: truncated or corrupt gzip"):
        build_small(spec, raw, tmp_path)
    assert not (tmp_path / "out").exists()


def test_changed_raw_content_fails_the_sha256_check(small_scotus, tmp_path):
    spec, raw = small_scotus
    path = raw / spec["files"][1]["path"]
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()).replace(b"Court", b"court", 1)))
    with pytest.raises(DataError, match=rf"{path.name}, field 'files/1/sha256': sha256 of the upstream content"):
        build_small(spec, raw, tmp_path)


def test_missing_raw_file_names_the_file(small_scotus, tmp_path):
    spec, raw = small_scotus
    (raw / spec["files"][0]["path"]).unlink()
    with pytest.raises(DataError, match="raw file is missing"):
        build_small(spec, raw, tmp_path)


def test_spec_user_whose_speakers_never_occur_is_named(small_scotus, tmp_path):
    spec, raw = small_scotus
    spec["users"][1]["speakers"] = ["Neil M. Gorsuch"]
    with pytest.raises(DataError, match=r"field 'users/1/speakers': user 'gorsuch': none of the speakers"):
        build_small(spec, raw, tmp_path)


def test_too_few_examples_for_the_split_sizes_is_refused(small_scotus, tmp_path):
    spec, raw = small_scotus
    spec["split"]["test"] = 5000
    with pytest.raises(DataError, match="field 'split'.*nothing would be left to train on"):
        build_small(spec, raw, tmp_path)


def test_invalid_skip_pattern_names_the_field():
    spec = copy.deepcopy(packs.load_spec("scotus"))
    spec["selection"]["skip_action_patterns"].append("(unclosed")
    with pytest.raises(DataError, match="field 'selection/skip_action_patterns/2'"):
        _build.check_spec(spec, "test spec")


# ---------------------------------------------------------------- context window and selection


def turns(*texts):
    return [Turn(speaker=f"s{i}", text=t, ref=str(i)) for i, t in enumerate(texts)]


def test_context_window_keeps_the_newest_turns_within_both_limits():
    got = _build.window(turns("a" * 10, "b" * 10, "c" * 10, "d" * 10), max_turns=3, max_chars=25)
    assert [t["text"] for t in got] == ["c" * 10, "d" * 10]
    assert [t["speaker"] for t in got] == ["s2", "s3"]


def test_context_window_cuts_an_overlong_nearest_turn_to_its_end():
    got = _build.window(turns("old", "x" * 50 + "END"), max_turns=5, max_chars=10)
    assert got == [{"speaker": "s1", "text": "…" + "x" * 6 + "END"}]
    assert len(got[0]["text"]) == 10


def test_selection_skips_repeats_of_the_context_and_procedural_turns():
    spec = packs.load_spec("scotus")
    sel = _build.Selection(spec)
    long = "Counsel, what is the limiting principle of your reading of the statute here?"
    assert sel.reason(long, 3, [{"speaker": "a", "text": "x"}]) is None
    assert sel.reason(long, 3, [{"speaker": "a", "text": "As I said: " + long}]) == "in own context"
    assert sel.reason("Thank you, counsel, I have nothing further at this point.", 3, []) == "procedural"
    assert sel.reason("Okay.", 3, []) == "too short"
    assert sel.reason(long, 0, []) == "no context"


# ---------------------------------------------------------------- download


@pytest.fixture
def upstream_server(small_scotus, tmp_path):
    """A local HTTP server serving two of the small spec's files at their upstream paths (decompressed, as
    upstream holds them); yields (spec with url_template pointing at it, folder it serves)."""
    spec, raw = small_scotus
    spec = copy.deepcopy(spec)
    spec["files"] = spec["files"][:2]
    served = tmp_path / "upstream"
    for entry in spec["files"]:
        target = served / spec["upstream"]["commit"] / entry["upstream_path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress((raw / entry["path"]).read_bytes()))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    spec["upstream"]["url_template"] = f"http://127.0.0.1:{server.server_port}/{{commit}}/{{upstream_path}}"
    yield spec, served
    server.shutdown()


def test_download_fetches_pinned_files_that_then_pass_the_raw_check(upstream_server, tmp_path):
    spec, _ = upstream_server
    raw = tmp_path / "fetched"
    assert len(download(spec, raw, timeout=10)) == 2
    _build.verify_raw(spec, raw)
    assert download(spec, raw, timeout=10) == []  # already present: nothing fetched again


def test_download_refuses_content_that_differs_from_the_pin(upstream_server, tmp_path):
    spec, served = upstream_server
    target = served / spec["upstream"]["commit"] / spec["files"][1]["upstream_path"]
    target.write_bytes(target.read_bytes() + b" ")
    with pytest.raises(DataError, match="downloaded content has sha256"):
        download(spec, tmp_path / "fetched", timeout=10)
    assert not (tmp_path / "fetched" / spec["files"][1]["path"]).exists()


def test_download_offline_fails_cleanly_naming_the_url(small_scotus, tmp_path):
    spec, _ = small_scotus
    spec["upstream"]["url_template"] = "http://127.0.0.1:9/{commit}/{upstream_path}"  # nothing listens there
    with pytest.raises(DownloadError, match=r"cannot fetch http://127\.0\.0\.1:9/.*copy the files"):
        download(spec, tmp_path / "fetched", timeout=5)
    assert not any((tmp_path / "fetched").rglob("*.gz"))


# ---------------------------------------------------------------- command line


def reconbench(*args):
    cmd = [sys.executable, "-m", "benchmark.cli", "packs", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_cli_show_prints_counts_per_user_and_split(scotus_data):
    out = reconbench("show", "scotus", "--data", str(scotus_data))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["pack", "user", "split", "examples"]
    assert any(line.split()[:4] == ["scotus", "sotomayor", "test", "500"] for line in lines)
    assert any(line.split()[:4] == ["scotus", "gorsuch", "dev", "100"] for line in lines)


def test_cli_verify_reports_a_tampered_pack_in_one_line_with_exit_code_2(scotus_copy):
    assert reconbench("verify", "scotus", "--data", str(scotus_copy)).returncode == 0
    path = scotus_copy / "scotus" / "sotomayor" / "train.jsonl"
    path.write_bytes(path.read_bytes()[:-1] + b"\r")
    out = reconbench("verify", "scotus", "--data", str(scotus_copy))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == ["error: 1 pack(s) failed verification: scotus"]
    assert "sotomayor/train.jsonl: changed" in out.stdout


def test_export_is_loadable_with_datasets(build_pack_once, tmp_path):
    import datasets

    from benchmark.packs.export import export_pack

    data = build_pack_once("pmq-sample")  # the smallest real pack: export is about format, not size
    records = {s: packs.load_split("pmq-sample", "cameron", s, data) for s in ("train", "test")}
    list(export_pack("pmq-sample", tmp_path / "arrow", fmt="arrow", data_dir=data))
    loaded = datasets.load_from_disk(str(tmp_path / "arrow" / "pmq-sample" / "cameron"))
    assert set(loaded) == {"train", "test"}
    assert loaded["test"]["id"] == [r["id"] for r in records["test"]]
    assert loaded["train"][0]["context"] == records["train"][0]["context"]
    list(export_pack("pmq-sample", tmp_path / "pq", fmt="parquet", data_dir=data))
    pq = datasets.load_dataset("parquet", data_files=str(tmp_path / "pq" / "pmq-sample" / "cameron" / "test.parquet"),
                               split="train")
    assert pq["action"] == [r["action"] for r in records["test"]]
