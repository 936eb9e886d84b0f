"""The scorer: from the result files in the store to the numbers on the board.

Rows are (method, action model, judge). A row pools the per-example verdicts of all its result files (every pack
and user it was evaluated on) and re-bootstraps them with the evaluation stage's statistics
(``benchmark.records.stats.summarize``: users, then examples, resampled), so a pooled CI reflects the spread between
users and is never an average of per-file CIs. The same is done per domain and per user.

Rows are grouped by (scoring protocol, judge, action model). A group is *ranked* only when, for every pack its
results come from, the latest validity-control reports for the same (protocol, judge, action model) on that pack
passed (``benchmark.controls.definitions.ranking``) for every user reported, the result's own user among them; other
groups are shown apart, greyed, with the failing control
named, and get no rank.

Ties between methods: within one ranked group, a method is *tied with the best* when its 95% CI of
the overall win rate reaches the best method's lower bound; its rank is 1 + the number of methods whose lower bound
is above its upper bound (the rule Chatbot Arena uses). Methods covering different users are compared as they are;
the board shows the coverage next to each number.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..errors import DataError
from ..records.result import ModelRef, Result, precision
from ..records.stats import N_BOOT, summarize, summarize_by
from ..records.verdicts import DIMENSIONS
from .store import load_results

BOOT_SEED = 0  # fixed: the board is a pure function of the result files


def _model(ref: ModelRef) -> dict:
    return {k: v for k, v in asdict(ref).items() if v is not None}


def _examples(result: Result) -> list[dict]:
    user = f"{result.pack}/{result.user}"
    return [{"id": ex["id"], "user": user, "domain": result.domain, "verdicts": ex["verdicts"]}
            for ex in result.examples]


def _dims(summary: dict) -> dict:
    return {d: summary["dimensions"][d] for d in DIMENSIONS if d in summary["dimensions"]}


def group_key(row: dict) -> tuple:
    """Rows are ranked against each other only within one (protocol, judge, action model, precision) and gate
    status."""
    return (not row["controls"]["ranks"], row["protocol"], row["judge"]["fingerprint"], row["judge"].get("mode"),
            precision(row["judge"]), row["action_model"]["fingerprint"],
            precision(row["action_model"]))


def pool_of(train: dict, k: int) -> dict:
    """The demonstration pool a result or report was made with: training limit, window and k."""
    return {"limit": train.get("limit"), "window": train.get("window", "oldest"), "k": k}


def _describe(pool: dict) -> str:
    what = ("the whole training split" if pool["limit"] is None else
            f"the {pool['window']} {pool['limit']} training turns")
    return f"{what}, k = {pool['k']}"


def gate(result: Result, reports: dict[tuple, dict]) -> dict:
    """``{"ranks", "reason", "href"}`` for one result: it ranks only when the latest control report for its
    (protocol, judge, action model) on its pack passed, with the same demonstration pool (training limit, window,
    k: the controls showed the pool decides whether the wrong user is told apart) and the same prompt versions
    (every prompt the result used, with the same hash: a judge prompt changed after the controls ran is not what
    they checked; a report that does not record its prompts vouches for nothing), and the same decision parameters
    of its protocol (a tie band chosen after the fact moves the win rate: RECON-GRPO on forum/steeeeve goes from
    33% to 62.5% with ``tie_band`` 0.005 instead of the 0.0 the controls checked), and the same generation settings
    where they matter (``benchmark.controls.generation_settings``: the predictions' max_tokens and seed, the
    judge's mode). ``reports``:
    (protocol, judge fp, judge precision, action fp, action precision, pack) -> the latest report's
    ``{"ranks", "reason", "href"}``,
    ``pool``, ``prompts`` and ``users`` (see ``latest_reports``); a result made in another precision than the
    report (bfloat16 on a GPU, float32 on the CPU) finds none.
    A result that records no pool (made before the pool was recorded) is gated by the pack alone. A result whose
    own user split has no report does not rank even when the pack's other users passed (``users`` in ``reports``:
    the users with a report): the wrong-user control checks the yardstick on one user's test turns only."""
    from ..controls import generation_settings

    pack = result.pack
    rep = reports.get((result.protocol, result.judge.fingerprint, result.judge.precision,
                       result.action_model.fingerprint, result.action_model.precision, pack))
    if rep is None:
        return {"ranks": False, "reason": f"{pack}: no control report for this protocol, judge and action model"
                                          + ("" if result.action_model.precision == "float32" else
                                             f" in {result.action_model.precision}"),
                "href": None}
    if rep["ranks"] and rep.get("pool") is not None and "train" in result.doc:
        mine = pool_of(result.doc["train"], result.k)
        if mine != rep["pool"]:
            return {"ranks": False, "href": rep["href"],
                    "reason": f"{pack}: the controls passed with {_describe(rep['pool'])} as the demonstration "
                              f"pool; this result used {_describe(mine)}"}
    if rep["ranks"]:
        checked = rep.get("prompts")
        if checked is None:
            return {"ranks": False, "href": rep["href"],
                    "reason": f"{pack}: its control report does not record which prompt versions it checked (made "
                              "before they were recorded); remake it with reconbench controls"}
        changed = sorted(pid for pid, h in result.prompts.items() if checked.get(pid) != h)
        if changed:
            return {"ranks": False, "href": rep["href"],
                    "reason": f"{pack}: the controls checked the prompts {', '.join(sorted(checked))}; this result "
                              f"used {', '.join(changed)}, which they did not check (or another text under that "
                              "name)"}
    settings = (  # (report field, the result's own, what they are, how the result came by them)
        ("params", result.doc.get("protocol", {}).get("params", {}), "the protocol's decision parameters",
         "was decided with"),
        ("generation", generation_settings(result.protocol, result.judge.mode,
                                           result.doc["settings"]["prediction"]["max_tokens"],
                                           result.doc["seeds"]["generation"]),
         "the predictions and judge made with", "used"))
    for field, mine, what, how in settings:
        if rep["ranks"] and field in rep and mine != rep[field]:
            checked = ("different ones for different users" if rep[field] is None else
                       _describe_params(rep[field]))
            return {"ranks": False, "href": rep["href"],
                    "reason": f"{pack}: the controls checked {what} {checked}; this result {how} "
                              f"{_describe_params(mine)}"}
    if rep["ranks"] and "users" in rep and result.user not in rep["users"]:
        # the pack's other users passed, but nothing checked the yardstick on this user's own test turns
        return {"ranks": False, "href": rep["href"],
                "reason": f"{pack}: no control report for {pack}/{result.user} (the controls checked "
                          f"{', '.join(sorted(rep['users']))}; a result ranks only when its own user split was "
                          "checked)"}
    return {"ranks": rep["ranks"], "reason": f"{pack}: {rep['reason']}", "href": rep["href"]}


def _describe_params(params: dict) -> str:
    return "(none)" if not params else ", ".join(f"{k} = {v}" for k, v in sorted(params.items()))


def aggregate(results: list[tuple[Path, dict]], *, root: Path | None = None, seed: int = BOOT_SEED,
              n_boot: int = N_BOOT, reports: dict[tuple, dict] | None = None) -> dict:
    """The board's numbers (a JSON-able dict) from ``(path, result)`` pairs; ``root`` makes paths relative.
    ``reports``: the latest control reports (see ``gate``); without them nothing is ranked. A method's results on
    packs whose controls passed are pooled into its ranked row; its results elsewhere into a separate, unranked
    row that names the failing controls."""
    rows: dict[tuple, dict] = {}
    for path, doc in results:
        result = Result(doc)  # validated by the store that loaded it
        g = gate(result, reports or {})
        method, am, judge = result.method, result.action_model, result.judge
        key = (method.name, am.fingerprint, am.precision, judge.fingerprint, judge.mode, judge.precision,
               result.protocol, g["ranks"])
        row = rows.setdefault(key, {"method": method.name, "protocol": result.protocol, "action_model": _model(am),
                                    "judge": _model(judge), "results": [], "examples": [],
                                    "controls": {"ranks": g["ranks"], "reasons": set(), "reports": set()}})
        row["controls"]["reasons"].add(g["reason"])
        if g["href"]:
            row["controls"]["reports"].add(g["href"])
        row["unisolated"] = row.get("unisolated", False) or method.unisolated
        row["results"].append({
            "file": (path.relative_to(root) if root else path).as_posix(), "digest": result.digest,
            "pack": result.pack, "domain": result.domain, "user": result.user,
            "n_evaluated": result.n_evaluated, "n_total": result.n_test, "train": doc.get("train"),
            "traces_sha256": method.traces_sha256, "created_at": result.created_at})
        row["examples"].extend(_examples(result))
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
    for r in out:  # each row's own packs: why it ranks or not
        reasons = sorted(r["controls"].pop("reasons"))
        packs = sorted({x.split(":")[0] for x in reasons})
        r["controls"]["reason"] = ("controls passed on " + ", ".join(packs) if r["controls"]["ranks"]
                                   else "; ".join(reasons))
        r["controls"]["reports"] = sorted(r["controls"]["reports"])
    _rank(out)
    out.sort(key=lambda r: (not r["controls"]["ranks"], r["protocol"], r["judge"]["name"], r["judge"]["fingerprint"],
                            r["action_model"]["name"],
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
        groups.setdefault(group_key(r), []).append(r)
    for group in groups.values():
        if not group[0]["controls"]["ranks"]:
            for r in group:
                r["rank"], r["tied_with_best"], r["best"] = None, False, False
            continue
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
    """``aggregate`` over every result file in the store at ``root`` (``<board>/results``), gated by the control
    reports in ``<board>/controls``."""
    root = Path(root)
    return aggregate(load_results(root), root=root, reports=latest_reports(root.parent))


def vouches(report: dict, path: Path) -> tuple[bool, str]:
    """Whether a (readable) control report lets results rank, and why: its ranking, when its statuses are what its
    own numbers decide (``benchmark.controls.recheck``); otherwise it is refused and ranks nothing. A refused report
    still counts as its user's report, so its pack cannot rank on the other user's report alone."""
    from ..controls import recheck
    from ..records.controls_report import ranks

    try:
        recheck(report, file=path)
    except DataError as e:
        return False, f"report refused: {e.message} (field {e.field})"
    return ranks(report)


def latest_reports(board_dir: Path) -> dict[tuple, dict]:
    """(protocol, judge fp, judge precision, action model fp, action model precision, pack) -> ``{"ranks", "reason",
    "href"}`` of the newest control report
    under ``<board>/controls`` for it (ties between users of a pack: a failing one wins, so a pack ranks only when
    every reported user passed, and vouches only for the prompt versions every passing user's report checked), with
    ``users``: the users of the pack that have a report."""
    from ..controls import generation_settings
    from ..records.controls_report import protocol_name, readable_reports

    by_user: dict[tuple, tuple] = {}
    refused: list = []
    # an unreadable report proves nothing: the results it would gate stay unranked
    for path, rep in readable_reports(board_dir / "controls", refused):
        key = (protocol_name(rep), rep["judge"]["fingerprint"], precision(rep["judge"]),
               rep["action_model"]["fingerprint"], precision(rep["action_model"]),
               rep["pack"]["name"], rep["user"])
        if key not in by_user or rep["created_at"] > by_user[key][0]:
            page = path.with_suffix(".md") if path.with_suffix(".md").exists() else path
            ok, why = vouches(rep, path)
            by_user[key] = (rep["created_at"], {"ranks": ok, "reason": f"{rep['user']}: {why}",
                                                "href": page.relative_to(board_dir).as_posix(),
                                                "pool": pool_of(rep["train"], rep["settings"]["k"]),
                                                "prompts": rep.get("prompts"),
                                                "params": rep.get("protocol", {}).get("params", {}),
                                                "generation": generation_settings(
                                                    protocol_name(rep), rep["judge"]["mode"],
                                                    rep["settings"]["max_tokens"], rep["settings"]["seed"]),
                                                "folder": path.parent.relative_to(board_dir).as_posix()})
    out: dict[tuple, dict] = {}
    for key in sorted(by_user):
        entry = by_user[key][1]
        pack_key, user = key[:-1], key[-1]
        users = out[pack_key]["users"] | {user} if pack_key in out else {user}
        if pack_key not in out or (out[pack_key]["ranks"] and not entry["ranks"]):
            out[pack_key] = dict(entry, users=users)
            continue
        out[pack_key]["users"] = users
        if out[pack_key]["ranks"] and entry["ranks"]:  # both passed: vouch only for prompts both checked
            mine, theirs = out[pack_key]["prompts"], entry["prompts"]
            out[pack_key]["prompts"] = (None if mine is None or theirs is None else
                                        {pid: h for pid, h in mine.items() if theirs.get(pid) == h})
            for field in ("params", "generation"):  # and only for decision and generation settings both checked
                if out[pack_key][field] != entry[field]:
                    out[pack_key][field] = None
    # A file that cannot be read as a report must not make its user "unreported" either, or breaking the failing
    # user's report (an edited status without a recomputed digest) would let the pack rank on the other user's
    # report alone: by its path (``<protocol>/<judge>/<pack>--<user>.json``, as write_report names it) it blocks
    # that pack for the reports in its folder.
    for path, error in refused:
        rel = path.relative_to(board_dir)
        pack, sep, user = path.stem.partition("--")
        for pack_key, entry in out.items():
            if sep and pack_key[-1] == pack and entry["folder"] == rel.parent.as_posix():
                entry.update(ranks=False, users=entry["users"] | {user},
                             reason=f"{user}: report {rel.as_posix()} refused: {error.message}"
                                    + (f" (field {error.field})" if error.field else ""))
    return out
