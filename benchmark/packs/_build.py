"""The shared pack machinery: spec -> verified raw files -> builder dialogues -> examples -> chronological splits ->
canonical split files + lock. Builders (one file per raw format) only turn files into ``Dialogue`` objects."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import re
import shutil
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .. import paths
from ..errors import DataError, PackIntegrityError
from ..io import atomic_write_bytes, dumps_canonical, read_json, sha256_bytes, sha256_file, write_json
from ..schema import validate
from ._types import BUILDERS, Dialogue

SPLITS = ("train", "dev", "test")
SPLIT_FILE = re.compile(r"^[a-z0-9_-]+/(train|dev|test)\.jsonl$")
ID_KEY = re.compile(r"^[A-Za-z0-9._:+-]+$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")
ELLIPSIS = "…"


# ---------------------------------------------------------------- specs and locks


def spec_path(pack: str) -> Path:
    return paths.DOMAINS_DIR / pack / "pack.json"


def lock_path(pack: str) -> Path:
    return paths.DOMAINS_DIR / pack / "lock.json"


def pack_names() -> list[str]:
    """Names of the packs that have a spec under ``domains/``, sorted."""
    return sorted(p.parent.name for p in paths.DOMAINS_DIR.glob("*/pack.json"))


def check_spec(spec: dict, file: object) -> dict:
    """Validate a spec document (schema plus the rules a schema cannot say) and return it."""
    validate("pack_spec", spec, file=file)
    for key, items in (("id", spec["users"]), ("path", spec["files"])):
        dup = [v for v, n in Counter(item[key] for item in items).items() if n > 1]
        if dup:
            raise DataError(f"duplicate {key} {dup[0]!r}", file=file, field=f"{'users' if key == 'id' else 'files'}")
    speakers = Counter(s for u in spec["users"] for s in u["speakers"])
    if shared := [s for s, n in speakers.items() if n > 1]:
        raise DataError(f"speaker {shared[0]!r} belongs to two users", file=file, field="users")
    for i, pattern in enumerate(spec["selection"]["skip_action_patterns"]):
        try:
            re.compile(pattern)
        except re.error as e:
            raise DataError(f"not a valid regular expression: {e}", file=file,
                            field=f"selection/skip_action_patterns/{i}") from None
    return spec


def load_spec(pack: str) -> dict:
    """The validated spec of ``pack`` (``domains/<pack>/pack.json``)."""
    path = spec_path(pack)
    if not path.exists():
        raise DataError(f"no pack named {pack!r}; packs: {', '.join(pack_names()) or 'none'}", file=path)
    spec = check_spec(read_json(path), path)
    if spec["pack"] != pack:
        raise DataError(f"spec names pack {spec['pack']!r} but lives in domains/{pack}/", file=path, field="pack")
    return spec


def users(pack: str) -> list[str]:
    """The user ids of ``pack``, in spec order."""
    return [u["id"] for u in load_spec(pack)["users"]]


def spec_sha256(spec: dict) -> str:
    return sha256_bytes(dumps_canonical(spec).encode("utf-8"))


def read_lock(pack: str) -> dict | None:
    """The committed lock of ``pack``, validated, or None if there is none yet."""
    path = lock_path(pack)
    if not path.exists():
        return None
    lock = read_json(path)
    validate("pack_lock", lock, file=path)
    return lock


# ---------------------------------------------------------------- raw files


def upstream_sha256(path: Path, entry: dict) -> str:
    """sha256 of the original upstream bytes of a raw file (decompressed where it was gzipped here)."""
    if not path.is_file():
        raise DataError("raw file is missing (copy it from upstream or run `reconbench packs download`)", file=path)
    if not (entry["path"].endswith(".gz") and not entry["upstream_path"].endswith(".gz")):
        return sha256_file(path)
    h = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"truncated or corrupt gzip ({e})", file=path) from None
    return h.hexdigest()


def verify_raw(spec: dict, raw: Path) -> None:
    """Check every raw file the spec lists against its upstream sha256; raise DataError on the first mismatch."""
    for i, entry in enumerate(tqdm(spec["files"], desc=f"{spec['pack']}: check raw files", unit="file", leave=False)):
        path = raw / entry["path"]
        got = upstream_sha256(path, entry)
        if got != entry["sha256"]:
            raise DataError(f"sha256 of the upstream content is {got}, the spec pins {entry['sha256']} "
                            f"(not the pinned upstream file)", file=path, field=f"files/{i}/sha256")


# ---------------------------------------------------------------- examples


def window(turns, max_turns: int, max_chars: int) -> list[dict]:
    """The context window: the newest turns (at most ``max_turns``) whose texts total at most ``max_chars``; a
    nearest turn longer than ``max_chars`` on its own is cut to its last characters (the end is what was answered)."""
    out: list[dict] = []
    used = 0
    for turn in reversed(turns[-max_turns:]):
        if used + len(turn.text) > max_chars:
            if not out:
                out.append({"speaker": turn.speaker, "text": ELLIPSIS + turn.text[-(max_chars - 1):]})
            break
        out.append({"speaker": turn.speaker, "text": turn.text})
        used += len(turn.text)
    return out[::-1]


@dataclass
class Selection:
    """The spec's skip rules, compiled; counts why turns were skipped."""

    spec: dict
    skipped: Counter = field(default_factory=Counter)

    def __post_init__(self):
        sel = self.spec["selection"]
        self.min_chars, self.min_words = sel["min_action_chars"], sel["min_action_words"]
        self.min_context = sel.get("min_context_turns", 1)
        self.patterns = [re.compile(p, re.IGNORECASE) for p in sel["skip_action_patterns"]]

    def reason(self, action: str, preceding: int, context: list[dict]) -> str | None:
        """Why this action is skipped, or None to keep it."""
        if len(action) < self.min_chars or len(action.split()) < self.min_words:
            return "too short"
        if any(p.search(action) for p in self.patterns):
            return "procedural"
        if preceding < self.min_context:
            return "no context"
        # a repeated utterance would leak the answer: no action may appear in its own context
        if any(action in turn["text"] for turn in context):
            return "in own context"
        return None


def _check_dialogue(d: Dialogue, listed: set[str], spec_file: object) -> None:
    if d.file not in listed:
        raise DataError(f"the builder read {d.file!r}, which the spec does not list", file=spec_file, field="files")
    if not TIMESTAMP.match(d.timestamp):
        raise DataError(f"timestamp {d.timestamp!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", file=d.file,
                        record=d.key, field="timestamp")
    if not d.turns:
        raise DataError("dialogue has no turns", file=d.file, record=d.key)
    for t in d.turns:
        if not t.text or not t.speaker:
            raise DataError("turn with empty speaker or text", file=d.file, record=f"{d.key}:{t.ref}")


def make_examples(spec: dict, raw: Path, *, spec_file: object = None) -> tuple[dict[str, list], dict[str, Counter]]:
    """Run the spec's builder over the raw folder and make the (context, action) examples of every user.

    Returns per user a list of ``(sort_key, record)`` in source order, and per user the counts of skipped turns.
    """
    spec_file = spec_file or spec_path(spec["pack"])
    pack = spec["pack"]
    build = _builder(spec["format"], spec_file)
    owner = {s: u["id"] for u in spec["users"] for s in u["speakers"]}
    listed = {f["path"] for f in spec["files"]}
    ctx = spec["context"]
    examples: dict[str, list] = {u["id"]: [] for u in spec["users"]}
    skipped = {u["id"]: Counter() for u in spec["users"]}
    seen: Counter = Counter()
    ids: set[str] = set()
    selection = Selection(spec)
    bar = tqdm(total=len(spec["files"]), desc=f"{pack}: build", unit="file", leave=False)
    last_file = None
    for d_index, dialogue in enumerate(build(spec, raw)):
        if dialogue.file != last_file:
            bar.update(1)
            last_file = dialogue.file
        _check_dialogue(dialogue, listed, spec_file)
        for t_index, turn in enumerate(dialogue.turns):
            seen[turn.speaker] += 1
            user = owner.get(turn.speaker)
            if user is None or not turn.candidate:
                continue
            context = window(dialogue.turns[:t_index], ctx["max_turns"], ctx["max_chars"])
            why = selection.reason(turn.text, t_index, context)
            if why:
                skipped[user][why] += 1
                continue
            key = f"{dialogue.key}:{turn.ref}"
            if not ID_KEY.match(key):
                raise DataError(f"record key {key!r} has characters outside [A-Za-z0-9._:+-]", file=dialogue.file,
                                record=key)
            rid = f"{pack}/{user}/{key}"
            if rid in ids:
                raise DataError("two turns give the same record id (dialogue key and turn ref must be unique)",
                                file=dialogue.file, record=rid)
            ids.add(rid)
            record = {"id": rid, "domain": pack, "user": user, "source": {"file": dialogue.file, "ref": turn.ref},
                      "timestamp": dialogue.timestamp, "context": context, "action": turn.text}
            examples[user].append(((dialogue.timestamp, d_index, t_index), record))
    bar.close()
    for i, u in enumerate(spec["users"]):
        if not any(seen[s] for s in u["speakers"]):
            common = ", ".join(repr(s) for s, _ in seen.most_common(5))
            raise DataError(f"user {u['id']!r}: none of the speakers {u['speakers']} occur in the raw files "
                            f"(most frequent speakers: {common or 'none'})", file=spec_file,
                            field=f"users/{i}/speakers")
    return examples, skipped


def _builder(fmt: str, spec_file: object):
    if fmt not in BUILDERS:
        try:
            importlib.import_module(f"{__package__}.{fmt}")
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{fmt}":
                raise
    if fmt not in BUILDERS:
        raise DataError(f"no builder for format {fmt!r} (benchmark/packs/{fmt}.py registering @builder({fmt!r}))",
                        file=spec_file, field="format")
    return BUILDERS[fmt]


def split(spec: dict, examples: dict[str, list], *, spec_file: object = None) -> dict[str, dict[str, list[dict]]]:
    """Chronological per-user split: newest ``test`` -> test, the ``dev`` before them -> dev, up to ``train_max``
    before those -> train. Each split keeps chronological order."""
    sizes = spec["split"]
    out: dict[str, dict[str, list[dict]]] = {}
    for user, items in examples.items():
        ordered = [r for _, r in sorted(items, key=lambda kr: kr[0])]
        n_test, n_dev = sizes["test"], sizes["dev"]
        if len(ordered) <= n_test + n_dev:
            raise DataError(f"user {user!r} has {len(ordered)} examples, not more than test + dev = "
                            f"{n_test + n_dev}: nothing would be left to train on",
                            file=spec_file or spec_path(spec["pack"]), field="split")
        rest, test = ordered[: len(ordered) - n_test], ordered[len(ordered) - n_test:]
        rest, dev = rest[: len(rest) - n_dev], rest[len(rest) - n_dev:]
        out[user] = {"train": rest[-sizes["train_max"]:], "dev": dev, "test": test}
    return out


# ---------------------------------------------------------------- files and locks


def render(splits: dict[str, dict[str, list[dict]]]) -> dict[str, bytes]:
    """The split files as canonical bytes, keyed by ``<user>/<split>.jsonl`` (empty splits are not written)."""
    files = {}
    for user, by_split in splits.items():
        for name in SPLITS:
            records = by_split[name]
            if records:
                files[f"{user}/{name}.jsonl"] = "".join(dumps_canonical(r) + "\n" for r in records).encode("utf-8")
    return files


def make_lock(spec: dict, files: dict[str, bytes], splits) -> dict:
    entries = []
    for path in sorted(files):
        user, name = path[: -len(".jsonl")].split("/")
        records = splits[user][name]
        entries.append({"path": path, "sha256": sha256_bytes(files[path]), "bytes": len(files[path]),
                        "records": len(records), "first_timestamp": records[0]["timestamp"],
                        "last_timestamp": records[-1]["timestamp"]})
    return {"schema_version": 1, "pack": spec["pack"], "spec_sha256": spec_sha256(spec), "files": entries}


def lock_differences(expected: dict, got: dict) -> list[str]:
    """Human-readable differences between two locks (empty when they agree)."""
    diffs = []
    if expected["spec_sha256"] != got["spec_sha256"]:
        diffs.append("the spec changed since the lock was written")
    want = {f["path"]: f["sha256"] for f in expected["files"]}
    have = {f["path"]: f["sha256"] for f in got["files"]}
    diffs += [f"{p}: missing" for p in sorted(want.keys() - have.keys())]
    diffs += [f"{p}: not in the lock" for p in sorted(have.keys() - want.keys())]
    diffs += [f"{p}: sha256 {have[p][:12]}… differs from the lock's {want[p][:12]}…"
              for p in sorted(want.keys() & have.keys()) if want[p] != have[p]]
    return diffs


@dataclass(frozen=True)
class BuildResult:
    pack: str
    lock: dict
    skipped: dict[str, Counter]
    lock_written: bool


def build(spec: dict, raw: Path, out: Path, *, lock_file: Path | None, update_lock: bool = False,
          spec_file: object = None) -> BuildResult:
    """Build one pack from ``raw`` (the pack's raw folder) into ``out`` (the pack's data folder).

    With a lock at ``lock_file`` and no ``update_lock`` the build must reproduce it byte for byte, checked before
    anything is written; otherwise the new lock is written there (``lock_file=None``: no lock is read or written).
    """
    spec_file = spec_file or spec_path(spec["pack"])
    verify_raw(spec, raw)
    examples, skipped = make_examples(spec, raw, spec_file=spec_file)
    splits = split(spec, examples, spec_file=spec_file)
    for by_split in splits.values():
        for records in by_split.values():
            for r in records:
                validate("record", r, file=r["source"]["file"])
    files = render(splits)
    lock = make_lock(spec, files, splits)
    committed = None
    if lock_file is not None and lock_file.exists() and not update_lock:
        committed = read_json(lock_file)
        validate("pack_lock", committed, file=lock_file)
        if diffs := lock_differences(committed, lock):
            raise PackIntegrityError(
                f"building pack {spec['pack']!r} does not reproduce its lock {lock_file} ({'; '.join(diffs)}); nothing "
                "was written. If the spec or builder changed on purpose, rebuild with --update-lock")
    for path, data in files.items():
        atomic_write_bytes(out / path, data)
    for stale in _extra_entries(out, set(files)):  # left by an earlier spec, or put there by hand
        _remove_entry(out / stale)
    written = lock_file is not None and committed is None
    if written:
        write_json(lock_file, lock)
    return BuildResult(spec["pack"], lock, skipped, written)


def _extra_entries(folder: Path, wanted: set[str]) -> list[str]:
    """Entries under ``folder`` (posix paths relative to it; links not followed) that are neither a ``wanted`` file
    nor a folder holding one: extra files, links, special files and extra (even empty) folders. An extra folder is
    reported once, not with everything inside it."""
    if not folder.is_dir():
        return []
    parents = {p.as_posix() for w in wanted for p in Path(w).parents if p.as_posix() != "."}
    extra, stack = [], [folder]
    while stack:
        for entry in sorted(stack.pop().iterdir()):
            rel = entry.relative_to(folder).as_posix()
            if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
                extra.append(rel)
            elif entry.is_dir():
                if rel in parents:
                    stack.append(entry)
                else:
                    extra.append(rel + "/")
            elif rel not in wanted:
                extra.append(rel)
    return sorted(extra)


def _remove_entry(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def build_pack(pack: str, raw_dir: Path | str | None = None, data_dir: Path | str | None = None, *,
               update_lock: bool = False) -> BuildResult:
    """Build ``pack`` from ``<raw_dir>/<raw_subdir>`` into ``<data_dir>/<pack>/``.

    The committed lock (``domains/<pack>/lock.json``) must be reproduced exactly; it is written when missing or with
    ``update_lock``.
    """
    spec = load_spec(pack)
    raw = Path(raw_dir) if raw_dir is not None else paths.raw_dir()
    data = Path(data_dir) if data_dir is not None else paths.data_dir()
    return build(spec, raw / spec["raw_subdir"], data / pack, lock_file=lock_path(pack), update_lock=update_lock)


def verify_pack(pack: str, data_dir: Path | str | None = None) -> dict:
    """Check ``<data_dir>/<pack>/`` against the committed lock and return the lock.

    Raises PackIntegrityError for a changed, missing or extra file, a missing lock, or a spec changed since the lock.
    """
    spec = load_spec(pack)
    lock = read_lock(pack)
    if lock is None:
        raise PackIntegrityError(f"pack {pack!r} has no lock ({lock_path(pack)}): build it with "
                                 f"`reconbench packs build {pack}`")
    if lock["spec_sha256"] != spec_sha256(spec):
        raise PackIntegrityError(f"pack {pack!r}: the spec changed since its lock was written; rebuild with "
                                 f"`reconbench packs build {pack} --update-lock`")
    folder = Path(data_dir if data_dir is not None else paths.data_dir()) / pack
    if not folder.is_dir():
        raise PackIntegrityError(f"pack {pack!r} is not built in {folder}: run `reconbench packs build {pack}`")
    problems = []
    for entry in lock["files"]:
        path = folder / entry["path"]
        if path.is_symlink() or (path.exists() and not path.is_file()):
            problems.append(f"{path}: changed (not a plain file)")
        elif not path.exists():
            problems.append(f"{path}: missing")
        elif (got := sha256_file(path)) != entry["sha256"]:
            problems.append(f"{path}: changed (sha256 {got[:12]}…, lock {entry['sha256'][:12]}…)")
    extra = _extra_entries(folder, {f["path"] for f in lock["files"]})
    problems += [f"{folder / p}: extra {'folder' if p.endswith('/') else 'file'} not in the lock" for p in extra]
    if problems:
        advice = f"Rebuild it with `reconbench packs build {pack}`"
        if extra:
            advice += (" (the build also removes every entry that is not in the lock), or remove the extra "
                       "entries yourself: " + " ".join(f"rm -r '{folder / p}'" for p in extra[:5])
                       + (" ..." if len(extra) > 5 else ""))
        raise PackIntegrityError(f"pack {pack!r} does not match its lock {lock_path(pack)}: {'; '.join(problems)}. "
                                 f"{advice}")
    return lock
