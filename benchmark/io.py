"""Small file helpers shared by every stage: atomic writes, JSON Lines, hashing."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import DataError

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


def read_json(path: Path | str) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("file does not exist", file=path) from None
    except UnicodeDecodeError as e:
        raise DataError(f"not valid UTF-8 ({e.reason} at byte {e.start})", file=path) from None
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}", file=path) from None


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
                yield json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(f"not valid UTF-8 ({e.reason})", file=path, record=f"line {lineno}") from None
            except json.JSONDecodeError as e:
                raise DataError(f"not valid JSON: {e.msg}", file=path, record=f"line {lineno}") from None


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
