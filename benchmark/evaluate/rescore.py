"""Re-decide a result from the raw numbers it recorded, without any model call: another tie band, or another
decision rule over the same judge calls (``pairwise`` and ``pairwise-calibrated`` read the same per-order
probabilities). The new result keeps everything else (predictions, fingerprints, prompts) and gets a new digest.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import DataError
from ..records.result import finalize, protocol_of, read_result, run_block, write_result
from .protocols import decision_params, get_protocol

# protocols that decide from the same raw numbers: a result made by one can be re-decided by the other
SAME_RAW = {"pairwise": {"pairwise", "pairwise-calibrated"}, "pairwise-calibrated": {"pairwise", "pairwise-calibrated"},
            "pointwise": {"pointwise"}, "likelihood": {"likelihood"}, "likelihood-reasoned": {"likelihood-reasoned"}}


def rescore(doc: dict, *, protocol: str | None = None, params: dict | None = None, file: object = None) -> dict:
    """``doc`` (a version 2 result) re-decided under ``protocol`` (default: its own) with ``params``."""
    from .pipeline import score_examples

    source = protocol_of(doc)
    target = protocol or source
    if any("raw" not in ex for ex in doc["examples"]):
        raise DataError("the result has no raw numbers to re-decide from (made before scoring protocols)",
                        file=file, field="examples/raw")
    if target not in SAME_RAW.get(source, set()):
        raise DataError(f"a {source} result cannot be re-decided as {target}: they read different numbers",
                        file=file, field="protocol/name")
    proto = get_protocol(target)
    given = dict(doc["protocol"]["params"]) if target == source else {}
    given = {k: v for k, v in given.items() if k in proto.params} | dict(params or {})
    decided = decision_params(proto, given)
    start = time.perf_counter()
    base = [{k: v for k, v in ex.items() if k != "verdicts"} for ex in doc["examples"]]
    scored = score_examples(target, decided, base, user=doc["user"], seed=doc["seeds"]["bootstrap"],
                            n_boot=doc["seeds"].get("bootstrap_samples", 2000))
    new = {k: v for k, v in doc.items() if k not in ("run", "digest")}
    new |= {"protocol": {"name": target, "params": decided}, "summary": scored["summary"],
            "judge_health": scored["judge_health"], "examples": scored["examples"]}
    new["settings"] = doc["settings"] | {"judge": doc["settings"]["judge"] | {"dimensions": list(proto.dimensions)}}
    if "eval_settings" in doc:  # what was asked of the new verdicts (None: the protocol's own band, as before)
        kept = doc["eval_settings"]["tie_band"] if target == source else None
        new["eval_settings"] = doc["eval_settings"] | {"protocol": target,
                                                      "tie_band": (params or {}).get("tie_band", kept)}
    return finalize(new, run_block({"rescore": {"calls": 0}}, time.perf_counter() - start))


def rescore_file(path: Path | str, out: Path | str, **kwargs) -> dict:
    doc = read_result(path)
    new = rescore(doc, file=path, **kwargs)
    write_result(out, new)
    return new
