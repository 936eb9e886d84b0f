"""Write domains/pmq/pack.json, the full PMQ pack, from a local copy of the TheyWorkForYou debates archive.

Usage (see docs/pmq.md for the whole procedure):

    rsync -az "data.theyworkforyou.com::parldata/scrapedxml/debates/debates201[0-6]-*" raw/pmq/debates/
    python scripts/pmq_full_spec.py --raw raw/pmq --from 2010-05-26 --to 2016-07-13
    reconbench packs build pmq --raw raw          # writes domains/pmq/lock.json; commit both files

For every Wednesday in the range it picks the day's latest scrape (the highest letter, debatesYYYY-MM-DDx.xml),
keeps it if it has a PMQs section (the builder's own test) and pins its sha256. Reads local files only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from benchmark.errors import DataError
from benchmark.io import sha256_file, write_json
from benchmark.packs._build import check_spec
from benchmark.packs.pmq import parse_sitting
from benchmark.paths import DOMAINS_DIR

FILE = re.compile(r"^debates(?P<date>\d{4}-\d{2}-\d{2})(?P<letter>[a-z])\.xml$")
REPOSITORY = "https://github.com/chrishanretty/commons_tfs"
COMMIT = "899ab04edb0fa969e25272c5b0c1cd51407f15b0"


def pmq_files(raw: Path, start: dt.date, end: dt.date) -> list[Path]:
    """The latest scrape of each Wednesday sitting in [start, end] under ``raw/debates`` that holds PMQs."""
    latest: dict[str, Path] = {}
    for path in sorted((raw / "debates").glob("debates*.xml")):
        m = FILE.match(path.name)
        if m and dt.date.fromisoformat(m["date"]).weekday() == 2 and start <= dt.date.fromisoformat(m["date"]) <= end:
            latest[m["date"]] = path  # sorted, so the highest letter wins
    kept = []
    for _date, path in sorted(latest.items()):
        try:
            parse_sitting(path, path.name)
        except DataError as e:
            print(f"skipped {path.name}: {e}", file=sys.stderr)  # recess Wednesdays, statements-only days
            continue
        kept.append(path)
    return kept


def full_spec(raw: Path, start: dt.date, end: dt.date, test: int = 300, dev: int = 50) -> dict:
    """The spec of the full pack over the PMQs files found under ``raw`` (the pack's raw folder)."""
    files = [{"path": p.relative_to(raw).as_posix(), "upstream_path": f"scrapedxml/debates/{p.name}",
              "sha256": sha256_file(p)} for p in pmq_files(raw, start, end)]
    if not files:
        raise DataError(f"no PMQs sittings between {start} and {end}", file=raw / "debates")
    spec = {
        "schema_version": 1, "pack": "pmq", "format": "pmq", "raw_subdir": "pmq",
        "description": f"UK Prime Minister's Questions {start}..{end} (TheyWorkForYou debate XML, {len(files)} "
                       "sittings). Context = the preceding speeches of the same session (the question last); action = "
                       "the user's next speech. Users: David Cameron (answers as Prime Minister) and Edward Miliband "
                       f"(questions as Leader of the Opposition). Splits per user, chronological: newest {test} test, "
                       f"{dev} dev before them, up to 3,000 train before those.",
        "upstream": {"repository": REPOSITORY, "commit": COMMIT,
                     "license": "Open Parliament Licence v3.0 (Hansard text); XML markup by TheyWorkForYou / ParlParse",
                     "url_template": f"https://raw.githubusercontent.com/{REPOSITORY.split('github.com/')[1]}"
                                     "/{commit}/{upstream_path}",
                     "notes": "Mirror of data.theyworkforyou.com::parldata/scrapedxml/debates/; whole daily files, "
                              "the latest scrape letter of each Wednesday."},
        "files": files,
        "users": [{"id": "cameron", "name": "David Cameron",
                   "speakers": ["David Cameron (The Prime Minister)", "David Cameron"]},
                  {"id": "miliband", "name": "Edward Miliband", "speakers": ["Edward Miliband"]}],
        "selection": {"min_action_chars": 40, "min_action_words": 8, "min_context_turns": 1,
                      "skip_action_patterns": ["^This morning,? I had meetings with ministerial colleagues and "
                                               "others[^?]*later today\\.?$"]},
        "context": {"max_turns": 8, "max_chars": 4000},
        "split": {"test": test, "dev": dev, "train_max": 3000},
        "seed": 20260105,
    }
    return check_spec(spec, "domains/pmq/pack.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", type=Path, required=True, help="the pack's raw folder (holding debates/)")
    ap.add_argument("--from", dest="start", type=dt.date.fromisoformat, default=dt.date(2010, 5, 26))
    ap.add_argument("--to", dest="end", type=dt.date.fromisoformat, default=dt.date(2016, 7, 13))
    ap.add_argument("--out", type=Path, default=DOMAINS_DIR / "pmq" / "pack.json")
    args = ap.parse_args(argv)
    try:
        spec = full_spec(args.raw, args.start, args.end)
    except DataError as e:
        sys.exit(f"error: {e}")
    write_json(args.out, spec)
    print(f"wrote {args.out}: {len(spec['files'])} sittings")


if __name__ == "__main__":
    main()
