"""The evaluation grid: a grid file names methods and submissions, user splits, (action model, judge) pairs and one
scoring protocol; it expands to cells, each the ordinary single-machine chain (Backward Synthesis for the split,
the method's or submission's traces, ``evaluate``) run by ``benchmark.orchestrate.cell.run_cell``.

``run_grid`` skips cells whose outcome is already recorded with the same settings digest, hands the rest to an
executor (``local`` process pool or ``ray``), records each outcome as it arrives (atomically, so a killed driver
loses nothing finished), then puts every successful result on the board and rebuilds it once. A failed cell is
recorded with its failure kind and does not stop the others; a rerun retries only failed and missing cells.

State: ``<state>/cells/<digest>.json`` (the cell, its status, failure, seconds, log tail) and
``<state>/results/<digest>.json`` (the result file), ``<state>/summary.md``; ``<state>`` defaults to
``<runs>/grid/<name>/``. See docs/grid.md."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import layout
from ..errors import DataError
from ..evaluate.protocols import get_protocol
from ..io import atomic_write_text, dumps_canonical, read_json, sha256_bytes, sha256_text, write_json
from ..records.result import Result
from ..schema import validate

DEFAULTS = {"runner": "docker", "config": "cpu", "backend": "transformers", "protocol": "likelihood", "k": 4,
            "seed": 0}
MAX_SUBMISSION_FILES, MAX_SUBMISSION_BYTES = 10_000, 256 << 20


def load_grid(path: Path | str) -> dict:
    """Read and validate a grid file (YAML or JSON); returns it with defaults filled in, submission folders and a
    config file resolved against the grid file's folder. Errors name the file and the field."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read the grid file: {e}", file=path) from None
    try:
        doc = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as e:
        raise DataError(f"not YAML or JSON: {e}", file=path) from None
    validate("grid", doc, file=path)
    spec = DEFAULTS | doc
    spec["models"] = [{"action_model": m["action_model"], "judge": m.get("judge", m["action_model"])}
                      for m in doc.get("models", [{"action_model": "smollm2-135m"}])]
    if not spec.get("methods") and not spec.get("submissions"):
        raise DataError("names no methods and no submissions: nothing to run", file=path, field="methods")
    from ..models.options import check_model_name

    for i, m in enumerate(spec["models"]):
        for role in ("action_model", "judge"):
            try:
                check_model_name(m[role], field=f"models/{i}/{role}")
            except DataError as e:
                raise DataError(str(e).split(": ", 1)[1], file=path, field=e.field) from None
    base = path.resolve().parent
    spec["submissions"] = [str((base / s).resolve()) for s in spec.get("submissions", [])]
    for i, folder in enumerate(spec["submissions"]):
        if not (Path(folder) / "manifest.json").is_file():
            raise DataError(f"{folder} is not a submission folder (no manifest.json)", file=path,
                            field=f"submissions/{i}")
    spec["config"] = _config(spec["config"], base, path)
    spec["splits"] = _splits(spec["splits"], path)
    return spec


def _config(name: str, base: Path, file: Path) -> dict:
    from ..synthesize import config_names, load_config

    source = name if name in config_names() else base / name
    if not isinstance(source, str) and not source.is_file():
        raise DataError(f"{name!r} is neither a shipped config ({', '.join(config_names())}) nor a JSON file",
                        file=file, field="config")
    return load_config(source)


def _splits(entries: list[str], file: Path) -> list[tuple[str, str]]:
    from ..packs import pack_names, users

    out: list[tuple[str, str]] = []
    for i, entry in enumerate(entries):
        pack, _, user = entry.partition("/")
        if pack not in pack_names():
            raise DataError(f"unknown pack {pack!r}; known: {', '.join(pack_names())}", file=file,
                            field=f"splits/{i}")
        known = users(pack)
        if user and user != "*" and user not in known:
            raise DataError(f"{pack} has no user {user!r}; its users: {', '.join(known)}", file=file,
                            field=f"splits/{i}")
        out += [(pack, u) for u in ([user] if user and user != "*" else known) if (pack, u) not in out]
    return out


def tree_sha256(folder: Path | str) -> str:
    """sha256 over a folder's files (relative path and content, symlinks by their target text), in path order: what
    a submission's code is, for the cell digest. Refuses a folder over the size caps (the folder is untrusted)."""
    folder = Path(folder)
    parts, n, size = [], 0, 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            p = Path(root) / name
            rel = p.relative_to(folder).as_posix()
            n += 1
            if p.is_symlink():
                parts.append(f"{rel}\0link\0{os.readlink(p)}")
                continue
            size += p.stat().st_size
            if n > MAX_SUBMISSION_FILES or size > MAX_SUBMISSION_BYTES:
                raise DataError(f"more than {MAX_SUBMISSION_FILES} files or {MAX_SUBMISSION_BYTES >> 20} MiB: not a "
                                f"submission's source", file=folder)
            parts.append(f"{rel}\0file\0{sha256_bytes(p.read_bytes())}")
    return sha256_text("\n".join(parts))


@dataclass(frozen=True)
class Cell:
    """One (method or submission, pack, user, action model, judge) of a grid with everything that decides its
    result; ``digest`` is the sha256 of that (``key``), the cell's identity across reruns and machines."""

    method: str  # a reference method, or the submission's manifest name
    submission: str | None  # the submission folder, or None for a reference method
    pack: str
    user: str
    settings: dict

    @property
    def label(self) -> str:
        s = self.settings
        judged = get_protocol(s["protocol"]).uses_judge  # a judge-free protocol loads no judge
        models = s["action_model"] if s["judge"] == s["action_model"] or not judged else \
            f"{s['action_model']}+{s['judge']}"
        return f"{self.method} @ {self.pack}/{self.user} [{models}]"

    @property
    def key(self) -> dict:
        return {"method": self.method, "pack": self.pack, "user": self.user, "settings": self.settings}

    @property
    def digest(self) -> str:
        return sha256_text(dumps_canonical(self.key))

    def as_dict(self) -> dict:
        return {"method": self.method, "submission": self.submission, "pack": self.pack, "user": self.user,
                "settings": self.settings, "digest": self.digest}

    @classmethod
    def from_dict(cls, d: dict) -> Cell:
        return cls(d["method"], d["submission"], d["pack"], d["user"], d["settings"])


def expand(spec: dict) -> list[Cell]:
    """The grid's cells: splits x models x (methods, then submissions), in that order."""
    from ..packs import lock_path
    from ..runners import load_submission

    subs = []
    for folder in spec["submissions"]:
        sub = load_submission(folder)
        subs.append((sub.name, folder, tree_sha256(folder)))
    cells = []
    for pack, user in spec["splits"]:
        pack_lock = sha256_bytes(lock_path(pack).read_bytes()) if lock_path(pack).is_file() else None
        for models in spec["models"]:
            common = {"pack_lock": pack_lock, "protocol": spec["protocol"],
                      "protocol_params": spec.get("protocol_params") or {},
                      "action_model": models["action_model"], "judge": models["judge"], "backend": spec["backend"],
                      "test_limit": spec.get("test_limit"), "train_limit": spec.get("train_limit"), "k": spec["k"],
                      "seed": spec["seed"], "max_tokens": spec.get("max_tokens"), "config": spec["config"]}
            for method in spec.get("methods", []):
                cells.append(Cell(method, None, pack, user, common | {"kind": "reference"}))
            for name, folder, code in subs:
                cells.append(Cell(name, folder, pack, user,
                                  common | {"kind": "submission", "runner": spec["runner"], "code_sha256": code}))
    seen: dict[tuple, Cell] = {}
    for c in cells:  # two submissions with one manifest name would overwrite each other on the board
        key = (c.method, c.pack, c.user, c.settings["action_model"], c.settings["judge"])
        if key in seen and seen[key].submission != c.submission:
            raise DataError(f"two submissions are both named {c.method!r} ({seen[key].submission}, {c.submission})",
                            field="submissions")
        seen[key] = c
    return cells


def state_dir(spec: dict, state: Path | str | None = None) -> Path:
    return Path(state) if state else layout.grid_state(spec["name"])


def recorded(state: Path, cell: Cell) -> dict | None:
    """The recorded outcome of ``cell`` (same digest), or None; an unreadable record counts as missing."""
    path = state / "cells" / f"{cell.digest}.json"
    try:
        outcome = read_json(path)
    except (OSError, ValueError, DataError):
        return None
    if outcome.get("cell", {}).get("digest") != cell.digest:
        return None
    if outcome.get("status") == "ok" and not (state / "results" / f"{cell.digest}.json").is_file():
        return None
    return outcome


def record(state: Path, cell: Cell, outcome: dict) -> dict:
    """Write a cell's outcome (and its result file) atomically; returns the outcome as recorded."""
    result = outcome.pop("result", None)
    if outcome["status"] == "ok":
        from ..records.result import write_result

        write_result(state / "results" / f"{cell.digest}.json", result)
        outcome["result_digest"] = Result(result).digest
        outcome["summary"] = _overall(result)
    write_json(state / "cells" / f"{cell.digest}.json", {"cell": cell.as_dict(), **outcome})
    return {"cell": cell.as_dict(), **outcome}


def _overall(doc: dict) -> dict:
    s = Result(doc).overall
    return {"n": s.n, "wins": s.wins, "losses": s.losses, "ties": s.ties, "win_rate": asdict(s.win_rate)}


@dataclass
class GridRun:
    """What ``run_grid`` did: every cell's outcome (in grid order), which ran now, the board files."""

    spec: dict
    state: Path
    outcomes: list[dict]
    ran: list[str]
    published: list[Path]

    @property
    def failed(self) -> list[dict]:
        return [o for o in self.outcomes if o["status"] != "ok"]


def run_grid(spec: dict, executor, *, state: Path | str | None = None, board: Path | str | None = None,
             force: bool = False, publish: bool = True, progress: bool = True) -> GridRun:
    """Run the grid's missing and failed cells with ``executor`` (see benchmark.orchestrate.executors), record every
    outcome as it arrives, then (``publish``) put the successful results on the board and rebuild it once."""
    from tqdm import tqdm

    state = state_dir(spec, state)
    cells = expand(spec)
    write_json(state / "grid.json", spec)
    todo = [c for c in cells if force or (recorded(state, c) or {}).get("status") != "ok"]
    ran = []
    bar = tqdm(total=len(todo), desc=f"grid {spec['name']} ({executor.name})", unit="cell", disable=not progress)
    for cell, outcome in executor.run([c.as_dict() for c in todo]):
        cell = Cell.from_dict(cell)
        record(state, cell, outcome)
        ran.append(cell.digest)
        bar.update(1)
        bar.set_postfix_str(f"{cell.label}: {outcome['status']}")
    bar.close()
    outcomes = [recorded(state, c) or {"cell": c.as_dict(), "status": "missing"} for c in cells]
    published = _publish(state, outcomes, board) if publish else []
    run = GridRun(spec, state, outcomes, ran, published)
    atomic_write_text(state / "summary.md", summary_markdown(run))
    return run


def _publish(state: Path, outcomes: list[dict], board) -> list[Path]:
    from ..publish import add_many

    files = [state / "results" / f"{o['cell']['digest']}.json" for o in outcomes if o["status"] == "ok"]
    return add_many(files, board, replace=True) if files else []


def summary_rows(run: GridRun) -> list[list]:
    rows = []
    for o in run.outcomes:
        c = Cell.from_dict(o["cell"])
        s = o.get("summary") or {}
        wr = s.get("win_rate") or {}
        rate = (f"{100 * wr['estimate']:.1f} [{100 * wr['ci_low']:.1f}, {100 * wr['ci_high']:.1f}]"
                if wr.get("estimate") is not None else "")
        failure = o.get("failure") or {}
        rows.append([c.label, "ran" if c.digest in run.ran else "kept", o["status"], failure.get("kind", ""),
                     s.get("n", ""), f"{s.get('wins', '')}/{s.get('losses', '')}/{s.get('ties', '')}" if s else "",
                     rate, f"{o['seconds']:.0f}" if "seconds" in o else "", c.digest[:12]])
    return rows


HEADERS = ["cell", "this run", "status", "failure", "n", "won/lost/tied", "win rate % [95% CI]", "seconds", "digest"]


def summary_markdown(run: GridRun) -> str:
    from tabulate import tabulate

    lines = [f"# Grid `{run.spec['name']}`", "",
             f"{len(run.outcomes)} cells: {sum(o['status'] == 'ok' for o in run.outcomes)} ok, "
             f"{len(run.failed)} failed or missing; {len(run.ran)} ran in this run. Protocol "
             f"`{run.spec['protocol']}`, test limit {run.spec.get('test_limit') or 'all'}.", "",
             tabulate(summary_rows(run), headers=HEADERS, tablefmt="github"), ""]
    for o in run.failed:
        f = o.get("failure") or {}
        lines += [f"- `{Cell.from_dict(o['cell']).label}`: {f.get('kind', o['status'])}: {f.get('message', '')}"]
    return "\n".join(lines) + "\n"
