"""A Hugging Face ``datasets`` copy of built packs, for people who prefer that to JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import datasets

from . import load_split, users, verify_pack


def export_pack(pack: str, out: Path, *, fmt: str = "arrow", data_dir=None) -> Iterator[tuple[str, str, int, Path]]:
    """Export every split of ``pack`` under ``out/<pack>/<user>/``; yields (user, split, examples, path) per split.

    ``arrow``: ``datasets.DatasetDict.save_to_disk`` per user; ``parquet``: ``<split>.parquet`` files.
    """
    lock = verify_pack(pack, data_dir)
    present = {f["path"] for f in lock["files"]}
    for user in users(pack):
        folder = Path(out) / pack / user
        splits = {s: datasets.Dataset.from_list(load_split(pack, user, s, data_dir))
                  for s in ("train", "dev", "test") if f"{user}/{s}.jsonl" in present}
        if fmt == "arrow":
            datasets.DatasetDict(splits).save_to_disk(str(folder))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            for name, ds in splits.items():
                ds.to_parquet(str(folder / f"{name}.parquet"))
        for name, ds in splits.items():
            yield user, name, len(ds), folder if fmt == "arrow" else folder / f"{name}.parquet"
