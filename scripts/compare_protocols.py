"""Do two scoring protocols decide the same comparison alike? Pairs result files of the same comparison (same pack,
user, test records, traces) made under two protocols, and prints, per pair: each one's counts and win rate, the share
of test records whose verdict agrees, and the rank correlation of their per-example margins where both record one.
No model call. Usage:

    python scripts/compare_protocols.py A_DIR B_DIR [--write OUT.md]

A_DIR/B_DIR: folders of result files with the same names (e.g. the controls' per-protocol result folders,
``runs/controls/<pack>/<user>/results/<protocol>/<models>/``); a name in only one of them is skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scipy.stats import spearmanr
from tabulate import tabulate

from benchmark.errors import DataError
from benchmark.evaluate.protocols.likelihood import margin
from benchmark.records.result import protocol_of, read_result


def _margin(raw: dict) -> float | None:
    """The likelihood protocols' margin (nats per byte); None for raw numbers that have none (judge protocols)."""
    return margin(raw) if "method_logprob" in raw else None


def compare(a: dict, b: dict, name: str) -> dict:
    """One table row: the two results' overall counts, verdict agreement and margin correlation."""
    for field in ("pack", "user"):
        if a[field] != b[field]:
            raise DataError(f"{name}: the two results are of different {field}s", field=field)
    va = {ex["id"]: ex for ex in a["examples"]}
    vb = {ex["id"]: ex for ex in b["examples"]}
    common = [i for i in va if i in vb]
    if not common:
        raise DataError(f"{name}: the two results share no test record", field="examples")
    agree = sum(va[i]["verdicts"]["overall"]["final"] == vb[i]["verdicts"]["overall"]["final"] for i in common)
    pairs = [(m, n) for i in common if (m := _margin(va[i]["raw"])) is not None
             and (n := _margin(vb[i]["raw"])) is not None]
    rho = spearmanr(*zip(*pairs)).statistic if len(pairs) >= 3 and len({p[0] for p in pairs}) > 1 else None

    def counts(doc: dict) -> str:
        o = doc["summary"]["dimensions"]["overall"]
        rate = o["win_rate"]
        est = "n/a" if rate["estimate"] is None else \
            f"{rate['estimate']:.2f} [{rate['ci_low']:.2f}, {rate['ci_high']:.2f}]"
        return f"{o['wins']}/{o['losses']}/{o['ties']}  {est}"

    return {"comparison": name, "records": len(common), f"{protocol_of(a)} (w/l/t, win rate)": counts(a),
            f"{protocol_of(b)} (w/l/t, win rate)": counts(b), "verdicts agree": f"{agree}/{len(common)}",
            "margin rank correlation": "n/a" if rho is None else f"{rho:+.2f}"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args(argv)
    rows = []
    try:
        for path in sorted(args.a.glob("*.json")):
            other = args.b / path.name
            if other.exists():
                rows.append(compare(read_result(path), read_result(other), path.stem))
    except DataError as e:
        sys.exit(f"compare_protocols: {e}")
    if not rows:
        sys.exit(f"compare_protocols: no result file name is in both {args.a} and {args.b}")
    table = tabulate(rows, headers="keys", tablefmt="github")
    print(table)
    if args.write:
        args.write.write_text(table + "\n")


if __name__ == "__main__":
    main()
