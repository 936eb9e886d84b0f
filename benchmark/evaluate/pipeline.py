"""``evaluate``: one method's traces against the baseline's on one user split, end to end.

retrieve + predict (method) -> retrieve + predict (baseline) -> judge both orders -> statistics -> result file.
Each stage saves its output under ``benchmark.paths.runs_dir()/evaluate/<pack>/<user>/``; a rerun reads it back and
makes no model call, and gives the same result file apart from its ``run`` block.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import paths
from ..errors import DataError
from ..io import dumps_canonical, sha256_text
from ..models import get_lm
from . import judge as judge_mod
from . import predict as predict_mod
from .health import judge_health
from .result import default_result_path, finalize, run_block, write_result
from .retrieval import Embedder
from .retrieval import settings as retrieval_settings
from .stats import N_BOOT, summarize
from .traces import Traces, check_traces, load_traces, records_sha256, traces_sha256
from ._format import user_name
from ._verdicts import DIMENSIONS

STAGES = ("predict", "judge")


def _lm(model, backend: str):
    return get_lm(model, backend) if isinstance(model, str) else model


def _traces(source: Path | str | Traces | None, pack: str, user: str, train: list[dict]) -> Traces | None:
    if source is None:
        return None
    if isinstance(source, dict):
        return check_traces(source, pack, user, train)
    return load_traces(source, pack, user, train)


def _usage_delta(lms: list, before: list[dict]) -> dict:
    out = {s: {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "seconds": 0.0, "cache_hits": 0}
           for s in STAGES}
    for lm, prev in zip(lms, before):
        for s in STAGES:
            now, was = lm.usage.as_dict().get(s, {}), prev.get(s, {})
            for field in out[s]:
                out[s][field] += now.get(field, 0) - was.get(field, 0)
    for s in out.values():
        s["seconds"] = round(s["seconds"], 3)
    return out


def _side(name: str, traces: Traces | None, train: list[dict], predictions: list[dict]) -> dict:
    return {"name": name, "traces_sha256": None if traces is None else traces_sha256(traces, train),
            "n_traces": 0 if traces is None else len(traces), "reasoning": traces is not None,
            "predictions_sha256": sha256_text("".join(dumps_canonical(p) + "\n" for p in predictions))}


def evaluate(method_traces: Path | str | Traces | None, baseline_traces: Path | str | Traces | None, pack: str,
             user: str, *, method_name: str = "method", baseline_name: str = "backward",
             action_model="smollm2-135m", judge="smollm2-135m", judge_mode: str = "options",
             backend: str = "transformers", k: int = 4, limit: int | None = None, train_limit: int | None = None,
             seed: int = 0,
             max_tokens: int = predict_mod.MAX_TOKENS, n_boot: int = N_BOOT,
             method_predictions: list[dict] | None = None, out: Path | str | None = None) -> dict:
    """Evaluate ``method_traces`` against ``baseline_traces`` on ``pack``/``user``; write and return the result.

    Traces: a traces.jsonl path, a ``{training id: trace}`` dict, or None (the no-reasoning control).
    ``method_predictions`` replaces the method's predictions (validity controls such as the oracle, which
    predicts the real action). ``action_model``/``judge``: registry names (loaded with ``backend``) or LM
    objects. ``limit``: only the first N test records; ``train_limit``: only the first N training records (the
    traces must cover exactly those; retrieval draws from them). ``out``: the result path (default under ``runs_dir()``).
    """
    start = time.perf_counter()
    train_all, test_all = predict_mod.load_splits(pack, user)
    train, test = predict_mod.first(train_all, train_limit), predict_mod.first(test_all, limit)
    method_t = _traces(method_traces, pack, user, train)
    baseline_t = _traces(baseline_traces, pack, user, train)
    domains = sorted({r["domain"] for r in test})
    if len(domains) != 1:
        raise DataError(f"test records of {pack}/{user} span domains {domains}", field="domain")
    action_lm, judge_lm = _lm(action_model, backend), _lm(judge, backend)
    lms = list({id(lm): lm for lm in (action_lm, judge_lm)}.values())
    before = [lm.usage.as_dict() for lm in lms]
    embedder = Embedder()

    common = dict(k=k, seed=seed, max_tokens=max_tokens, train=train, test=test, embedder=embedder)
    if method_predictions is None:
        method_p = predict_mod.predict(pack, user, method_t, action_lm, **common)
    else:
        by_id = {p["id"]: p for p in method_predictions}
        missing = [r["id"] for r in test if r["id"] not in by_id]
        if missing:
            raise DataError(f"{len(missing)} test records have no method prediction", record=missing[0], field="id")
        method_p = [by_id[r["id"]] for r in test]
    baseline_p = predict_mod.predict(pack, user, baseline_t, action_lm, **common)

    key = judge_mod.verdicts_key(method_p, baseline_p, judge_lm, judge_mode, seed)
    rows = judge_mod.judge_pairs(test, method_p, baseline_p, judge_lm, user_name=user_name(pack, user),
                                 mode=judge_mode, seed=seed,
                                 path=paths.runs_dir() / "evaluate" / pack / user / "verdicts" / f"{key}.jsonl")

    examples = [{"id": row["id"], "method_chars": row["method_chars"], "baseline_chars": row["baseline_chars"],
                 "method_parse_ok": mp["parse_ok"], "baseline_parse_ok": bp["parse_ok"],
                 "verdicts": {d: row["verdicts"][d] for d in DIMENSIONS}}
                for row, mp, bp in zip(rows, method_p, baseline_p)]
    gen = {"max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "seed": seed}
    doc = {
        "method": _side(method_name, method_t, train, method_p),
        "baseline": _side(baseline_name, baseline_t, train, baseline_p),
        "pack": {"name": pack, "train_sha256": records_sha256(train_all),
                 "test_sha256": records_sha256(test_all)},
        "domain": domains[0],
        "user": user,
        "train": {"n_total": len(train_all), "n_used": len(train), "limit": train_limit},
        "test": {"n_total": len(test_all), "n_evaluated": len(test), "limit": limit},
        "action_model": {"name": action_lm.name, "fingerprint": action_lm.fingerprint, "backend": backend,
                         "params": gen},
        "judge": {"name": judge_lm.name, "fingerprint": judge_lm.fingerprint, "backend": backend,
                  "mode": judge_mode} | ({"params": gen | {"max_tokens": judge_mod.TEXT_MAX_TOKENS}}
                                         if judge_mode == "text" else {}),
        "prompts": predict_mod.prompts_used() | judge_mod.prompts_used(),
        "retrieval": {"k": k} | retrieval_settings(),
        "seeds": {"generation": seed, "bootstrap": seed, "bootstrap_samples": n_boot},
        "settings": {"prediction": predict_mod.settings(max_tokens),
                     "judge": {"context_chars": judge_mod.CONTEXT_CHARS, "dimensions": list(DIMENSIONS)}},
        "summary": summarize([ex | {"user": user} for ex in examples], seed=seed, n_boot=n_boot),
        "judge_health": judge_health(examples),
        "predictions": {side: {"n": len(p), "parse_failures": sum(not x["parse_ok"] for x in p)}
                        for side, p in (("method", method_p), ("baseline", baseline_p))},
        "examples": examples,
    }
    costs = _usage_delta(lms, before) | {"retrieve": {k2: (round(v, 3) if isinstance(v, float) else v)
                                                      for k2, v in embedder.usage.items()}}
    result = finalize(doc, run_block(costs, time.perf_counter() - start))
    path = Path(out) if out is not None else default_result_path(pack, user, method_name, baseline_name,
                                                                 action_lm.name, judge_lm.name)
    write_result(path, result)
    return result
