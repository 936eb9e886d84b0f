"""How many user splits would a method's overall CI need to be within +-10 points? A projection from the board's
own verdicts (not a test). For one protocol and action model, takes each method's per-user verdicts from the stored
results (ranked and unranked alike: the question is how much users differ, not which pass), then for U = 2, 3, ...
draws U users with replacement from those observed, and computes the board's CI (``benchmark.records.stats.stat``:
users, then examples, resampled) on their verdicts; reports the median half-width over the draws. Usage:

    python scripts/users_needed.py [--board leaderboard] [--protocol likelihood] [--max-users 12] [--draws 300]

It assumes new users differ from each other as much as the observed ones do (few observed users make that spread
itself uncertain) and each brings as many test turns as the observed one drawn.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tabulate import tabulate

from benchmark.publish.store import load_results
from benchmark.records.result import Result
from benchmark.records.stats import counts, stat, win_rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", type=Path, default=Path("leaderboard"))
    ap.add_argument("--protocol", default="likelihood")
    ap.add_argument("--max-users", type=int, default=12)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()

    by_method: dict[str, dict[str, list[str]]] = {}
    for _, doc in load_results(args.board / "results"):
        r = Result(doc)
        if r.protocol != args.protocol:
            continue
        finals = [ex["verdicts"]["overall"]["final"] for ex in r.examples]
        by_method.setdefault(r.method.name, {})[f"{r.pack}/{r.user}"] = finals
    rng = np.random.default_rng(0)
    rows = []
    for method, users in sorted(by_method.items()):
        names = sorted(users)
        rates = []
        for u in names:
            c = counts(users[u])
            rate = win_rate(c["wins"], c["losses"])
            rates.append(f"{u} {'undef.' if rate is None else f'{100 * rate:.0f}'}")
        widths = []
        for n_users in range(2, args.max_users + 1):
            half = []
            for _ in range(args.draws):
                picked = rng.choice(len(names), size=n_users, replace=True)
                sample = {f"u{i}": users[names[j]] for i, j in enumerate(picked)}
                s = stat(sample, seed=int(rng.integers(2**31)), n_boot=args.n_boot)
                if s["win_rate"]["ci_low"] is not None:
                    half.append(50 * (s["win_rate"]["ci_high"] - s["win_rate"]["ci_low"]))
            widths.append(float(np.median(half)))
        # the fewest users from which on the median half-width stays within 10 points
        need = next((2 + i for i in range(len(widths)) if all(h <= 10 for h in widths[i:])), None)
        rows.append([method, "; ".join(rates), *(f"±{h:.1f}" for h in widths),
                     need if need is not None else f"> {args.max_users}"])
    print(tabulate(rows, headers=["method", "observed users (win rate %)",
                                  *(f"U={n}" for n in range(2, args.max_users + 1)), "users for ±10"],
                   tablefmt="github"))
    print(f"\nprotocol {args.protocol}; median CI half-width (points) over {args.draws} draws of U users with "
          f"replacement from the observed ones; users-then-examples bootstrap, {args.n_boot} resamples")


if __name__ == "__main__":
    main()
