"""``leaderboard verify``: recompute a random sample of a result's examples from the traces it names and refuse
the result when the numbers disagree.

``store.check_result`` already refuses a result whose verdicts, summary or health are not what its own raw numbers
give. What it cannot see is raw numbers that were made up. This step re-runs the evaluation for a few sampled test
records (same pack slice, traces, models, protocol and settings as recorded; a record's numbers do not depend on
the other records, see the batch-invariance note in docs/evaluation.md) and compares the raw numbers.
"""

from __future__ import annotations

import math
import random
import tempfile
from pathlib import Path

from ..errors import DataError
from ..evaluate.traces import records_sha256, traces_sha256
from ..records.result import precision, read_result
from .store import check_result

TOLERANCE = 1e-3  # log-probabilities and probabilities recomputed on another machine differ in the 5th digit


def _numbers(raw, prefix: str = "") -> dict[str, float | str | None]:
    """The leaves of a raw dict, by path."""
    if isinstance(raw, dict):
        out = {}
        for k, v in raw.items():
            out |= _numbers(v, f"{prefix}/{k}")
        return out
    if isinstance(raw, list):
        out = {}
        for i, v in enumerate(raw):
            out |= _numbers(v, f"{prefix}/{i}")
        return out
    return {prefix: raw}


def _agree(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, abs_tol=TOLERANCE, rel_tol=TOLERANCE)
    return a == b


def _loadable(name: str, backend: str, *, file: object, field: str) -> None:
    """Refuse to load a model whose name a result file chose unless it is a registry name on a real backend or a
    ``fake-*`` name on the fake backend: a result is untrusted input, and a path or hub name in it must not decide
    what this machine loads (pass the model explicitly to verify such a result)."""
    from ..models import MODELS
    from ..models.options import BACKEND_NAMES

    ok = backend in BACKEND_NAMES and (name in MODELS if backend != "fake" else name.startswith("fake"))
    if not ok:
        raise DataError(f"the result names model {name[:80]!r} on backend {backend[:20]!r}, which is not in the "
                        f"model registry; pass the model to verify explicitly", file=file, field=field)


def verify(result_path: Path | str, method_traces: Path | str | None, baseline_traces: Path | str, *,
           sample: int = 3, seed: int = 0, action_model=None, judge=None) -> dict:
    """Recompute ``sample`` random examples of the result at ``result_path``; returns ``{"checked", "ids"}`` or
    raises DataError naming the first disagreeing example and number. ``method_traces`` None: the no-reasoning
    side. ``action_model``/``judge``: LM objects to use instead of loading the recorded names (the same weights
    are checked by fingerprint)."""
    from ..evaluate import evaluate, load_splits
    from ..evaluate.predict import first, other_user_pool, train_slice
    from ..evaluate.protocols import get_protocol
    from ..evaluate.settings import EvalSettings

    doc = read_result(result_path)
    check_result(doc, result_path)
    if any("raw" not in ex for ex in doc["examples"]):
        raise DataError("a version 1 result has no raw numbers to recompute", file=result_path,
                        field="examples/raw")
    pack, user = doc["pack"]["name"], doc["user"]
    window = doc["train"].get("window", "oldest")
    train_all, test_all = load_splits(pack, user)
    for split, records in (("train", train_all), ("test", test_all)):
        if records_sha256(records) != doc["pack"][f"{split}_sha256"]:
            raise DataError(f"the {split} split of {pack}/{user} built here is not the one the result was made on",
                            file=result_path, field=f"pack/{split}_sha256")
    # the examples must be the slice the result states, in order: each example's numbers are recomputed below, but
    # a result holding only the test records its method won (limit and counts adjusted) would pass that
    sliced = [r["id"] for r in first(test_all, doc["test"]["limit"])]
    held = [ex["id"] for ex in doc["examples"]]
    if held != sliced:
        at = next((i for i, (a, b) in enumerate(zip(held, sliced)) if a != b), min(len(held), len(sliced)))
        raise DataError(f"the examples are not the first {len(sliced)} test records of {pack}/{user} (the slice the "
                        f"result states): they differ at position {at}", file=result_path,
                        record=held[at] if at < len(held) else None, field="examples/id")
    train = train_slice(train_all, doc["train"]["limit"], window)
    from ..evaluate.traces import load_traces

    for side, path in (("method", method_traces), ("baseline", baseline_traces)):
        recorded = doc[side]["traces_sha256"]
        # any subset of the pool may be given (the sha256 decides identity; evaluate checks the coverage)
        side_user = doc[side].get("user", user)
        pool = train if side_user == user else other_user_pool(pack, user, side_user, doc["train"]["limit"], window)
        given = None if path is None else traces_sha256(load_traces(path, pack, side_user, pool, needed=[]), pool)
        if given != recorded:
            raise DataError(f"the {side} traces given are not the ones the result was made from (sha256 "
                            f"{str(given)[:12]} vs recorded {str(recorded)[:12]})", file=path,
                            field=f"{side}/traces_sha256")
    ids = sorted(random.Random(seed).sample([ex["id"] for ex in doc["examples"]],
                                            min(sample, len(doc["examples"]))))
    # the recorded settings (verbatim, or implied by the fields of an older file), the protocol's recorded parameters
    asked = EvalSettings.from_result(doc).kwargs() | {"protocol_params": doc["protocol"]["params"]}
    uses_judge = get_protocol(asked["protocol"]).uses_judge
    for role, given in (("action_model", action_model), ("judge", judge)):
        if given is not None:
            asked[role] = given
        elif role == "action_model" or uses_judge:  # a name read from the (untrusted) file
            backend = (asked["judge_backend"] or asked["backend"]) if role == "judge" else asked["backend"]
            _loadable(asked[role], backend, file=result_path, field=f"eval_settings/{role}")
    with tempfile.TemporaryDirectory(prefix="reconbench-verify-") as tmp:
        again = evaluate(method_traces, baseline_traces, pack, user, method_name=doc["method"]["name"],
                         baseline_name=doc["baseline"]["name"], **asked, only_ids=ids,
                         method_user=doc["method"].get("user"),
                         out=Path(tmp) / "verify.json")
    for role in ("action_model", "judge"):
        if again[role]["fingerprint"] != doc[role]["fingerprint"]:
            raise DataError(f"the {role} loaded here is not the recorded one (fingerprint "
                            f"{again[role]['fingerprint'][:12]} vs {doc[role]['fingerprint'][:12]})",
                            file=result_path, field=f"{role}/fingerprint")
        here, there = precision(again[role]), precision(doc[role])
        if here != there:  # other numbers by design, not a forgery: say so rather than name a disagreeing number
            raise DataError(f"the {role} computes in {here} here; the result was made in {there}, so its numbers "
                            "cannot be recomputed on this machine (verify it where that precision is the default, "
                            "or pass an LM loaded in it)", file=result_path, field=f"{role}/dtype")
    recorded = {ex["id"]: ex for ex in doc["examples"]}
    for ex in again["examples"]:
        mine, theirs = _numbers(ex["raw"]), _numbers(recorded[ex["id"]]["raw"])
        for key in sorted(set(mine) | set(theirs)):
            if not _agree(mine.get(key), theirs.get(key)):
                raise DataError(f"recomputed {key.lstrip('/')} = {mine.get(key)!r}, the result says "
                                f"{theirs.get(key)!r}: the result is not what its inputs give", file=result_path,
                                record=ex["id"], field=f"examples/raw{key}")
    return {"checked": len(ids), "ids": ids}
