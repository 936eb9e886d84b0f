"""The results store: ``leaderboard/results/<pack>/<user>/<file>.json``, one schema-valid result file per
(submission, pack, user, action model, judge).

``add`` checks everything before it writes anything: the file must match ``result.schema.json``, its ``digest``
must match its content, its summary counts must match its per-example verdicts, its baseline must be Backward
Synthesis (the board reports win rates against it), and no result for the same key may be in the store already.
A refused file leaves the store, and so the board, exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

from .. import paths
from ..errors import DataError
from ..io import write_json
from ..layout import slug
from ..records.result import Result, digest, protocol_of, read_result
from ..records.stats import counts

BASELINE = "backward"


def results_dir(board_dir: Path | str | None = None) -> Path:
    """The store inside ``board_dir`` (default: the repository's ``leaderboard/``)."""
    return Path(board_dir if board_dir is not None else paths.LEADERBOARD_DIR) / "results"


def result_key(doc: dict) -> tuple[str, ...]:
    """What makes a result unique on the board: (submission, pack, user, action model, judge, protocol), models
    by fingerprint and precision (the same weights in bfloat16 give other numbers than in float32)."""
    r = Result(doc)
    return (r.method.name, r.pack, r.user, r.action_model.fingerprint, r.action_model.precision, r.judge.fingerprint,
            r.judge.precision, r.protocol)


def store_path(doc: dict, root: Path) -> Path:
    """``<root>/<pack>/<user>/<method>--<action model>-<fp>--<judge>-<fp>.json``: the name shows the key, the short
    fingerprints keep two builds of a same-named model apart."""
    r = Result(doc)
    am, judge = r.action_model, r.judge
    name = "--".join([slug(r.method.name), f"{slug(am.name)}-{am.fingerprint[:12]}",
                      f"{slug(judge.name)}-{judge.fingerprint[:12]}"])
    if r.protocol != "pairwise":  # version 1 names (pairwise) stay as they were
        name += f"--{r.protocol}"
    precisions = sorted({m.precision for m in (am, judge)} - {"float32"})  # float32 names stay as they were
    if precisions:
        name += "--" + "-".join(slug(p) for p in precisions)
    return root / r.pack / r.user / f"{name}.json"


def check_result(doc: dict, file: object) -> None:
    """The checks beyond the schema: digest, summary counts against the examples, the baseline, and that the
    examples are as many as the test slice it states (which ones, ``leaderboard verify`` checks against the pack)."""
    if digest(doc) != doc["digest"]:
        raise DataError("digest does not match the content: the file was edited after evaluation", file=file,
                        field="digest")
    r = Result(doc)
    if r.method.user is not None:
        raise DataError("a wrong-user control result is not a submission's result", file=file, field="method/user")
    if r.baseline.name != BASELINE:
        raise DataError(f"baseline is {r.baseline.name!r}; the board compares against {BASELINE!r}",
                        file=file, field="baseline/name")
    if "raw" in doc["examples"][0]:
        _check_decisions(doc, file)
    for dim in doc["summary"]["dimensions"]:
        seen = counts(ex["verdicts"][dim]["final"] for ex in doc["examples"])
        stated = {k: doc["summary"]["dimensions"][dim][k] for k in seen}
        if seen != stated:
            raise DataError(f"summary counts {stated} differ from the example verdicts {seen}", file=file,
                            field=f"summary/dimensions/{dim}")
    test = doc["test"]
    sliced = min(test["limit"], test["n_total"]) if test["limit"] else test["n_total"]
    if not len(doc["examples"]) == test["n_evaluated"] == sliced:
        raise DataError(f"{len(doc['examples'])} examples for a slice of {sliced} test records (limit "
                        f"{test['limit']}, {test['n_total']} in the split, n_evaluated {test['n_evaluated']}): a "
                        "result holds every record of the slice it states", file=file, field="test")
    ids = [ex["id"] for ex in doc["examples"]]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError("duplicate example id", file=file, record=dup, field="examples/id")
    prefix = f"{doc['pack']['name']}/{doc['user']}/"
    foreign = [i for i in ids if not i.startswith(prefix)]
    if foreign:
        raise DataError(f"example id does not start with {prefix!r}", file=file, record=foreign[0],
                        field="examples/id")


def _check_decisions(doc: dict, file: object) -> None:
    """A version 2 result must be what its protocol decides from its own raw numbers: every verdict, and the whole
    summary and health, recomputed here with the project's functions (no model call). A file whose verdicts were
    changed, even with the summary and digest recomputed to match, is refused; changing the raw numbers as well is
    what ``reconbench leaderboard verify`` catches by recomputing a sample of them with the models."""
    from ..evaluate.pipeline import score_examples

    if any("raw" not in ex for ex in doc["examples"]):
        raise DataError("some examples carry raw numbers and some do not", file=file, field="examples/raw")
    try:
        again = score_examples(protocol_of(doc), doc["protocol"]["params"], doc["examples"], user=doc["user"],
                               seed=doc["seeds"]["bootstrap"], n_boot=doc["seeds"].get("bootstrap_samples", 2000))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        raise DataError(f"raw numbers cannot be decided by protocol {protocol_of(doc)!r}: {e!r}", file=file,
                        field="examples/raw") from None
    for ex, redo in zip(doc["examples"], again["examples"]):
        if ex["verdicts"] != redo["verdicts"]:
            raise DataError("verdicts differ from what the protocol decides from the recorded raw numbers",
                            file=file, record=ex["id"], field="examples/verdicts")
    def close(a, b) -> bool:  # the length-controlled rate comes from an iterative fit: compare to 1e-3
        return a is None and b is None or a is not None and b is not None and abs(a - b) <= 1e-3

    lc_a, lc_b = again["summary"].pop("length_controlled", None), doc["summary"].get("length_controlled")
    if (lc_a is None) != (lc_b is None) or lc_a and not all(close(lc_a[k], lc_b[k]) for k in lc_a):
        raise DataError("length-controlled win rate differs from what the recorded verdicts give", file=file,
                        field="summary/length_controlled")
    stated = {k: v for k, v in doc["summary"].items() if k != "length_controlled"}
    for part, mine, theirs in (("summary", again["summary"], stated),
                               ("judge_health", again["judge_health"], doc["judge_health"])):
        if mine != theirs:
            raise DataError(f"{part} differs from what the recorded raw numbers give", file=file, field=part)


def load_result(path: Path | str) -> dict:
    """A result file, validated against the schema and ``check_result``."""
    doc = read_result(path)
    check_result(doc, path)
    return doc


def load_results(root: Path | str) -> list[tuple[Path, dict]]:
    """Every result in the store, checked, in path order; two files with the same key are a DataError."""
    root = Path(root)
    out: list[tuple[Path, dict]] = []
    seen: dict[tuple, Path] = {}
    for path in sorted(root.rglob("*.json")) if root.is_dir() else []:
        doc = load_result(path)
        key = result_key(doc)
        if key in seen:
            raise DataError(f"same (submission, pack, user, action model, judge) as {seen[key]}", file=path)
        seen[key] = path
        out.append((path, doc))
    return out


def add_result(path: Path | str, root: Path | str) -> Path:
    """Check the result at ``path`` and copy it into the store at ``root``; returns where it was stored.

    Refuses (DataError naming the file and field) a malformed file, or one whose key is in the store already,
    before anything is written."""
    doc = load_result(path)
    root = Path(root)
    key = result_key(doc)
    for other, existing in load_results(root):
        if result_key(existing) == key:
            same = "the same result" if existing["digest"] == doc["digest"] else "a different result"
            raise DataError(f"duplicate: {other} already holds {same} for submission {key[0]!r} on "
                            f"{key[1]}/{key[2]} with this action model and judge; remove it first to replace it",
                            file=path)
    target = store_path(doc, root)
    write_json(target, doc)
    return target
