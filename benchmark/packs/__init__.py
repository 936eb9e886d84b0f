"""Domain packs: frozen (context, action) splits of each pack's users, built from pinned raw files.

Public API (see docs/packs.md and docs/design/interfaces.md):

- ``pack_names()``, ``load_spec(pack)``, ``users(pack)``: what packs exist and how they are defined
- ``build_pack(pack, raw_dir=None, data_dir=None)``: build the split files and check (or write) the lock
- ``verify_pack(pack, data_dir=None)``: refuse a built pack whose files differ from its lock
- ``load_split(pack, user, split, data_dir=None)``: the records of one split, after verifying the pack
"""

from __future__ import annotations

from pathlib import Path

from .. import paths
from ..errors import DataError
from ..io import read_jsonl
from ..schema import validate
from ._build import BuildResult, build_pack, load_spec, lock_path, pack_names, spec_path, users, verify_pack
from ._types import BUILDERS, Dialogue, Turn, builder

__all__ = ["BUILDERS", "BuildResult", "Dialogue", "Turn", "build_pack", "builder", "load_spec", "load_split",
           "lock_path", "pack_names", "spec_path", "split_path", "users", "verify_pack"]


def split_path(pack: str, user: str, split: str, data_dir: Path | str | None = None) -> Path:
    """Where the split file of ``pack``/``user``/``split`` lives (``<data>/<pack>/<user>/<split>.jsonl``)."""
    return Path(data_dir if data_dir is not None else paths.data_dir()) / pack / user / f"{split}.jsonl"


def load_split(pack: str, user: str, split: str, data_dir: Path | str | None = None) -> list[dict]:
    """The records of one user split, oldest first. Verifies the whole pack against its lock first, so a changed,
    missing or extra file raises PackIntegrityError instead of feeding wrong data to a run."""
    if user not in users(pack):
        raise DataError(f"pack {pack!r} has no user {user!r}; users: {', '.join(users(pack))}", file=spec_path(pack),
                        field="users")
    lock = verify_pack(pack, data_dir)
    if f"{user}/{split}.jsonl" not in {f["path"] for f in lock["files"]}:
        have = sorted({f["path"].split("/")[1][: -len(".jsonl")] for f in lock["files"]})
        raise DataError(f"pack {pack!r} has no split {split!r}; splits: {', '.join(have)}", file=lock_path(pack))
    path = split_path(pack, user, split, data_dir)
    records = read_jsonl(path)
    for i, r in enumerate(records, 1):
        validate("record", r, file=path, record=r.get("id", f"line {i}") if isinstance(r, dict) else f"line {i}")
    return records
