"""``reconbench packs build | verify | show | export | download``."""

from __future__ import annotations

import statistics
from pathlib import Path

import click
from tabulate import tabulate

from .. import paths
from ..errors import PackIntegrityError
from ..flags import renamed
from . import build_pack, load_split, pack_names, users, verify_pack
from ._build import SPLITS

PACKS = click.argument("names", nargs=-1, metavar="[PACK...|all]")
DATA = click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
                    help="folder of built packs [default: RECONBENCH_DATA or ~/.cache/reconbench/data]")
RAW = click.option("--raw", "raw_dir", type=click.Path(path_type=Path), default=None,
                   help="folder holding each pack's raw folder [default: RECONBENCH_RAW or ../shared/data/raw]")


def resolve(names: tuple[str, ...]) -> list[str]:
    """Pack names from the command line; none or ``all`` means every pack with a spec."""
    known = pack_names()
    if not names or "all" in names:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.BadParameter(f"unknown pack {unknown[0]!r}; packs: {', '.join(known)}", param_hint="PACK")
    return list(names)


@click.group()
def packs():
    """Build, verify, inspect and export the frozen domain packs."""


@packs.command()
@PACKS
@RAW
@DATA
@click.option("--update-lock", is_flag=True, help="write a new lock instead of requiring the committed one "
                                                   "(after a deliberate change of spec or builder)")
def build(names, raw_dir, data_dir, update_lock):
    """Build split files from the raw corpora; the committed lock must be reproduced byte for byte."""
    rows = []
    for pack in resolve(names):
        result = build_pack(pack, raw_dir, data_dir, update_lock=update_lock)
        counts = {f["path"]: f["records"] for f in result.lock["files"]}
        for user in users(pack):
            skipped = ", ".join(f"{why} {n}" for why, n in sorted(result.skipped[user].items()))
            rows.append([pack, user, *(counts.get(f"{user}/{s}.jsonl", 0) for s in SPLITS), skipped,
                         "written" if result.lock_written else "reproduced"])
    click.echo(tabulate(rows, headers=["pack", "user", *SPLITS, "skipped turns", "lock"]))
    click.echo(f"\nbuilt into {Path(data_dir) if data_dir else paths.data_dir()}")


@packs.command()
@PACKS
@DATA
def verify(names, data_dir):
    """Check built packs against their committed locks (changed, missing or extra files are refused)."""
    failures = []
    for pack in resolve(names):
        try:
            lock = verify_pack(pack, data_dir)
            click.echo(f"ok    {pack}: {len(lock['files'])} files match {pack}/lock.json")
        except PackIntegrityError as e:
            failures.append(pack)
            click.echo(f"FAIL  {e}")
    if failures:
        raise PackIntegrityError(f"{len(failures)} pack(s) failed verification: {', '.join(failures)}")


def _stats(pack: str, user: str, split: str, records: list[dict]) -> list:
    action_chars = [len(r["action"]) for r in records]
    action_words = [len(r["action"].split()) for r in records]
    ctx_turns = [len(r["context"]) for r in records]
    ctx_chars = [sum(len(t["text"]) for t in r["context"]) for r in records]
    return [pack, user, split, len(records), records[0]["timestamp"][:10], records[-1]["timestamp"][:10],
            round(statistics.median(action_chars)), round(statistics.median(action_words)), max(action_chars),
            round(statistics.mean(ctx_turns), 1), round(statistics.median(ctx_chars))]


@packs.command()
@PACKS
@DATA
def show(names, data_dir):
    """Per-user counts and length statistics of built packs (verified first)."""
    rows, failures = [], []
    for pack in resolve(names):
        try:
            lock = verify_pack(pack, data_dir)
        except PackIntegrityError as e:
            failures.append(str(e))
            continue
        present = {f["path"] for f in lock["files"]}
        for user in users(pack):
            for split in SPLITS:
                if f"{user}/{split}.jsonl" in present:
                    rows.append(_stats(pack, user, split, load_split(pack, user, split, data_dir)))
    if rows:
        click.echo(tabulate(rows, headers=["pack", "user", "split", "examples", "first", "last", "action chars (med)",
                                           "action words (med)", "action chars (max)", "context turns (mean)",
                                           "context chars (med)"]))
    for message in failures:
        click.echo(f"\nnot shown: {message}", err=True)
    if failures:
        raise PackIntegrityError(f"{len(failures)} pack(s) not built or not matching their lock")


@packs.command()
@renamed("--out", "--out-dir", type=click.Path(path_type=Path))
@PACKS
@DATA
@click.option("--out-dir", type=click.Path(path_type=Path), default=None,
              help="output folder [default: <data>/hf]")
@click.option("--format", "fmt", type=click.Choice(["arrow", "parquet"]), default="arrow", show_default=True,
              help="arrow: datasets.DatasetDict.save_to_disk per user (datasets.load_from_disk reads it); "
                   "parquet: one <split>.parquet per user (datasets.load_dataset('parquet', ...) reads it)")
def export(names, data_dir, out_dir, fmt):
    """Write a Hugging Face `datasets`-loadable copy of built packs (verified first)."""
    from .export import export_pack  # datasets is slow to import; only this command needs it

    out = out_dir or Path(data_dir if data_dir else paths.data_dir()) / "hf"
    rows = []
    for pack in resolve(names):
        for user, split, n, path in export_pack(pack, out, fmt=fmt, data_dir=data_dir):
            rows.append([pack, user, split, n, path])
    if rows:
        click.echo(tabulate(rows, headers=["pack", "user", "split", "examples", "written to"]))


@packs.command()
@PACKS
@RAW
@click.option("--timeout", type=float, default=30.0, show_default=True, help="seconds per request")
def download(names, raw_dir, timeout):
    """Fetch the pinned upstream files of packs by URL and check their sha256 (needs network access)."""
    from .download import download_pack

    for pack in resolve(names):
        written = download_pack(pack, raw_dir, timeout=timeout)
        click.echo(f"{pack}: {len(written)} file(s) fetched, the others were already present")
