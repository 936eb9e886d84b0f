"""The output validator: run on every submission's output before anything else reads it.

It never trusts the output folder: entries are listed without following symbolic links, only ``traces.jsonl`` may be
there and it must be a plain file, read with ``O_NOFOLLOW`` and at most the size cap. Every problem is reported with
the line and id it concerns. The leak check flags a trace that copies the real action: the share of the action's
word n-grams that appear in the trace.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import errors as schema_errors
from ._contract import TRACES_FILE, Limits

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class LeakCheck:
    """A trace *copies* its action when at least ``threshold`` of the action's word ``n``-grams occur in it.
    Actions shorter than ``n`` words are checked as one whole n-gram if they have at least ``min_words`` words;
    shorter ones ("Yes.") are not checked. The run fails as a leak when more than ``max_fraction`` of traces copy."""

    n: int = 8
    threshold: float = 0.5
    min_words: int = 5
    max_fraction: float = 0.1

    def as_dict(self) -> dict:
        return {"n": self.n, "threshold": self.threshold, "min_words": self.min_words,
                "max_fraction": self.max_fraction}


def _ngrams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def copied_share(trace: str, action: str, check: LeakCheck = LeakCheck()) -> float | None:
    """Share of the action's word n-grams found in the trace (0..1); None if the action is too short to check."""
    action_words = _WORD.findall(action.lower())
    if len(action_words) < check.min_words:
        return None
    n = min(check.n, len(action_words))
    wanted = _ngrams(action_words, n)
    found = wanted & _ngrams(_WORD.findall(trace.lower()), n)
    return len(found) / len(wanted)


@dataclass
class Validation:
    """The validator's verdict. ``problems`` are human-readable, each naming the line and/or id."""

    problems: list[str] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)
    leaks: list[dict] = field(default_factory=list)  # [{"id", "line", "copied"}]
    n_checked_for_leaks: int = 0
    check: LeakCheck = LeakCheck()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def leaked(self) -> bool:
        """Too many traces copy the real action (a failure of its own, after the output is otherwise valid)."""
        return bool(self.traces) and len(self.leaks) > self.check.max_fraction * len(self.traces)

    def as_dict(self) -> dict:
        return {"problems": self.problems, "n_traces": len(self.traces),
                "leak_check": {**self.check.as_dict(), "n_checked": self.n_checked_for_leaks,
                               "n_flagged": len(self.leaks), "flagged": self.leaks}}


_MAX_PROBLEMS = 50  # a broken file would otherwise give one problem per line


def validate_output(output_dir: Path | str, records: list[dict], *, limits: Limits = Limits(),
                    check: LeakCheck = LeakCheck()) -> Validation:
    """Check a submission's output folder against the training ``records`` it was given."""
    v = Validation(check=check)
    output_dir = Path(output_dir)
    raw = _read_traces_file(output_dir, limits, v.problems)
    if raw is None:
        return v
    by_id = {r["id"]: r for r in records}
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw.split(b"\n"), 1):
        if len(v.problems) >= _MAX_PROBLEMS:
            v.problems.append(f"{TRACES_FILE}: stopped after {_MAX_PROBLEMS} problems")
            break
        if not line.strip():
            continue
        doc = _parse_line(line, lineno, limits, v.problems)
        if doc is None:
            continue
        tid = doc["id"]
        if tid in seen:
            v.problems.append(f"{TRACES_FILE} line {lineno}: duplicate id {tid!r} (first on line {seen[tid]})")
            continue
        seen[tid] = lineno
        if tid not in by_id:
            v.problems.append(f"{TRACES_FILE} line {lineno}: unknown id {tid!r} (not a training record)")
            continue
        v.traces.append(doc)
        share = copied_share(doc["trace"], by_id[tid]["action"], check)
        if share is not None:
            v.n_checked_for_leaks += 1
            if share >= check.threshold:
                v.leaks.append({"id": tid, "line": lineno, "copied": round(share, 4)})
    missing = [r["id"] for r in records if r["id"] not in seen]
    if missing:
        shown = ", ".join(repr(i) for i in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        v.problems.append(f"{TRACES_FILE}: {len(missing)} training id(s) have no trace: {shown}")
    return v


def _read_traces_file(output_dir: Path, limits: Limits, problems: list[str]) -> bytes | None:
    try:
        entries = sorted(os.scandir(output_dir), key=lambda e: e.name)
    except FileNotFoundError:
        problems.append(f"output folder {output_dir} does not exist")
        return None
    found = False
    for e in entries:
        if e.is_symlink():
            problems.append(f"{e.name}: is a symbolic link (not followed; only a plain {TRACES_FILE} is allowed)")
        elif e.name != TRACES_FILE:
            problems.append(f"{e.name}: unexpected entry in the output folder (only {TRACES_FILE} is allowed)")
        elif not e.is_file(follow_symlinks=False):
            problems.append(f"{TRACES_FILE}: not a plain file")
        else:
            found = True
    if not found:
        if not any(e.name == TRACES_FILE for e in entries):
            problems.append(f"{TRACES_FILE}: missing (the submission wrote no traces)")
        return None
    try:
        fd = os.open(output_dir / TRACES_FILE, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        problems.append(f"{TRACES_FILE}: cannot be opened safely ({e.strerror})")
        return None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            problems.append(f"{TRACES_FILE}: not a plain file")
            return None
        raw = fh.read(limits.max_file_bytes + 1)
    if len(raw) > limits.max_file_bytes:
        problems.append(f"{TRACES_FILE}: larger than the cap of {limits.max_file_bytes} bytes")
        return None
    return raw


def _parse_line(line: bytes, lineno: int, limits: Limits, problems: list[str]) -> dict | None:
    where = f"{TRACES_FILE} line {lineno}"
    if len(line) > limits.max_line_bytes:
        problems.append(f"{where}: oversize line ({len(line)} bytes, cap {limits.max_line_bytes})")
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"{where}: not valid UTF-8 ({e.reason} at byte {e.start})")
        return None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        problems.append(f"{where}: malformed JSON ({e.msg} at column {e.colno})")
        return None
    tid = doc.get("id") if isinstance(doc, dict) else None
    label = f"{where} (id {tid!r})" if isinstance(tid, str) else where
    trace = doc.get("trace") if isinstance(doc, dict) else None
    if isinstance(trace, str) and len(trace) > limits.max_trace_chars:
        problems.append(f"{label}: oversize trace ({len(trace)} characters, cap {limits.max_trace_chars})")
        return None
    errs = schema_errors("traces", doc)
    if errs:
        e = errs[0]
        field_ = "/".join(str(p) for p in e.absolute_path)
        problems.append(f"{label}: does not match the traces schema{f' at {field_!r}' if field_ else ''}: {e.message}")
        return None
    return doc
