"""The scorer: from the result files in the store to the numbers on the board.

Rows are (method, action model, judge). A row pools the per-example verdicts of all its result files (every pack
and user it was evaluated on) and re-bootstraps them with the evaluation stage's statistics
(``benchmark.evaluate.stats.summarize``: users, then examples, resampled), so a pooled CI reflects the spread between
users and is never an average of per-file CIs. The same is done per domain and per user.

Ties between methods: within one (action model, judge) group, a method is *tied with the best* when its 95% CI of
the overall win rate reaches the best method's lower bound; its rank is 1 + the number of methods whose lower bound
is above its upper bound (the rule Chatbot Arena uses). Methods covering different users are compared as they are;
the board shows the coverage next to each number.
"""

from __future__ import annotations

from pathlib import Path

from ..evaluate import DIMENSIONS
from ..evaluate.stats import N_BOOT, summarize, summarize_by
from .store import load_results

BOOT_SEED = 0  # fixed: the board is a pure function of the result files


def _model(ref: dict) -> dict:
    return {k: ref[k] for k in ("name", "fingerprint", "backend", "mode") if k in ref}


def _examples(doc: dict) -> list[dict]:
    user = f"{doc['pack']['name']}/{doc['user']}"
    return [{"id": ex["id"], "user": user, "domain": doc["domain"], "verdicts": ex["verdicts"]}
            for ex in doc["examples"]]


def _dims(summary: dict) -> dict:
    return {d: summary["dimensions"][d] for d in DIMENSIONS}


def aggregate(results: list[tuple[Path, dict]], *, root: Path | None = None, seed: int = BOOT_SEED,
              n_boot: int = N_BOOT) -> dict:
    """The board's numbers (a JSON-able dict) from ``(path, result)`` pairs; ``root`` makes paths relative."""
    rows: dict[tuple, dict] = {}
    for path, doc in results:
        key = (doc["method"]["name"], doc["action_model"]["fingerprint"], doc["judge"]["fingerprint"],
               doc["judge"]["mode"])
        row = rows.setdefault(key, {"method": doc["method"]["name"], "action_model": _model(doc["action_model"]),
                                    "judge": _model(doc["judge"]), "results": [], "examples": []})
        row["results"].append({
            "file": (path.relative_to(root) if root else path).as_posix(), "digest": doc["digest"],
            "pack": doc["pack"]["name"], "domain": doc["domain"], "user": doc["user"],
            "n_evaluated": doc["test"]["n_evaluated"], "n_total": doc["test"]["n_total"],
            "train": doc.get("train"),
            "traces_sha256": doc["method"]["traces_sha256"], "created_at": doc["run"]["created_at"]})
        row["examples"].extend(_examples(doc))
    out = []
    for key in sorted(rows):
        row = rows[key]
        examples = row.pop("examples")
        row["results"].sort(key=lambda r: (r["pack"], r["user"]))
        row["users"] = sorted({f"{r['pack']}/{r['user']}" for r in row["results"]})
        row["domains"] = sorted({r["domain"] for r in row["results"]})
        row["dimensions"] = _dims(summarize(examples, seed=seed, n_boot=n_boot))
        row["by_domain"] = {k: _dims(v) for k, v in summarize_by(examples, "domain", seed=seed, n_boot=n_boot).items()}
        row["by_user"] = {k: _dims(v) for k, v in summarize_by(examples, "user", seed=seed, n_boot=n_boot).items()}
        out.append(row)
    _rank(out)
    out.sort(key=lambda r: (r["judge"]["name"], r["judge"]["fingerprint"], r["action_model"]["name"],
                            r["action_model"]["fingerprint"], r["rank"] is None, r["rank"] or 0, -_est(r),
                            r["method"]))
    return {"headline": "overall", "dimensions": list(DIMENSIONS), "bootstrap": {"seed": seed, "samples": n_boot},
            "rows": out}


def _est(row: dict) -> float:
    e = row["dimensions"]["overall"]["win_rate"]["estimate"]
    return -1.0 if e is None else e


def _rank(rows: list[dict]) -> None:
    """Set ``rank`` and ``tied_with_best`` within each (action model, judge) group (see the module docstring)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["action_model"]["fingerprint"], r["judge"]["fingerprint"], r["judge"].get("mode")),
                          []).append(r)
    for group in groups.values():
        decided = [r for r in group if r["dimensions"]["overall"]["win_rate"]["ci_low"] is not None]
        best = max(decided, key=_est, default=None)
        for r in group:
            wr = r["dimensions"]["overall"]["win_rate"]
            if wr["ci_low"] is None:
                r["rank"], r["tied_with_best"], r["best"] = None, False, False
                continue
            r["rank"] = 1 + sum(o["dimensions"]["overall"]["win_rate"]["ci_low"] > wr["ci_high"] for o in decided)
            r["best"] = r is best
            r["tied_with_best"] = r is not best and wr["ci_high"] >= best["dimensions"]["overall"]["win_rate"]["ci_low"]


def score_store(root: Path | str) -> dict:
    """``aggregate`` over every result file in the store at ``root``."""
    root = Path(root)
    return aggregate(load_results(root), root=root)
