"""The output validator: run on every submission's output before anything else reads it.

It never trusts the output folder: entries are listed without following symbolic links (at most ``_MAX_ENTRIES`` of
them), only ``traces.jsonl`` may be there and it must be a plain file with a single link, read with ``O_NOFOLLOW``
and at most the size cap; the bytes that were read and checked are the bytes kept (``Validation.raw``), so nothing
can change the file between the check and the copy. Every line is parsed with bounded JSON: at most
``MAX_JSON_DEPTH`` levels of nesting, integers of at most ``MAX_INT_DIGITS`` digits, finite numbers only, no
``NaN``/``Infinity``, and only text that encodes to UTF-8 (an escaped lone surrogate such as ``\\udc80`` is refused).
Every problem is reported with the line and id it concerns, names and ids shown escaped and shortened, and the
problem list is capped. The leak check is ``benchmark.leak``.
"""

from __future__ import annotations

import io
import json
import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..io import MAX_INT_DIGITS, MAX_JSON_DEPTH, UnacceptableJSON, loads_bounded
from ..leak import LeakCheck, copied_share, leak_scores
from ..schema import errors as schema_errors
from ._contract import TRACES_FILE, Limits

__all__ = ["LeakCheck", "Validation", "copied_share", "shown", "validate_output", "MAX_JSON_DEPTH", "MAX_INT_DIGITS"]

_MAX_PROBLEMS = 50  # a broken file would otherwise give one problem per line
_MAX_PROBLEM_CHARS = 400
_MAX_ENTRIES = 1000  # output-folder entries looked at
_MAX_BLANK_LINES = 1000


def shown(text: str | bytes, limit: int = 80, *, quote: bool = True) -> str:
    """``text`` quoted for a message: control, format and unpaired-surrogate characters escaped (a file name that is
    not valid UTF-8 shows its bytes as ``\\xNN``; terminal escape codes never reach a terminal raw), cut to ``limit``
    characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    out = []
    for c in text[:limit]:
        cat = unicodedata.category(c)
        if "\udc80" <= c <= "\udcff":  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{ord(c) - 0xdc00:02x}")
        elif quote and c in ("\\", "'"):
            out.append("\\" + c)
        elif cat[0] == "C" or cat in ("Zl", "Zp"):
            cp = ord(c)
            out.append(f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")
        else:
            out.append(c)
    body = "".join(out) + ("..." if len(text) > limit else "")
    return f"'{body}'" if quote else body


def _name(name: str) -> str:
    """A file name for a message: as is when it is plain printable text, else ``shown`` (quoted, escaped)."""
    if name.isprintable() and name.isascii() and not any(c in name for c in " '\"\\") and len(name) <= 80:
        return name
    return shown(name)


@dataclass
class Validation:
    """The validator's verdict. ``problems`` are human-readable, each naming the line and/or id; at most
    ``_MAX_PROBLEMS`` are kept (``n_problems`` counts them all)."""

    problems: list[str] = field(default_factory=list)
    traces: list[dict] = field(default_factory=list)
    leaks: list[dict] = field(default_factory=list)  # [{"id", "line", "copied", "how"}]
    n_checked_for_leaks: int = 0
    check: LeakCheck = LeakCheck()
    n_problems: int = 0
    raw: bytes | None = field(default=None, repr=False)  # the bytes of traces.jsonl that were checked

    def problem(self, message: str) -> None:
        self.n_problems += 1
        if len(self.problems) < _MAX_PROBLEMS:
            if len(message) > _MAX_PROBLEM_CHARS:
                message = message[:_MAX_PROBLEM_CHARS] + "..."
            self.problems.append(message)

    @property
    def full(self) -> bool:
        return self.n_problems >= _MAX_PROBLEMS

    @property
    def ok(self) -> bool:
        return not self.n_problems

    @property
    def leaked(self) -> bool:
        """Too many traces copy the real action (a failure of its own, after the output is otherwise valid)."""
        return bool(self.traces) and len(self.leaks) > self.check.max_fraction * len(self.traces)

    def summary(self, k: int = 3) -> str:
        """The first ``k`` problems in one line."""
        more = self.n_problems - min(k, len(self.problems))
        return "; ".join(self.problems[:k]) + (f" (+{more} more)" if more > 0 else "")

    def as_dict(self) -> dict:
        return {"problems": self.problems, "n_problems": self.n_problems, "n_traces": len(self.traces),
                "leak_check": {**self.check.as_dict(), "n_checked": self.n_checked_for_leaks,
                               "n_flagged": len(self.leaks), "flagged": self.leaks}}


def validate_output(output_dir: Path | str, records: list[dict], *, limits: Limits = Limits(),
                    check: LeakCheck = LeakCheck()) -> Validation:
    """Check a submission's output folder against the training ``records`` it was given. Never raises for anything
    the submission wrote."""
    v = Validation(check=check)
    output_dir = Path(output_dir)
    raw = _read_traces_file(output_dir, limits, v)
    if raw is None:
        return v
    v.raw = raw
    by_id = {r["id"]: r for r in records}
    seen: dict[str, int] = {}
    blank = 0
    for lineno, line in enumerate(io.BytesIO(raw), 1):
        if v.full:
            v.problems.append(f"{TRACES_FILE}: stopped after {_MAX_PROBLEMS} problems")
            break
        line = line.rstrip(b"\n")
        if not line.strip():
            blank += 1
            if blank > _MAX_BLANK_LINES:
                v.problem(f"{TRACES_FILE}: more than {_MAX_BLANK_LINES} blank lines")
                break
            continue
        if len(seen) > len(by_id) + _MAX_PROBLEMS:
            v.problem(f"{TRACES_FILE}: far more lines than training records ({len(by_id)}); stopped reading")
            break
        doc = _parse_line(line, lineno, limits, v)
        if doc is None:
            continue
        tid = doc["id"]
        if tid in seen:
            v.problem(f"{TRACES_FILE} line {lineno}: duplicate id {shown(tid)} (first on line {seen[tid]})")
            continue
        seen[tid] = lineno
        if tid not in by_id:
            v.problem(f"{TRACES_FILE} line {lineno}: unknown id {shown(tid)} (not a training record)")
            continue
        v.traces.append(doc)
        scores = leak_scores(doc["trace"], by_id[tid]["action"], check)
        if scores is not None:
            v.n_checked_for_leaks += 1
            if scores.fired:
                v.leaks.append({"id": tid, "line": lineno, "copied": round(scores.copied, 4),
                                "how": list(scores.fired)})
    missing = [r["id"] for r in records if r["id"] not in seen]
    if missing:
        shown_ids = ", ".join(shown(i) for i in missing[:5]) + (f" and {len(missing) - 5} more"
                                                               if len(missing) > 5 else "")
        v.problem(f"{TRACES_FILE}: {len(missing)} training id(s) have no trace: {shown_ids}")
    return v


def _read_traces_file(output_dir: Path, limits: Limits, v: Validation) -> bytes | None:
    entries = []
    try:
        with os.scandir(output_dir) as it:
            for e in it:
                if len(entries) >= _MAX_ENTRIES:
                    v.problem(f"output folder: more than {_MAX_ENTRIES} entries (only {TRACES_FILE} is allowed)")
                    break
                entries.append(e)
    except FileNotFoundError:
        v.problem(f"output folder {shown(str(output_dir), 200)} does not exist")
        return None
    except OSError as e:
        v.problem(f"output folder cannot be listed ({e.strerror})")
        return None
    entries.sort(key=lambda e: os.fsencode(e.name))
    found = False
    for e in entries:
        try:
            if e.is_symlink():
                v.problem(f"{_name(e.name)}: is a symbolic link (not followed; only a plain {TRACES_FILE} is allowed)")
            elif e.name != TRACES_FILE:
                v.problem(f"{_name(e.name)}: unexpected entry in the output folder (only {TRACES_FILE} is allowed)")
            elif not e.is_file(follow_symlinks=False):
                v.problem(f"{TRACES_FILE}: not a plain file")
            else:
                found = True
        except OSError as err:
            v.problem(f"{_name(e.name)}: cannot be inspected ({err.strerror})")
    if not found:
        if not any(e.name == TRACES_FILE for e in entries):
            v.problem(f"{TRACES_FILE}: missing (the submission wrote no traces)")
        return None
    try:
        fd = os.open(output_dir / TRACES_FILE, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        v.problem(f"{TRACES_FILE}: cannot be opened safely ({e.strerror})")
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            v.problem(f"{TRACES_FILE}: not a plain file")
            return None
        if st.st_nlink != 1:
            v.problem(f"{TRACES_FILE}: has {st.st_nlink} hard links (a hard link to another file is refused; "
                      "write a new file)")
            return None
        if st.st_size > limits.max_file_bytes:
            v.problem(f"{TRACES_FILE}: larger than the cap of {limits.max_file_bytes} bytes")
            return None
        try:
            raw = fh.read(limits.max_file_bytes + 1)
        except OSError as e:
            v.problem(f"{TRACES_FILE}: cannot be read ({e.strerror})")
            return None
    if len(raw) > limits.max_file_bytes:
        v.problem(f"{TRACES_FILE}: larger than the cap of {limits.max_file_bytes} bytes")
        return None
    return raw


def _parse_line(line: bytes, lineno: int, limits: Limits, v: Validation) -> dict | None:
    where = f"{TRACES_FILE} line {lineno}"
    if len(line) > limits.max_line_bytes:
        v.problem(f"{where}: oversize line ({len(line)} bytes, cap {limits.max_line_bytes})")
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        v.problem(f"{where}: not valid UTF-8 ({e.reason} at byte {e.start})")
        return None
    try:
        doc = loads_bounded(text)
    except json.JSONDecodeError as e:
        v.problem(f"{where}: malformed JSON ({e.msg} at column {e.colno})")
        return None
    except UnacceptableJSON as e:
        v.problem(f"{where}: unacceptable JSON ({e})")
        return None
    tid = doc.get("id") if isinstance(doc, dict) else None
    label = f"{where} (id {shown(tid)})" if isinstance(tid, str) else where
    trace = doc.get("trace") if isinstance(doc, dict) else None
    if isinstance(trace, str) and len(trace) > limits.max_trace_chars:
        v.problem(f"{label}: oversize trace ({len(trace)} characters, cap {limits.max_trace_chars})")
        return None
    errs = schema_errors("traces", doc)
    if errs:
        e = errs[0]
        field_ = "/".join(shown(str(p), 40) for p in e.absolute_path)
        v.problem(f"{label}: does not match the traces schema{f' at {field_}' if field_ else ''}: "
                  f"{shown(e.message, 200, quote=False)}")
        return None
    return doc
