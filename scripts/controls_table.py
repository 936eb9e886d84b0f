"""Print the protocol comparison table of docs/controls.md from control reports (JSON files or folders of them):
protocol x judge x split -> oracle, wrong user, self, shuffled traces, no reasoning, length r, ranks, seconds per
evaluated example (the report's wall time over test examples x comparisons run), with the machine's load noted
by whoever records it.

    python scripts/controls_table.py leaderboard/controls [more reports or folders]
"""

from __future__ import annotations

import sys
from pathlib import Path

from tabulate import tabulate

from benchmark.records.controls_report import protocol_name, ranks, read_report


def _cell(c: dict) -> str:
    v, n = c["value"], c["counts"]
    if c["status"] == "N/A":
        return "n/a"
    est = "undef." if v["estimate"] is None else f"{v['estimate']:.2f}"
    ci = "" if v["ci_low"] is None else f" [{v['ci_low']:.2f}, {v['ci_high']:.2f}]"
    counts = "" if n is None else f" ({n['wins']}/{n['losses']}/{n['ties']})"
    return f"{est}{ci}{counts} {c['status']}"


def main(args: list[str]) -> None:
    files = [p for a in args for p in (sorted(Path(a).rglob("*.json")) if Path(a).is_dir() else [Path(a)])
             if p.name != "index.json"]
    rows = []
    for path in files:
        r = read_report(path)
        by = {c["name"]: c for c in r["controls"]}
        runs = sum(1 for c in r["controls"] if c["counts"] is not None)
        per_example = r["run"]["seconds"] / max(1, r["test"]["n_evaluated"] * runs)
        scorer = "(action model)" if r["judge"]["mode"] == "likelihood" else r["judge"]["name"]
        rows.append([protocol_name(r), scorer, r["action_model"]["name"], f"{r['pack']['name']}/{r['user']}",
                     f"{r['train']['n_used']}{' newest' if r['train'].get('window') == 'newest' else ''}"
                     + (f" ({r['backward_traces']['n_demonstrated']} shown)"
                        if "n_demonstrated" in r["backward_traces"] else "")
                     + f"/{r['test']['n_evaluated']}",
                     *(_cell(by[n]) if n in by else "(not in v1)" for n in (
                         "oracle", "wrong_user", "self", "shuffled_traces", "no_reasoning", "judge_injection",
                         "length")),
                     "yes" if ranks(r)[0] else "no", f"{per_example:.1f}"])
    print(tabulate(rows, headers=["protocol", "judge", "action model", "split", "train/test", "oracle",
                                  "wrong user", "self", "shuffled", "no reasoning", "injection", "length r",
                                  "ranks", "s / example"], tablefmt="github"))


if __name__ == "__main__":
    main(sys.argv[1:])
