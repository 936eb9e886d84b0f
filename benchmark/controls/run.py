"""Run the validity controls on one user split through the ordinary evaluation pipeline.

The Backward Synthesis traces a control needs come from a file (``traces``) or from ``backward``, a callable the
caller hands in (``benchmark.orchestrate.controls.backward_traces`` synthesizes them under the runs folder), asked
only for the training records retrieval shows to the evaluated test slice (``benchmark.retrieval.demonstrated``: a
trace never shown cannot change a number; on debates/biden, 60 test turns show 92 of 475 training turns) and, for the
wrong-user control, for the other user's shown records. This module runs no synthesis itself: chaining stages is
``benchmark.orchestrate``'s job. Every control is then one ``benchmark.evaluate.evaluate`` call, whose predictions,
verdicts and LM calls are saved, so a rerun makes no model call and gives the same report apart from its ``run`` block.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from .. import layout
from ..errors import DataError
from ..evaluate import evaluate, load_splits, load_traces, traces_sha256
from ..evaluate.predict import MAX_TOKENS, first, other_user_pool, predict, train_slice
from ..evaluate.protocols import DEFAULT as DEFAULT_PROTOCOL
from ..evaluate.protocols import decision_params, get_protocol
from ..models import get_lm
from ..records.controls_report import FAIL, NA, NOT_RUN, PASS, finalize, ranking
from ..records.result import run_block
from ..retrieval import Embedder, demonstrated
from .definitions import (
    BASELINE,
    CONTROLS,
    LENGTH_FROM,
    THRESHOLDS,
    Inputs,
    Measurement,
    recheck,
)

HEALTH_FIELDS = ("order_flip_rate", "tie_rate", "first_position_win_rate", "length_correlation")


def controls_dir(pack: str, user: str) -> Path:
    """Where the controls of ``pack``/``user`` keep their backward traces and result files."""
    return layout.controls_dir(pack, user)


# (pack, user, training records to cover) -> the path of a Backward Synthesis traces.jsonl covering them
BackwardTraces = Callable[[str, str, list[dict]], Path]


def other_user(pack: str, user: str) -> str | None:
    """The first other user of ``pack`` in its spec (the wrong-user control's demonstrations); None if alone."""
    from ..packs import load_spec

    return next((u["id"] for u in load_spec(pack)["users"] if u["id"] != user), None)


def run_controls(pack: str, user: str, *, traces: Path | str | None = None, backward: BackwardTraces | None = None,
                 source: str | None = None,
                 action_model="smollm2-135m", judge="smollm2-135m", judge_mode: str = "options",
                 backend: str = "transformers", judge_backend: str | None = None, protocol: str = DEFAULT_PROTOCOL,
                 protocol_params: dict | None = None, k: int = 4, limit: int | None = None,
                 train_limit: int | None = None, seed: int = 0, bootstrap_seed: int | None = None,
                 max_tokens: int = MAX_TOKENS,
                 only: list[str] | None = None, train_window: str = "oldest", command: str | None = None) -> dict:
    """Run every control in ``CONTROLS`` that applies to ``protocol`` on ``pack``/``user``; return the validated
    report (the others are recorded N/A, with why).

    ``traces``: a Backward Synthesis traces.jsonl for the training split; ``backward``: where traces come from
    otherwise, and always for the other user's (the wrong-user control), called as ``backward(pack, user, records)``;
    ``source``: how ``backward`` makes them, recorded in the report. ``only``: run
    just these controls (a quick probe; the others are N/A, so such a report never ranks).
    ``action_model``/``judge``: registry names (loaded with ``backend``) or LM objects. ``limit``: the first N test
    records; ``train_limit``: only the first N training records (traces, retrieval and shuffling use just those,
    which makes Backward Synthesis affordable on a CPU). ``seed``: generation, bootstrap and the shuffling of traces.
    ``max_tokens``: of each prediction.
    ``command``: recorded in the report."""
    start = time.perf_counter()
    proto = get_protocol(protocol)
    params = decision_params(proto, protocol_params)
    train_all, test_all = load_splits(pack, user)
    train, test = train_slice(train_all, train_limit, train_window), first(test_all, limit)
    embedder = Embedder()
    # Backward Synthesis is needed only for the training records retrieval shows to this test slice
    unknown = sorted(set(only or []) - set(CONTROLS))
    if unknown:
        raise DataError(f"unknown control {unknown[0]!r}; known: {', '.join(CONTROLS)}", field="only")
    wanted = set(only) if only else set(CONTROLS)
    other = other_user(pack, user) if "wrong_user" in proto.controls and "wrong_user" in wanted else None
    other_train = other_backward = None
    # why the wrong-user control cannot run although the pack has another user (checked before any synthesis)
    no_other_pool = None
    if other is not None:
        try:
            other_train = other_user_pool(pack, user, other, train_limit, train_window)
        except DataError as e:
            if e.field != "method_user":
                raise
            other, no_other_pool = None, e.message
    if backward is None and (traces is None or other is not None):
        raise DataError("the controls need Backward Synthesis traces: pass a traces file"
                        + (" and a way to make the other user's (the wrong-user control)" if other else "")
                        + " (reconbench controls synthesizes them itself)", field="traces")
    shown = demonstrated(train, test, k, embedder)
    path = Path(traces) if traces is not None else backward(pack, user, shown)
    backward_own = load_traces(path, pack, user, train, needed=[r["id"] for r in shown])
    if other is not None:
        other_shown = demonstrated(other_train, test, k, embedder)
        other_backward = load_traces(backward(pack, other, other_shown), pack, other, other_train,
                                     needed=[r["id"] for r in other_shown])
    inputs = Inputs(pack, user, train, test, backward_own, seed, other, other_train, other_backward)
    action_lm = get_lm(action_model, backend) if isinstance(action_model, str) else action_model
    judge_lm = ((get_lm(judge, judge_backend or backend) if isinstance(judge, str) else judge) if proto.uses_judge
                else action_lm)
    out_dir = (controls_dir(pack, user) / "results" / proto.name /
               f"{layout.slug(action_lm.name)}--{layout.slug(judge_lm.name)}")

    results: dict[str, dict] = {}
    comparisons = {}
    not_applicable: dict[str, str] = {}
    not_run = [n for n in CONTROLS if n in proto.controls and n not in wanted]  # a probe never ranks
    for name, ctl in CONTROLS.items():
        if name not in proto.controls:
            not_applicable[name] = f"does not apply to the {proto.name} protocol"
        elif name in not_run:
            not_applicable[name] = NOT_RUN
        elif ctl.compare is not None and ctl.compare(inputs) is None:
            not_applicable[name] = no_other_pool or f"pack {pack} has no other user"
    for name, ctl in tqdm([(n, c) for n, c in CONTROLS.items() if c.compare and n not in not_applicable],
                          desc="controls", unit="control", disable=None):
        cmp = ctl.compare(inputs)
        comparisons[name] = cmp
        method_predictions = cmp.method_predictions
        if cmp.inject is not None:  # the baseline's own predictions (read back from disk), with the injection
            baseline_p = predict(pack, user, backward_own, action_lm, k=k, seed=seed, max_tokens=max_tokens,
                                 train=train, test=test, embedder=embedder)
            method_predictions = [p | {"action": p["action"] + cmp.inject} for p in baseline_p]
        results[name] = evaluate(cmp.method_traces, cmp.baseline_traces, pack, user, method_name=cmp.method_name,
                                 baseline_name=BASELINE, action_model=action_lm, judge=judge_lm,
                                 judge_mode=judge_mode, backend=backend, judge_backend=judge_backend,
                                 protocol=proto.name, protocol_params=params, k=k, limit=limit,
                                 train_limit=train_limit, seed=seed, bootstrap_seed=bootstrap_seed,
                                 max_tokens=max_tokens, method_predictions=method_predictions,
                                 method_user=cmp.method_user, train_window=train_window,
                                 out=out_dir / f"{name}.json")

    entries = []
    for name, ctl in CONTROLS.items():
        result = results.get(name)
        if name in not_applicable or (ctl.compare is None and not all(n in results for n in LENGTH_FROM)):
            m = Measurement("none", {"estimate": None, "ci_low": None, "ci_high": None}, NA,
                            not_applicable.get(name, "its comparisons were not run"))
        else:
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
    ranks, why = ranking({e["name"]: e["status"] for e in entries}, not_run)
    doc = {
        "protocol": {"name": proto.name, "params": params},
        # every prompt version the comparisons used: the board lets this report vouch only for results made with
        # the same prompts (a judge prompt changed after the controls ran is not what they checked)
        "prompts": dict(sorted({pid: h for r in results.values() for pid, h in r["prompts"].items()}.items())),
        "ranking": {"ranks": ranks, "reason": why},
        "pack": any_result["pack"], "user": user, "domain": any_result["domain"], "test": any_result["test"],
        "train": any_result["train"],
        "action_model": {f: any_result["action_model"][f] for f in ("name", "fingerprint", "backend", "dtype")
                         if f in any_result["action_model"]},
        "judge": {f: any_result["judge"][f] for f in ("name", "fingerprint", "backend", "mode", "dtype")
                  if f in any_result["judge"]},
        "backward_traces": {"sha256": traces_sha256(backward_own, train), "n_traces": len(backward_own),
                            "n_demonstrated": len(shown),
                            "source": "file" if traces is not None else (source or "synthesized")},
        "settings": {"k": k, "seed": seed, "max_tokens": max_tokens, "thresholds": dict(THRESHOLDS)},
        "controls": entries,
        "passed": sum(e["status"] == PASS for e in entries),
        "failed": sum(e["status"] == FAIL for e in entries),
        "command": command,
    }
    costs = {name: r["run"]["costs"] for name, r in results.items()}
    report = finalize(doc, run_block(costs, time.perf_counter() - start))
    recheck(report)  # what the board will ask of it: every status is what its recorded numbers decide
    return report
