"""Run the validity controls on one user split through the ordinary evaluation pipeline.

Backward Synthesis traces for the whole training split come from ``--traces`` or are synthesized once with
``benchmark.synthesize`` (config ``cpu`` by default) under ``runs_dir()/controls/<pack>/<user>/``; every control is
then one ``benchmark.evaluate.evaluate`` call, whose predictions, verdicts and LM calls are saved, so a rerun makes
no model call and gives the same report apart from its ``run`` block.
"""

from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from .. import paths
from ..evaluate import evaluate, load_splits, load_traces, traces_sha256
from ..evaluate.predict import MAX_TOKENS, first
from ..evaluate.result import run_block
from ..models import get_lm
from .definitions import (BASELINE, CONTROLS, FAIL, LENGTH_MAX_ABS_CORRELATION, ORACLE_MIN_WIN_RATE, PASS,
                          SELF_MIN_TIE_RATE, Inputs)
from .report import finalize

HEALTH_FIELDS = ("order_flip_rate", "tie_rate", "first_position_win_rate", "length_correlation")


def controls_dir(pack: str, user: str) -> Path:
    """Where the controls of ``pack``/``user`` keep their backward traces and result files."""
    return paths.runs_dir() / "controls" / pack / user


def backward_traces(pack: str, user: str, train: list[dict], *, config: str = "cpu") -> Path:
    """The path of Backward Synthesis traces for the whole training split, synthesized with ``config`` the first
    time (the synthesizer resumes from what is on disk and its LM calls are cached)."""
    from ..runners import prepare_input
    from ..synthesize import synthesize

    work = controls_dir(pack, user) / f"backward-{config}"
    prepare_input(work / "input", pack=pack, user=user, records=train)
    synthesize("backward", work / "input", work / "output", config=config)
    return work / "output" / "traces.jsonl"


def _slug(s: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in s)


def run_controls(pack: str, user: str, *, traces: Path | str | None = None, config: str = "cpu",
                 action_model="smollm2-135m", judge="smollm2-135m", judge_mode: str = "options",
                 backend: str = "transformers", k: int = 4, limit: int | None = None,
                 train_limit: int | None = None, seed: int = 0, max_tokens: int = MAX_TOKENS, command: str | None = None) -> dict:
    """Run every control in ``CONTROLS`` on ``pack``/``user`` and return the validated report.

    ``traces``: a Backward Synthesis traces.jsonl for the training split (synthesized with ``config`` when None).
    ``action_model``/``judge``: registry names (loaded with ``backend``) or LM objects. ``limit``: the first N test
    records; ``train_limit``: only the first N training records (traces, retrieval and shuffling use just those,
    which makes Backward Synthesis affordable on a CPU). ``seed``: generation, bootstrap and the shuffling of traces. ``max_tokens``: of each prediction.
    ``command``: recorded in the report."""
    start = time.perf_counter()
    train_all, test_all = load_splits(pack, user)
    train, test = first(train_all, train_limit), first(test_all, limit)
    path = Path(traces) if traces is not None else backward_traces(pack, user, train, config=config)
    backward = load_traces(path, pack, user, train)
    inputs = Inputs(pack, user, train, test, backward, seed)
    action_lm = get_lm(action_model, backend) if isinstance(action_model, str) else action_model
    judge_lm = get_lm(judge, backend) if isinstance(judge, str) else judge
    out_dir = controls_dir(pack, user) / "results" / f"{_slug(action_lm.name)}--{_slug(judge_lm.name)}"

    results: dict[str, dict] = {}
    comparisons = {}
    for name, ctl in tqdm([(n, c) for n, c in CONTROLS.items() if c.compare], desc="controls", unit="control",
                          disable=None):
        cmp = ctl.compare(inputs)
        comparisons[name] = cmp
        results[name] = evaluate(cmp.method_traces, cmp.baseline_traces, pack, user, method_name=cmp.method_name,
                                 baseline_name=BASELINE, action_model=action_lm, judge=judge_lm,
                                 judge_mode=judge_mode, backend=backend, k=k, limit=limit,
                                 train_limit=train_limit, seed=seed,
                                 max_tokens=max_tokens, method_predictions=cmp.method_predictions,
                                 out=out_dir / f"{name}.json")

    entries = []
    for name, ctl in CONTROLS.items():
        result = results.get(name)
        m = ctl.check(result, results)
        entry = {"name": name, "expectation": ctl.expectation, "comparison": None, "metric": m.metric,
                 "value": m.value, "status": m.status, "reason": m.reason, "counts": None, "judge_health": None,
                 "result_digest": None, "meta": {}}
        if result is not None:
            headline = result["summary"]["headline"]
            stat = result["summary"]["dimensions"][headline]
            health = result["judge_health"]["by_dimension"][headline]
            entry |= {"comparison": {"method": result["method"]["name"], "baseline": result["baseline"]["name"]},
                      "counts": {f: stat[f] for f in ("n", "wins", "losses", "ties", "invalid")},
                      "judge_health": {f: health[f] for f in HEALTH_FIELDS},
                      "result_digest": result["digest"], "meta": comparisons[name].meta}
        entries.append(entry)

    any_result = next(iter(results.values()))
    doc = {
        "pack": any_result["pack"], "user": user, "domain": any_result["domain"], "test": any_result["test"],
        "train": any_result["train"],
        "action_model": {f: any_result["action_model"][f] for f in ("name", "fingerprint", "backend")},
        "judge": {f: any_result["judge"][f] for f in ("name", "fingerprint", "backend", "mode")},
        "backward_traces": {"sha256": traces_sha256(backward, train), "n_traces": len(backward),
                            "source": "file" if traces is not None else f"synthesized with config {config}"},
        "settings": {"k": k, "seed": seed, "max_tokens": max_tokens, "thresholds": {
            "oracle_min_win_rate": ORACLE_MIN_WIN_RATE, "self_min_tie_rate": SELF_MIN_TIE_RATE,
            "length_max_abs_correlation": LENGTH_MAX_ABS_CORRELATION}},
        "controls": entries,
        "passed": sum(e["status"] == PASS for e in entries),
        "failed": sum(e["status"] == FAIL for e in entries),
        "command": command,
    }
    costs = {name: r["run"]["costs"] for name, r in results.items()}
    return finalize(doc, run_block(costs, time.perf_counter() - start))
