"""The controls report: build, validate (``controls_report.schema.json``), write atomically, render as tables.

A recorded report is ``<dir>/<protocol>/<judge>/<pack>--<user>.json`` plus a Markdown page beside it (``.md``) with
the table
and the command that made it; ``<dir>/index.json`` lists every report in the folder, so the leaderboard can find
the latest one for each (protocol, judge, action model, pack) and rank only what passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from tabulate import tabulate

from ..errors import DataError
from ..io import atomic_write_text, dumps_canonical, read_json, sha256_text, write_json
from ..schema import validate

SCHEMA = "controls_report"
INDEX = "index.json"


UNHASHED = ("run", "digest", "created_at")  # what describes one invocation, not the measurement


def digest(doc: dict) -> str:
    """sha256 of the deterministic part of a report (everything but ``run``, ``created_at`` and ``digest``)."""
    return sha256_text(dumps_canonical({k: v for k, v in doc.items() if k not in UNHASHED}))


def finalize(doc: dict, run: dict) -> dict:
    """Add ``schema_version``, ``digest``, ``run`` and ``created_at`` (a copy of ``run.created_at``, where the
    leaderboard reads it) to a report and validate it."""
    doc = {"schema_version": 2} | {k: v for k, v in doc.items() if k not in UNHASHED}
    doc["digest"] = digest(doc)
    doc["run"] = run
    doc["created_at"] = run["created_at"]
    check(doc)
    return doc


def _label(doc: object) -> str | None:
    """``controls report <pack>/<user>`` for messages, read before validation: a part that is missing or not text
    shows as ``?`` (a report that is not what it should be still gets a readable name, never an AttributeError)."""
    if not isinstance(doc, dict):
        return None
    pack = doc.get("pack")
    parts = (pack.get("name") if isinstance(pack, dict) else None, doc.get("user"))
    return "controls report " + "/".join(p if isinstance(p, str) else "?" for p in parts)


def check(doc: dict, *, file: object = None) -> None:
    """Validate a report against its schema, then what a schema cannot say: the digest and the pass/fail counts
    match the content. Raises DataError naming the file, the report and the field."""
    where = _label(doc)
    validate(SCHEMA, doc, file=file, record=where)
    if doc["digest"] != digest(doc):
        raise DataError("digest does not match the report's content (edited by hand?)", file=file, record=where,
                        field="digest")
    for field, status in (("passed", "PASS"), ("failed", "FAIL")):
        if doc[field] != sum(c["status"] == status for c in doc["controls"]):
            raise DataError(f"{field} does not count the controls marked {status}", file=file, record=where,
                            field=field)
    if "ranking" in doc:
        recorded = (doc["ranking"]["ranks"], doc["ranking"]["reason"])
        if recorded != ranks(doc):
            raise DataError(f"ranking {recorded} is not what the statuses give {ranks(doc)}", file=file, record=where,
                            field="ranking")


def read_report(path: Path | str) -> dict:
    """A report file, validated."""
    doc = read_json(path)
    check(doc, file=path)
    return doc


def readable_reports(root: Path, refused: list[tuple[Path, DataError]] | None = None) -> Iterator[tuple[Path, dict]]:
    """``(path, report)`` for every report file under ``root`` that reads and validates, in path order (the index
    is not a report; a file that does not validate proves nothing, so readers of the board skip it). ``refused``:
    where the skipped files go, with why (the scorer makes them block their pack)."""
    for path in sorted(p for p in root.rglob("*.json") if p.name != INDEX) if root.is_dir() else []:
        try:
            doc = read_report(path)
        except DataError as e:
            if refused is not None:
                refused.append((path, e))
            continue
        yield path, doc


def _value(v: dict) -> str:
    if v["estimate"] is None:
        return "undefined"
    ci = "" if v["ci_low"] is None else f" [{v['ci_low']:.2f}, {v['ci_high']:.2f}]"
    return f"{v['estimate']:.2f}{ci}"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def table(report: dict, tablefmt: str = "simple") -> str:
    """The controls as a table: expectation, measured value with 95% CI, status, and the judge's health figures."""
    rows = []
    for c in report["controls"]:
        h = c["judge_health"] or {}
        n = c["counts"]
        rows.append([c["name"], c["expectation"], c["metric"], _value(c["value"]), c["status"],
                     "-" if n is None else f"{n['wins']}/{n['losses']}/{n['ties']}/{n['invalid']}",
                     _num(h.get("order_flip_rate")), _num(h.get("first_position_win_rate")),
                     _num(h.get("length_correlation"))])
    return tabulate(rows, headers=["control", "expectation", "metric", "value [95% CI]", "status",
                                   "W/L/T/invalid", "order flips", "first pos. wins", "length r"],
                    tablefmt=tablefmt, maxcolwidths=[None, 60 if tablefmt == "simple" else None] + [None] * 7)


def markdown(report: dict) -> str:
    """A Markdown page for one report: what was run, the table, the reasons, the command."""
    am, j, t = report["action_model"], report["judge"], report["test"]
    lines = [
        f"# Validity controls: {report['pack']['name']}/{report['user']}, protocol {protocol_name(report)}, "
        f"judge {j['name']}",
        "",
        f"- **ranks on the board: {'yes' if ranks(report)[0] else 'NO'}** ({ranks(report)[1]})",
        f"- action model: `{am['name']}` ({am['backend']}{', ' + am['dtype'] if 'dtype' in am else ''}, "
        f"fingerprint `{am['fingerprint'][:12]}`)",
        f"- judge: `{j['name']}` ({j['backend']}{', ' + j['dtype'] if 'dtype' in j else ''}, mode `{j['mode']}`, "
        f"fingerprint `{j['fingerprint'][:12]}`)",
        f"- test examples: {t['n_evaluated']} of {t['n_total']}; training examples: {report['train']['n_used']} of "
        f"{report['train']['n_total']}; k = {report['settings']['k']}; "
        f"seed {report['settings']['seed']}",
        f"- Backward Synthesis traces: {report['backward_traces']['n_traces']} ({report['backward_traces']['source']}"
        + (f"; {report['backward_traces']['n_demonstrated']} training examples shown as demonstrations"
           if "n_demonstrated" in report["backward_traces"] else "")
        + f"), sha256 `{report['backward_traces']['sha256'][:12]}`",
        "- prompts checked: " + (", ".join(f"`{pid}` (`{h[:12]}`)" for pid, h in sorted(report["prompts"].items()))
                                 if "prompts" in report else "not recorded (the board lets this report vouch for "
                                                              "no result; remake it)"),
        f"- result: {report['passed']} passed, {report['failed']} failed; made {report['created_at']} "
        f"(report digest `{report['digest'][:12]}`)",
        "",
        table(report, "github"),
        "",
        "W/L/T/invalid: the method side's wins, losses, ties (order flips) and unparseable verdicts on the headline "
        "dimension; the last three columns are that run's judge health.",
        "",
        "## Why each status",
        "",
        *[f"- **{c['name']}** ({c['status']}): {c['reason']}" for c in report["controls"]],
        "",
        "## Made with",
        "",
        "```bash",
        report["command"] or "(from Python: benchmark.controls.run_controls)",
        "```",
        "",
    ]
    return "\n".join(lines)


def protocol_name(report: dict) -> str:
    """The protocol a report checked; version 1 reports predate protocols and checked ``pairwise``."""
    return report.get("protocol", {}).get("name", "pairwise")


PASS, FAIL, INFO, NA = "PASS", "FAIL", "INFO", "N/A"
NOT_RUN = "not run (a probe of selected controls)"  # the reason of an N/A control that a probe (--only) left out
POSITIVE = ("oracle", "wrong_user")  # at least one must apply and pass; none may fail
REQUIRED = ("self", "shuffled_traces", "length", "judge_injection")  # each must pass where it applies


def ranking(statuses: dict[str, str], not_run: Iterable[str] = ()) -> tuple[bool, str]:
    """Whether results scored like the report's are ranked on the board, and why not: a positive control (oracle
    or wrong user) applied and passed and none failed; self, shuffled traces, length and judge injection passed
    wherever they apply; and no control the protocol has was left out (``not_run``: a probe of selected controls,
    whose left-out controls read N/A, never ranks). ``statuses``: control name -> PASS/FAIL/INFO/N/A."""
    failing = [n for n in POSITIVE + REQUIRED if statuses.get(n) == FAIL]
    if failing:
        return False, "failed: " + ", ".join(failing)
    skipped = set(not_run)
    left_out = [n for n in POSITIVE + REQUIRED if n in skipped]
    if left_out:
        return False, "a probe of selected controls (not run: " + ", ".join(left_out) + ")"
    if not any(statuses.get(n) == PASS for n in POSITIVE):
        return False, "no positive control (oracle or wrong user) passed"
    missing = [n for n in REQUIRED if statuses.get(n) not in (PASS, NA)]
    if missing:
        return False, "not run: " + ", ".join(missing)
    return True, "passed: " + ", ".join(n for n in POSITIVE + REQUIRED if statuses.get(n) == PASS)


def ranks(report: dict) -> tuple[bool, str]:
    """(ranks, reason) by ``ranking`` from the report's statuses (the controls a probe left out read N/A with the
    reason ``NOT_RUN``). Never the recorded ``ranking`` alone: ``check`` refuses a report whose recorded ranking
    differs (before 2026-12-01 the recorded one was trusted, so a report whose ``ranks`` was set to true with a
    recomputed digest ranked its pack whatever its controls said)."""
    statuses = {c["name"]: c["status"] for c in report["controls"]}
    return ranking(statuses, [c["name"] for c in report["controls"] if c["status"] == NA and c["reason"] == NOT_RUN])


def report_stem(report: dict) -> str:
    return f"{report['pack']['name']}--{report['user']}"


def write_report(report: dict, out_dir: Path | str) -> tuple[Path, Path]:
    """Validate and atomically write ``<out_dir>/<judge>/<pack>--<user>.{json,md}``; refresh the index."""
    check(report)
    folder = (Path(out_dir) / protocol_name(report) /
              "".join(c if c.isalnum() or c in "._-" else "_" for c in report["judge"]["name"]))
    json_path, md_path = folder / f"{report_stem(report)}.json", folder / f"{report_stem(report)}.md"
    write_json(json_path, report)
    atomic_write_text(md_path, markdown(report))
    write_index(out_dir)
    return json_path, md_path


def write_index(out_dir: Path | str) -> Path:
    """``<out_dir>/index.json``: every report under ``out_dir`` (judge, pack, user, path, created_at, passed,
    failed), newest first per judge. Rebuilt from the report files themselves, so it cannot drift from them."""
    out_dir = Path(out_dir)
    entries = []
    for path in sorted(p for p in out_dir.rglob("*.json") if p.name != INDEX):
        r = read_report(path)
        entries.append({"protocol": protocol_name(r), "ranks": ranks(r)[0],
                        "judge": r["judge"]["name"], "action_model": r["action_model"]["name"],
                        "pack": r["pack"]["name"], "user": r["user"], "path": path.relative_to(out_dir).as_posix(),
                        "markdown": path.with_suffix(".md").relative_to(out_dir).as_posix(),
                        "created_at": r["created_at"], "passed": r["passed"], "failed": r["failed"]})
    entries.sort(key=lambda e: (e["protocol"], e["judge"], e["pack"], e["user"], e["created_at"]), reverse=True)
    path = out_dir / INDEX
    write_json(path, {"reports": entries})
    return path
