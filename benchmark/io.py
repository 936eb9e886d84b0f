"""Small file helpers shared by every stage: atomic writes, JSON Lines, hashing.

Every JSON reader here is bounded (``loads_bounded``), because many of the files it reads come from outside (result
files and control reports given to ``reconbench leaderboard add``, traces, tasks, configs): at most
``MAX_JSON_DEPTH`` levels of nesting, integers of at most ``MAX_INT_DIGITS`` digits, finite numbers only (no
``NaN``/``Infinity``), and only text that encodes to UTF-8. What breaks a rule is a ``DataError`` naming the file (and
line), never a traceback, and never a number that compares false with everything (NaN)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import DataError

MAX_JSON_DEPTH = 32  # nesting levels of one document (the document itself is level 1)
MAX_INT_DIGITS = 64

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees either the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes the file owner-only; a written file gets normal permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def dumps_canonical(obj: Any) -> str:
    """One canonical JSON text (sorted keys, no ASCII escaping): equal data gives equal bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write_json(path: Path | str, obj: Any) -> None:
    """Atomically write pretty, key-sorted JSON with a trailing newline (stable bytes for hashing and diffs)."""
    atomic_write_text(path, json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=2) + "\n")


class UnacceptableJSON(ValueError):
    """Well-formed JSON that breaks one of ``loads_bounded``'s rules; the message says which."""


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise UnacceptableJSON(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnacceptableJSON(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str):
    raise UnacceptableJSON(f"{name} is not JSON")


def _check_tree(doc: Any) -> None:
    """Raise UnacceptableJSON when ``doc`` nests deeper than ``MAX_JSON_DEPTH`` levels or holds a string (value or
    key) that cannot be encoded to UTF-8; one iterative walk (no recursion on hostile input)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError as e:
                raise UnacceptableJSON(f"text that is not valid Unicode ({e.reason}: "
                                       f"{ascii(e.object[e.start:e.end])})") from None
        elif isinstance(node, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise UnacceptableJSON(f"JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)")
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def loads_bounded(text: str) -> Any:
    """``json.loads`` for text that may be hostile. Raises ``json.JSONDecodeError`` for malformed JSON and
    ``UnacceptableJSON`` for JSON nested deeper than ``MAX_JSON_DEPTH``, an integer longer than ``MAX_INT_DIGITS``
    digits, ``NaN``/``Infinity`` or a number out of range, or a string that cannot be encoded (an escaped lone
    surrogate such as ``\\udc80``)."""
    try:
        doc = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise UnacceptableJSON(f"JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)") from None
    _check_tree(doc)
    return doc


def read_json(path: Path | str) -> Any:
    """One JSON document, read with ``loads_bounded``; any problem is a DataError naming the file."""
    path = Path(path)
    try:
        return loads_bounded(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    except IsADirectoryError:
        raise DataError("is a folder, not a file", file=path) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not valid UTF-8 ({e.reason} at byte {e.start})", file=path) from None
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", file=path) from None
    except UnacceptableJSON as e:
        raise DataError(f"unacceptable JSON: {e}", file=path) from None


def write_jsonl(path: Path | str, records: Iterable[Any]) -> None:
    """Atomically write one canonical JSON document per line."""
    atomic_write_text(path, "".join(dumps_canonical(r) + "\n" for r in records))


def iter_jsonl(path: Path | str) -> Iterator[Any]:
    """Yield the documents of a JSON Lines file; a bad line raises a DataError naming file and line."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                doc = loads_bounded(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 ({e.reason})", file=path, record=f"line {lineno}") from None
            except json.JSONDecodeError as e:
                raise DataError(f"not valid JSON: {e.msg}", file=path, record=f"line {lineno}") from None
            except UnacceptableJSON as e:
                raise DataError(f"unacceptable JSON: {e}", file=path, record=f"line {lineno}") from None
            yield doc


def read_jsonl(path: Path | str) -> list[Any]:
    return list(iter_jsonl(path))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))
