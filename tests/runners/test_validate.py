"""The output validator on hand-made output folders: it names the line and id of each problem, never follows a
link, and flags traces that copy the real action (no container needed)."""

from __future__ import annotations

import json
import os

from benchmark.runners import LeakCheck, Limits, copied_share, validate_output

RECORDS = [
    {"id": f"scotus/tester/k{i}", "action": f"Counsel, I want to ask you about the statute in case number {i} today."}
    for i in range(4)
]


def _write(folder, lines: list[str | bytes]) -> None:
    folder.mkdir(exist_ok=True)
    data = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    (folder / "traces.jsonl").write_bytes(data)


def _good() -> list[str]:
    return [json.dumps({"id": r["id"], "trace": "The justice probes the weak point."}) for r in RECORDS]


def test_valid_output_passes(tmp_path):
    _write(tmp_path / "out", _good())
    v = validate_output(tmp_path / "out", RECORDS)
    assert v.ok and not v.leaked and len(v.traces) == 4


def test_invalid_utf8_is_named_by_line(tmp_path):
    lines = _good()
    lines[2] = b'{"id": "scotus/tester/k2", "trace": "\xff\xfe"}'
    _write(tmp_path / "out", lines)
    assert any(p.startswith("traces.jsonl line 3: not valid UTF-8") for p in validate_output(tmp_path / "out",
                                                                                              RECORDS).problems)


def test_wrong_type_is_named_by_line_and_id(tmp_path):
    lines = _good()
    lines[0] = json.dumps({"id": RECORDS[0]["id"], "trace": 42})
    _write(tmp_path / "out", lines)
    problems = validate_output(tmp_path / "out", RECORDS).problems
    assert problems and "line 1 (id 'scotus/tester/k0')" in problems[0] and "'trace'" in problems[0]


def test_symlinked_traces_file_is_never_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    _write(elsewhere, _good())  # a perfectly valid file, reached through a link
    (tmp_path / "out").mkdir()
    os.symlink(elsewhere / "traces.jsonl", tmp_path / "out" / "traces.jsonl")
    v = validate_output(tmp_path / "out", RECORDS)
    assert not v.ok and "symbolic link" in v.problems[0] and not v.traces


def test_file_over_the_size_cap_is_rejected_unread(tmp_path):
    _write(tmp_path / "out", _good())
    v = validate_output(tmp_path / "out", RECORDS, limits=Limits(max_file_bytes=100))
    assert v.problems == ["traces.jsonl: larger than the cap of 100 bytes"]


def test_leak_check_flags_copies_but_not_paraphrases_or_short_actions():
    action = RECORDS[0]["action"]
    assert copied_share(f"Reasoning. They said: {action}", action) == 1.0
    assert copied_share("The justice wants to know how the statute applies here.", action) == 0.0
    assert copied_share("Yes.", "Yes.") is None  # too short to tell a copy from a coincidence
    assert copied_share("so he said yes okay fine then", "Yes okay fine then sure.", LeakCheck()) == 0.0


def test_a_single_copied_trace_is_recorded_but_within_the_allowed_share(tmp_path):
    lines = _good()
    lines[1] = json.dumps({"id": RECORDS[1]["id"], "trace": "He said: " + RECORDS[1]["action"]})
    _write(tmp_path / "out", lines)
    v = validate_output(tmp_path / "out", RECORDS, check=LeakCheck(max_fraction=0.3))
    assert v.ok and [f["id"] for f in v.leaks] == [RECORDS[1]["id"]] and not v.leaked
    assert validate_output(tmp_path / "out", RECORDS, check=LeakCheck(max_fraction=0.1)).leaked
