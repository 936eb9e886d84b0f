"""The on-disk cache of LM calls (SQLite) and the wrapper that puts it, usage accounting and progress bars in
front of every backend.

A key is the sha256 of the model fingerprint, the method, the chat messages as canonical JSON (not the rendered
prompt, so every backend of the same weights shares entries) and the parameters, seed included, and the precision
(dtype) when it is not float32. The database runs
in WAL mode with a busy timeout, so several processes can write at once and a killed writer loses only its
uncommitted batch. A corrupt file is moved aside with a warning and every entry that can still be read is copied
into a fresh one; a run never stops because of its cache."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock
from tqdm.auto import tqdm

from ..io import dumps_canonical, sha256_text
from ._base import Backend, GenParams, Messages, Usage

_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_SCHEMA = "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"


def _is_corruption(e: sqlite3.DatabaseError) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPT_CODES
    # a busy or locked database is contention, not damage
    return not isinstance(e, sqlite3.OperationalError) or "malformed" in str(e) or "not a database" in str(e)


class LMCache:
    """A key -> JSON value store in one SQLite file, safe for concurrent writers and crashes."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = self._open()

    def _connect(self, path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=60000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = self._connect(self.path)
            conn.execute(_SCHEMA)
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                conn.close()
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            return conn
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and not _is_corruption(e):
                raise
            return self._recover(e)

    def _recover(self, error: Exception) -> sqlite3.Connection:
        """Move the damaged file aside, start a new one and copy over every entry that can still be read."""
        with FileLock(str(self.path) + ".lock"):
            aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns()}")
            if self.path.exists():
                self.path.rename(aside)
                for suffix in ("-wal", "-shm"):  # SQLite pairs a database with its WAL by file name
                    side = Path(str(self.path) + suffix)
                    if side.exists():
                        side.rename(Path(str(aside) + suffix))
            conn = self._connect(self.path)
            conn.execute(_SCHEMA)
            saved = self._salvage(aside, conn) if aside.exists() else 0
        warnings.warn(f"LM cache {self.path} was damaged ({error}); moved it to {aside} and kept {saved} readable "
                      f"entries", RuntimeWarning, stacklevel=3)
        return conn

    @staticmethod
    def _salvage(src: Path, dst: sqlite3.Connection) -> int:
        rows: dict[str, tuple[str, float]] = {}
        try:
            old = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        except sqlite3.DatabaseError:
            return 0
        try:
            try:
                for k, v, c in old.execute("SELECT key, value, created FROM entries"):
                    rows[k] = (v, c)
            except sqlite3.DatabaseError:
                # a full scan stops at the first bad page: fetch row by row, skipping the unreadable ones
                try:
                    top = old.execute("SELECT max(rowid) FROM entries").fetchone()[0] or 0
                except sqlite3.DatabaseError:
                    top = 0
                for rowid in range(1, top + 1):
                    try:
                        r = old.execute("SELECT key, value, created FROM entries WHERE rowid=?", (rowid,)).fetchone()
                    except sqlite3.DatabaseError:
                        continue
                    if r is not None:
                        rows[r[0]] = (r[1], r[2])
        finally:
            old.close()
        good = []
        for k, (v, c) in rows.items():
            try:
                json.loads(v)
                good.append((k, v, c))
            except (TypeError, ValueError):
                continue
        dst.execute("BEGIN IMMEDIATE")
        dst.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?)", good)
        dst.execute("COMMIT")
        return len(good)

    def _run(self, op: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            try:
                return op(self._conn)
            except sqlite3.DatabaseError as e:
                if not _is_corruption(e):
                    raise
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = self._recover(e)
                return op(self._conn)

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        """The cached values of those ``keys`` that are present (unreadable values count as absent)."""
        def op(conn):
            found = {}
            for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
                part = list(keys[start:start + 500])
                q = f"SELECT key, value FROM entries WHERE key IN ({','.join('?' * len(part))})"
                found.update(conn.execute(q, part).fetchall())
            return found

        out = {}
        for k, v in self._run(op).items():
            try:
                out[k] = json.loads(v)
            except ValueError:
                continue
        return out

    def put_many(self, items: dict[str, Any]) -> None:
        """Store ``items`` in one transaction: after a crash either all of them are there or none."""
        rows = [(k, dumps_canonical(v), time.time()) for k, v in items.items()]

        def op(conn):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

        self._run(op)

    def __len__(self) -> int:
        return self._run(lambda conn: conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def cache_key(fingerprint: str, method: str, request: Any, params: dict, dtype: str | None = None) -> str:
    """The cache key of one request: model weights, method, messages (canonical JSON) and parameters, and the
    precision the weights ran in when it is not float32 (the CPU default, whose keys predate the field): a bfloat16
    run computes other numbers (greedy text, log-probabilities) and must not be answered from float32 entries."""
    return sha256_text(dumps_canonical({"v": 1, "model": fingerprint, "method": method, "request": request,
                                        "params": params} | ({"dtype": dtype} if dtype not in (None, "float32")
                                                             else {})))


class CachedLM:
    """An ``LM``: answers from the cache where it can, sends the rest to the backend in batches of similar length,
    stores each batch as soon as it is computed (so an interrupted run resumes), and counts usage."""

    def __init__(self, backend: Backend, cache: LMCache | None):
        self.backend, self.cache = backend, cache
        self.name, self.fingerprint = backend.name, backend.fingerprint
        # the precision the backend computes in ("float32", "bfloat16", ...; None where it cannot tell, e.g. a
        # server behind the openai backend): part of the cache key and recorded beside the fingerprint in results
        self.dtype: str | None = getattr(backend, "dtype", None)
        self.usage: Usage = backend.usage

    def _run(self, method: str, requests: list, params: dict, compute: Callable[[list], list],
             desc: str | None) -> list:
        keys = [cache_key(self.fingerprint, method, r, params, self.dtype) for r in requests]
        found = self.cache.get_many(keys) if self.cache is not None else {}
        todo: dict[str, Any] = {}
        for k, r in zip(keys, requests):
            if k not in found:
                todo.setdefault(k, r)  # the same request twice in one call is computed once
        hits = len(requests) - sum(1 for k in keys if k not in found)
        self.usage.record(cache_hits=hits)
        order = sorted(todo, key=lambda k: len(dumps_canonical(todo[k])))  # similar lengths pad less
        step = max(1, getattr(self.backend, "batch_size", 16))
        with tqdm(total=len(requests), initial=hits, desc=desc or method, unit="req", disable=None,
                  leave=False) as bar:
            for start in range(0, len(order), step):
                batch = order[start:start + step]
                values = compute([todo[k] for k in batch])
                done = dict(zip(batch, values))
                if self.cache is not None:
                    self.cache.put_many(done)
                found.update(done)
                bar.update(sum(1 for k in keys if k in done))
        return [found[k] for k in keys]

    def generate(self, prompts: list[Messages], params: GenParams, *, desc: str | None = None) -> list[list[str]]:
        """One list of ``params.n`` completions per prompt; a progress bar labelled ``desc``."""
        return self._run("generate", prompts, params.as_dict(), lambda b: self.backend.generate(b, params), desc)

    def loglikelihood(self, requests: list[tuple[Messages, str]], *, desc: str | None = None) -> list[float]:
        """Sum of log p(continuation | chat prompt + assistant turn start), in nats, per request."""
        reqs = [[m, c] for m, c in requests]  # lists: the JSON form, so keys agree with what was stored
        return self._run("loglik", reqs, {},
                         lambda b: self.backend.loglikelihood([(m, c) for m, c in b]), desc)

    def score_options(self, prompts: list[Messages], options: list[str], *,
                      desc: str | None = None) -> list[dict[str, float]]:
        """Next-token probability of each option's first token after the assistant turn start, renormalised."""
        return self._run("options", prompts, {"options": list(options)},
                         lambda b: self.backend.score_options(b, list(options)), desc)
