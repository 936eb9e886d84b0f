"""Print the protocol comparison table of docs/controls.md from control reports (JSON files or folders of them):
protocol x judge x split -> oracle, wrong user, self, shuffled traces, no reasoning, length r, the prompt versions
the report checked ("not recorded" for reports made before they were; the board lets those vouch for nothing), ranks,
seconds per evaluated example (the report's wall time over test examples x comparisons run), with the machine's load
noted by whoever records it.

    python scripts/controls_table.py leaderboard/controls [more reports or folders]
    python scripts/controls_table.py --oracle leaderboard/controls   # judge protocols: (protocol, judge) x split
    python scripts/controls_table.py --no-probes leaderboard/controls   # leave out reports made with --only

``--oracle`` prints the judge protocols' gate at a glance: one row per (protocol, judge), one column per split,
each cell the oracle control (estimate [95% CI] (won/lost/tied) and status), the judge's first-position win rate
and the seconds per evaluated example.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tabulate import tabulate

from benchmark.errors import DataError
from benchmark.records.controls_report import NOT_RUN, protocol_name, ranks, read_report


def _cell(c: dict) -> str:
    v, n = c["value"], c["counts"]
    if c["status"] == "N/A":
        return "not run" if c["reason"] == NOT_RUN else "n/a"
    est = "undef." if v["estimate"] is None else f"{v['estimate']:.2f}"
    ci = "" if v["ci_low"] is None else f" [{v['ci_low']:.2f}, {v['ci_high']:.2f}]"
    counts = "" if n is None else f" ({n['wins']}/{n['losses']}/{n['ties']})"
    return f"{est}{ci}{counts} {c['status']}"


def _seconds_per_example(r: dict) -> str:
    """The report's wall time over test examples x comparisons run; "cached" for a report remade from the LM cache
    (no model call at all: its time says nothing about the protocol's cost)."""
    calls = sum(stage.get("calls", 0) for control in r["run"].get("costs", {}).values()
                if isinstance(control, dict) for stage in control.values() if isinstance(stage, dict))
    if calls == 0:
        return "cached"
    runs = sum(1 for c in r["controls"] if c["counts"] is not None)
    return f"{r['run']['seconds'] / max(1, r['test']['n_evaluated'] * runs):.1f}"


def oracle_matrix(reports: list[dict]) -> str:
    """(protocol, judge) x split: the oracle control, first-position win rate, seconds per example."""
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for r in reports:
        oracle = next((c for c in r["controls"] if c["name"] == "oracle"), None)
        if oracle is None or oracle["counts"] is None:
            continue
        first = (oracle["judge_health"] or {}).get("first_position_win_rate")
        seconds = _seconds_per_example(r)
        cells.setdefault((protocol_name(r), r["judge"]["name"]), {})[f"{r['pack']['name']}/{r['user']}"] = (
            f"{_cell(oracle)}; first pos. {'-' if first is None else f'{first:.2f}'}; "
            f"{seconds}{'' if seconds == 'cached' else ' s'}")
    splits = sorted({split for by in cells.values() for split in by})  # the splits a judge protocol was run on
    rows = [[p, j, *(by.get(s, "") for s in splits)] for (p, j), by in sorted(cells.items())]
    return tabulate(rows, headers=["protocol", "judge", *splits], tablefmt="github")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Print the protocol comparison table of docs/controls.md.")
    parser.add_argument("paths", nargs="+", type=Path, help="control reports (JSON) or folders of them")
    parser.add_argument("--oracle", action="store_true", help="judge protocols: (protocol, judge) x split")
    parser.add_argument("--no-probes", action="store_true", help="leave out reports made with --only")
    args = parser.parse_args(argv)
    missing = [str(a) for a in args.paths if not a.exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    files = [p for a in args.paths for p in (sorted(a.rglob("*.json")) if a.is_dir() else [a])
             if p.name != "index.json"]
    try:
        reports = [read_report(p) for p in files]
    except DataError as e:
        parser.exit(2, f"controls_table.py: {e}\n")
    if args.no_probes:
        reports = [r for r in reports if not any(c["reason"] == NOT_RUN for c in r["controls"])]
    if args.oracle:
        print(oracle_matrix(reports))
        return
    rows = []
    for r in reports:
        by = {c["name"]: c for c in r["controls"]}
        per_example = _seconds_per_example(r)
        scorer = "(action model)" if r["judge"]["mode"] == "likelihood" else r["judge"]["name"]
        rows.append([protocol_name(r), scorer, r["action_model"]["name"], f"{r['pack']['name']}/{r['user']}",
                     f"{r['train']['n_used']}{' newest' if r['train'].get('window') == 'newest' else ''}"
                     + (f" ({r['backward_traces']['n_demonstrated']} shown)"
                        if "n_demonstrated" in r["backward_traces"] else "")
                     + f"/{r['test']['n_evaluated']}",
                     *(_cell(by[n]) if n in by else "(not in v1)" for n in (
                         "oracle", "wrong_user", "self", "shuffled_traces", "no_reasoning", "judge_injection",
                         "length")),
                     ", ".join(sorted(r["prompts"])) if "prompts" in r else "not recorded",
                     "yes" if ranks(r)[0] else "no", per_example])
    print(tabulate(rows, headers=["protocol", "judge", "action model", "split", "train/test", "oracle",
                                  "wrong user", "self", "shuffled", "no reasoning", "injection", "length r",
                                  "prompts checked", "ranks", "s / example"], tablefmt="github"))


if __name__ == "__main__":
    main(sys.argv[1:])
