"""Win rates of a method against the baseline, with 95% confidence intervals.

``win_rate`` excludes ties, as the paper reports it; ``win_rate_ties_half`` counts a tie as half a win. Invalid
verdicts (a judge reply that could not be parsed) are counted and reported, never part of either rate.

Confidence intervals come from a paired, two-level bootstrap: resample users with replacement, then each chosen
user's examples with replacement, and recompute the rate on the pooled sample. The pairing is in the data itself:
one verdict compares the method and the baseline on the same example, so resampling examples keeps the pairs
together. Resampling a user's examples with replacement is the same as drawing that user's (wins, losses, ties)
from a multinomial with the user's observed proportions, which is how it is computed here. The validity controls'
positive checks also ask the Wilson score interval (``wilson_interval``), which a percentile bootstrap of a few
all-alike pairs cannot satisfy by collapsing to a point.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.stats import binomtest

from .verdicts import DIMENSIONS

N_BOOT = 2000
LEVEL = 0.95


def counts(finals: Iterable[str]) -> dict[str, int]:
    """Wins, losses, ties and invalid verdicts among final verdicts; ``n`` = the valid ones."""
    c = Counter(finals)
    unknown = set(c) - {"method", "baseline", "tie", "invalid"}
    if unknown:
        raise ValueError(f"unknown final verdicts {sorted(unknown)}")
    wins, losses, ties = c["method"], c["baseline"], c["tie"]
    return {"n": wins + losses + ties, "wins": wins, "losses": losses, "ties": ties, "invalid": c["invalid"]}


def win_rate(wins: int, losses: int) -> float | None:
    """Ties excluded; None when nothing was decided."""
    return wins / (wins + losses) if wins + losses else None


def rate_from_counts(rate: str, wins: int, losses: int, ties: int) -> float | None:
    """``win_rate`` (ties excluded) or ``win_rate_ties_half`` from the counts: what a recorded estimate of that name
    must equal (the store, the controls recheck and the transfer matrices check it, to 1e-6: files round to six
    places)."""
    return win_rate(wins, losses) if rate == "win_rate" else win_rate_ties_half(wins, losses, ties)


def same_estimate(recorded: float | None, expected: float | None) -> bool:
    """Whether a recorded estimate is ``expected`` (both None, or within the six places files keep)."""
    return (recorded is None) == (expected is None) and (expected is None or abs(expected - recorded) <= 1e-6)


def wilson_interval(wins: int, losses: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """The Wilson score interval of the win rate (ties excluded), from scipy; None when nothing was decided.
    Unlike the percentile bootstrap it does not collapse to a point when every decided pair went the same way, so
    a handful of decided pairs cannot clear 50% (2 wins of 2: bootstrap [1.00, 1.00], Wilson [0.34, 1.00])."""
    if wins + losses == 0:
        return None
    ci = binomtest(wins, wins + losses).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def win_rate_ties_half(wins: int, losses: int, ties: int) -> float | None:
    n = wins + losses + ties
    return (wins + ties / 2) / n if n else None


def bootstrap(finals_by_user: dict[str, Sequence[str]], *, seed: int = 0, n_boot: int = N_BOOT,
              level: float = LEVEL) -> dict[str, tuple[float, float] | None]:
    """Percentile CIs of both win rates from the users-then-examples bootstrap (see the module docstring).

    ``finals_by_user`` maps a user to the final verdicts of that user's examples; invalid ones are ignored.
    A CI is None when no resample decides anything."""
    users = sorted(finals_by_user)
    if not users:
        return {"win_rate": None, "win_rate_ties_half": None}
    table = np.array([[c["wins"], c["losses"], c["ties"]] for c in (counts(finals_by_user[u]) for u in users)],
                     dtype=np.int64)
    n = table.sum(axis=1)
    # a user without valid verdicts contributes nothing; any probability vector works for n = 0 draws
    p = np.where(n[:, None] > 0, table / np.maximum(n, 1)[:, None], np.array([1.0, 0.0, 0.0]))
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, len(users), size=(n_boot, len(users)))
    drawn = rng.multinomial(n[chosen], p[chosen]).sum(axis=1)  # (n_boot, 3): wins, losses, ties
    w, lo, t = drawn[:, 0].astype(float), drawn[:, 1].astype(float), drawn[:, 2].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = {"win_rate": w / (w + lo), "win_rate_ties_half": (w + t / 2) / (w + lo + t)}
    tail = (1 - level) / 2 * 100
    out: dict[str, tuple[float, float] | None] = {}
    for name, r in rates.items():
        r = r[~np.isnan(r)]
        out[name] = (float(np.percentile(r, tail)), float(np.percentile(r, 100 - tail))) if r.size else None
    return out


def _estimate(point: float | None, ci: tuple[float, float] | None) -> dict:
    def rnd(x):
        return None if x is None else round(x, 6)

    if point is None or ci is None:
        return {"estimate": rnd(point), "ci_low": None, "ci_high": None}
    return {"estimate": rnd(point), "ci_low": rnd(ci[0]), "ci_high": rnd(ci[1])}


def stat(finals_by_user: dict[str, Sequence[str]], *, seed: int = 0, n_boot: int = N_BOOT) -> dict:
    """Counts, both win rates and their CIs for one dimension (the ``stat`` object of the result schema)."""
    c = counts(f for finals in finals_by_user.values() for f in finals)
    ci = bootstrap(finals_by_user, seed=seed, n_boot=n_boot)
    return c | {
        "win_rate": _estimate(win_rate(c["wins"], c["losses"]), ci["win_rate"]),
        "win_rate_ties_half": _estimate(win_rate_ties_half(c["wins"], c["losses"], c["ties"]),
                                        ci["win_rate_ties_half"]),
    }


def dimensions_of(examples: Iterable[dict]) -> tuple[str, ...]:
    """The dimensions every example has a verdict on, in the canonical order (a protocol may judge only
    ``overall``)."""
    examples = list(examples)
    return tuple(d for d in DIMENSIONS if examples and all(d in ex["verdicts"] for ex in examples))


def summarize(examples: Iterable[dict], *, seed: int = 0, n_boot: int = N_BOOT) -> dict:
    """Per-dimension stats of examples ``{"id", "user", "verdicts": {dimension: {"final": ...}}}``.

    Examples may come from several users (and domains): the bootstrap resamples users, then examples. Each
    dimension gets its own random stream derived from ``seed`` and the dimension's place in ``DIMENSIONS``, so
    results do not depend on which other dimensions were judged."""
    examples = sorted(examples, key=lambda e: e["id"])
    dims = dimensions_of(examples)
    by_dim: dict[str, dict[str, list[str]]] = {d: {} for d in dims}
    for ex in examples:
        for d in dims:
            by_dim[d].setdefault(ex["user"], []).append(ex["verdicts"][d]["final"])
    return {
        "headline": "overall",
        "dimensions": {d: stat(by_dim[d], seed=int(np.random.SeedSequence([seed, DIMENSIONS.index(d)])
                                                   .generate_state(1)[0]), n_boot=n_boot)
                       for d in dims},
    }


def mean_difference(values_by_user: dict[str, Sequence[float]], *, seed: int = 0, n_boot: int = N_BOOT,
                    level: float = LEVEL) -> dict:
    """Mean of paired per-example differences with a percentile CI from the users-then-examples bootstrap."""
    users = sorted(u for u, v in values_by_user.items() if len(v))
    if not users:
        return {"estimate": None, "ci_low": None, "ci_high": None, "n": 0}
    arrays = [np.asarray(values_by_user[u], dtype=float) for u in users]
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    for b in range(n_boot):
        picked = [arrays[i] for i in rng.integers(0, len(users), len(users))]
        means[b] = np.concatenate([a[rng.integers(0, len(a), len(a))] for a in picked]).mean()
    tail = (1 - level) / 2 * 100
    allv = np.concatenate(arrays)
    return {"estimate": round(float(allv.mean()), 6), "ci_low": round(float(np.percentile(means, tail)), 6),
            "ci_high": round(float(np.percentile(means, 100 - tail)), 6), "n": int(allv.size)}


def length_controlled_win_rate(examples: Sequence[dict], dimension: str = "overall", *, seed: int = 0,
                               n_boot: int = 500, level: float = LEVEL) -> dict:
    """AlpacaEval 2's length-controlled win rate, reduced to its core: a logistic regression of the decided
    verdicts (win 1, loss 0; ties and invalid left out) on the normalised length difference
    ``(len_m - len_b) / (len_m + len_b)``, read at zero difference. CI: bootstrap over examples. None when fewer
    than 4 decided examples or only one outcome (nothing to regress)."""
    from sklearn.linear_model import LogisticRegression

    rows = [(ex["method_chars"], ex["baseline_chars"], ex["verdicts"][dimension]["final"]) for ex in examples]
    rows = [(m, b, f == "method") for m, b, f in rows if f in ("method", "baseline")]
    none = {"estimate": None, "ci_low": None, "ci_high": None}
    if len(rows) < 4:
        return none
    x = np.array([[(m - b) / (m + b) if m + b else 0.0] for m, b, _ in rows])
    y = np.array([int(w) for *_, w in rows])

    def fit(xs, ys):
        if ys.min() == ys.max():
            return float(ys[0])  # every decided pair went one way: the rate is 0 or 1 at any length
        model = LogisticRegression(C=100.0).fit(xs, ys)
        return float(1 / (1 + np.exp(-model.intercept_[0])))

    est = fit(x, y)
    rng = np.random.default_rng(seed)
    draws = [fit(x[i], y[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(n_boot))]
    tail = (1 - level) / 2 * 100
    return {"estimate": round(est, 6), "ci_low": round(float(np.percentile(draws, tail)), 6),
            "ci_high": round(float(np.percentile(draws, 100 - tail)), 6)}


def summarize_by(examples: Iterable[dict], key: str, *, seed: int = 0, n_boot: int = N_BOOT) -> dict[str, dict]:
    """``summarize`` per value of ``key`` (``"user"`` or ``"domain"``) of each example."""
    groups: dict[str, list[dict]] = {}
    for ex in examples:
        groups.setdefault(ex[key], []).append(ex)
    return {value: summarize(group, seed=seed, n_boot=n_boot) for value, group in sorted(groups.items())}
