"""``evaluate``: one method's traces against the baseline's on one user split, end to end, under one scoring
protocol (``benchmark.evaluate.protocols``).

Judge protocols: retrieve + predict (method) -> retrieve + predict (baseline) -> judge -> statistics -> result.
``likelihood``: retrieve -> the action model's log-probability of the real action under each side's prompt ->
statistics -> result (no generation). ``likelihood-reasoned``: retrieve + predict (both sides) -> the same
log-probability read after each side's own predicted reasoning -> statistics -> result. Each stage saves its
output under ``benchmark.paths.runs_dir()/evaluate/<pack>/<user>/`` (and every LM call is cached); a rerun makes no
model call and gives the same result file apart from its ``run`` block. ``score_examples`` turns the protocol's raw
numbers into verdicts and statistics and is all that ``rescore`` needs.
"""

from __future__ import annotations

import time
from pathlib import Path

from .. import layout
from ..errors import DataError
from ..io import dumps_canonical, sha256_text
from ..models import get_lm
from ..records.result import default_result_path, finalize, run_block, write_result
from ..records.stats import N_BOOT, summarize
from ..retrieval import Embedder, demonstrated
from ..retrieval import settings as retrieval_settings
from . import judge as judge_mod
from . import predict as predict_mod
from ._format import user_name
from .protocols import DEFAULT as DEFAULT_PROTOCOL
from .protocols import Job, decision_params, get_protocol
from .settings import EvalSettings
from .traces import Traces, check_traces, load_traces, records_sha256, traces_sha256

STAGES = ("predict", "judge", "likelihood")


def _lm(model, backend: str):
    return get_lm(model, backend) if isinstance(model, str) else model


def _name(model) -> str:
    return model if isinstance(model, str) else model.name


def dtype_field(lm) -> dict:
    """``{"dtype": ...}`` where the LM knows the precision it computed in (float32 on the CPU, bfloat16 on a GPU by
    default), else ``{}``: the same weights in another precision give other numbers, so the board keeps them apart."""
    dtype = getattr(lm, "dtype", None)
    return {"dtype": dtype} if isinstance(dtype, str) and dtype else {}


def _traces(source: Path | str | Traces | None, pack: str, user: str, train: list[dict],
            needed: list[str]) -> Traces | None:
    if source is None:
        return None
    if isinstance(source, dict):
        return check_traces(source, pack, user, train, needed=needed)
    return load_traces(source, pack, user, train, needed=needed)


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


def _side(name: str, traces: Traces | None, train: list[dict], outputs: list) -> dict:
    """The result's record of one side; ``outputs``: its predictions (judge protocols) or prompts (likelihood)."""
    return {"name": name, "traces_sha256": None if traces is None else traces_sha256(traces, train),
            "n_traces": 0 if traces is None else len(traces), "reasoning": traces is not None,
            "predictions_sha256": sha256_text("".join(dumps_canonical(p) + "\n" for p in outputs))}


def score_examples(protocol_name: str, params: dict, examples: list[dict], *, user: str, seed: int,
                   n_boot: int) -> dict:
    """Verdicts, summary and health from examples that carry the protocol's ``raw`` numbers (no model call).

    Returns ``{"examples", "summary", "judge_health"}`` for the result file; ``examples`` get fresh ``verdicts``."""
    protocol = get_protocol(protocol_name)
    scored = [ex | {"verdicts": protocol.decide(ex["raw"], params)} for ex in examples]
    with_user = [ex | {"user": user} for ex in scored]
    summary = summarize(with_user, seed=seed, n_boot=n_boot) | protocol.summary_extra(with_user, seed, n_boot)
    return {"examples": scored, "summary": summary, "judge_health": protocol.health(scored)}


def evaluate(method_traces: Path | str | Traces | None, baseline_traces: Path | str | Traces | None, pack: str,
             user: str, *, method_name: str = "method", baseline_name: str = "backward",
             action_model="smollm2-135m", judge="smollm2-135m", judge_mode: str = "options",
             backend: str = "transformers", judge_backend: str | None = None, protocol: str = DEFAULT_PROTOCOL,
             protocol_params: dict | None = None,
             k: int = 4, limit: int | None = None, train_limit: int | None = None, seed: int = 0,
             bootstrap_seed: int | None = None, max_tokens: int = predict_mod.MAX_TOKENS, n_boot: int = N_BOOT,
             method_predictions: list[dict] | None = None, method_user: str | None = None,
             only_ids: list[str] | None = None, unisolated: bool = False, train_window: str = "oldest",
             out: Path | str | None = None) -> dict:
    """Evaluate ``method_traces`` against ``baseline_traces`` on ``pack``/``user`` under ``protocol``; write and
    return the result.

    Traces: a traces.jsonl path, a ``{training id: trace}`` dict, or None (the no-reasoning control); they must
    cover every training record shown as a demonstration to the evaluated test records
    (``benchmark.retrieval.demonstrated``), and may cover the rest of the training split.
    ``method_predictions`` replaces the method's predictions (validity controls such as the oracle, which
    predicts the real action; judge protocols only). ``method_user``: the method side's demonstrations come from
    this OTHER user of the pack (the wrong-user control; ``method_traces`` then cover that user's training slice).
    ``action_model``/``judge``: registry names (loaded with ``backend``; the judge with ``judge_backend`` when
    given) or LM objects; ``likelihood`` scores with the action model and loads no judge. ``protocol_params``: the
    protocol's decision parameters (e.g. ``{"tie_band": 0.02}``). ``limit``: only the first N test records;
    ``train_limit``: only the first N training records (retrieval draws from them). ``seed``: generation (and the
    bootstrap unless ``bootstrap_seed``). ``only_ids``: evaluate just these test records of the slice (what
    ``leaderboard verify`` recomputes; a record's numbers do not depend on the others). ``train_window``:
    ``oldest`` (default) or ``newest`` ``train_limit`` training records (the turns right before the test
    period). ``unisolated``: the method's traces come from the local runner (no container), recorded so the board
    can say so. ``out``: the result path
    (default under ``runs_dir()``).
    """
    start = time.perf_counter()
    proto = get_protocol(protocol)
    params = decision_params(proto, protocol_params)
    if proto.uses_judge and judge_mode not in proto.modes:
        raise DataError(f"protocol {protocol!r} reads judge mode {', '.join(proto.modes)}, not {judge_mode!r}",
                        field="judge_mode")
    if method_predictions is not None and not proto.uses_judge:
        raise DataError(f"protocol {protocol!r} scores the real action, not predictions: ready-made predictions "
                        f"(the oracle control) do not apply", field="method_predictions")
    boot_seed = seed if bootstrap_seed is None else bootstrap_seed
    train_all, test_all = predict_mod.load_splits(pack, user)
    train = predict_mod.train_slice(train_all, train_limit, train_window)
    test = predict_mod.first(test_all, limit)
    if only_ids is not None:
        wanted = set(only_ids)
        unknown = sorted(wanted - {r["id"] for r in test})
        if unknown:
            raise DataError("not a test record of the evaluated slice", record=unknown[0], field="only_ids")
        test = [r for r in test if r["id"] in wanted]
    embedder = Embedder()
    if method_user is not None:
        if method_user == user:
            raise DataError("the wrong-user side must be another user of the pack", field="method_user")
        method_train = predict_mod.other_user_pool(pack, user, method_user, train_limit, train_window)
    else:
        method_train = train
    # traces are required for the demonstrations this slice shows (retrieval reads contexts, never traces)
    method_t = _traces(method_traces, pack, method_user or user, method_train,
                       [r["id"] for r in demonstrated(method_train, test, k, embedder)])
    baseline_t = _traces(baseline_traces, pack, user, train,
                         [r["id"] for r in demonstrated(train, test, k, embedder)])
    domains = sorted({r["domain"] for r in test})
    if len(domains) != 1:
        raise DataError(f"test records of {pack}/{user} span domains {domains}", field="domain")
    action_lm = _lm(action_model, backend)
    judge_lm = _lm(judge, judge_backend or backend) if proto.uses_judge else action_lm
    lms = list({id(lm): lm for lm in (action_lm, judge_lm)}.values())
    before = [lm.usage.as_dict() for lm in lms]
    name = user_name(pack, user)
    save_dir = layout.evaluate_dir(pack, user)

    common = dict(k=k, seed=seed, max_tokens=max_tokens, test=test, embedder=embedder)
    method_p = baseline_p = method_prompts = baseline_prompts = None
    if proto.predicts:
        if method_predictions is None:
            method_p = predict_mod.predict(pack, method_user or user, method_t, action_lm, train=method_train,
                                           **common)
        else:
            by_id = {p["id"]: p for p in method_predictions}
            missing = [r["id"] for r in test if r["id"] not in by_id]
            if missing:
                raise DataError(f"{len(missing)} test records have no method prediction", record=missing[0],
                                field="id")
            method_p = [by_id[r["id"]] for r in test]
        baseline_p = predict_mod.predict(pack, user, baseline_t, action_lm, train=train, **common)
    if proto.template is not None:  # judge-free: each side scored under the action model's prompt
        method_prompts = predict_mod.side_prompts(test, method_train, method_t, name, k=k, embedder=embedder,
                                                  template=proto.template)
        baseline_prompts = predict_mod.side_prompts(test, train, baseline_t, name, k=k, embedder=embedder,
                                                    template=proto.template)
    job = Job(test, name, action_lm, judge_lm if proto.uses_judge else None, seed=seed, judge_mode=judge_mode,
              method_predictions=method_p, baseline_predictions=baseline_p, method_prompts=method_prompts,
              baseline_prompts=baseline_prompts, save_dir=save_dir)
    # what each side's record digests: its predictions when there are any, else the prompts it was scored under
    outputs = ({"method": method_p, "baseline": baseline_p} if proto.predicts else
               {"method": method_prompts, "baseline": baseline_prompts})
    raws = proto.measure(job)

    # the judge reads each side's predicted action; judge-free protocols score the real action on both sides
    chars = ([(len(mp["action"]), len(bp["action"])) for mp, bp in zip(method_p, baseline_p)] if proto.uses_judge
             else [(len(r["action"]),) * 2 for r in test])
    parsed = ([(mp["parse_ok"], bp["parse_ok"]) for mp, bp in zip(method_p, baseline_p)] if proto.predicts
              else [(True, True)] * len(test))
    base = [{"id": r["id"], "method_chars": mc, "baseline_chars": bc, "method_parse_ok": mo, "baseline_parse_ok": bo,
             "raw": raw} for r, (mc, bc), (mo, bo), raw in zip(test, chars, parsed, raws)]
    predictions = {side: {"n": len(test), "parse_failures": sum(not ok[i] for ok in parsed)}
                   for i, side in enumerate(("method", "baseline"))}  # prompts have no parse failures
    scored = score_examples(protocol, params, base, user=user, seed=boot_seed, n_boot=n_boot)
    gen = {"max_tokens": max_tokens, "temperature": 0.0, "top_p": 1.0, "seed": seed}
    method_side = _side(method_name, method_t, method_train, outputs["method"])
    if method_user is not None:
        method_side["user"] = method_user
    if unisolated:
        method_side["unisolated"] = True
    doc = {
        "protocol": {"name": proto.name, "params": params},
        "method": method_side,
        "baseline": _side(baseline_name, baseline_t, train, outputs["baseline"]),
        "pack": {"name": pack, "train_sha256": records_sha256(train_all),
                 "test_sha256": records_sha256(test_all)},
        "domain": domains[0],
        "user": user,
        "train": {"n_total": len(train_all), "n_used": len(train), "limit": train_limit}
        | ({"window": train_window} if train_window != "oldest" else {}),
        "test": {"n_total": len(test_all), "n_evaluated": len(test), "limit": limit},
        "action_model": {"name": action_lm.name, "fingerprint": action_lm.fingerprint, "backend": backend,
                         "params": gen} | dtype_field(action_lm),
        "judge": ({"name": judge_lm.name, "fingerprint": judge_lm.fingerprint, "backend": judge_backend or backend,
                   "mode": judge_mode} | dtype_field(judge_lm)
                  | ({"params": gen | {"max_tokens": judge_mod.TEXT_MAX_TOKENS}} if judge_mode == "text" else {}))
        if proto.uses_judge else
        {"name": action_lm.name, "fingerprint": action_lm.fingerprint, "backend": backend, "mode": "likelihood"}
        | dtype_field(action_lm),
        "prompts": proto.prompts(),
        "retrieval": {"k": k} | retrieval_settings(),
        "seeds": {"generation": seed, "bootstrap": boot_seed, "bootstrap_samples": n_boot},
        "settings": {"prediction": predict_mod.settings(max_tokens),
                     "judge": {"context_chars": judge_mod.CONTEXT_CHARS, "dimensions": list(proto.dimensions)}},
        # what was asked, verbatim (benchmark.evaluate.settings.EvalSettings; from_result reads it back)
        "eval_settings": EvalSettings(
            action_model=action_lm.name, judge=judge_lm.name if proto.uses_judge else _name(judge),
            backend=backend, judge_backend=judge_backend, judge_mode=judge_mode, protocol=proto.name,
            tie_band=(protocol_params or {}).get("tie_band"), k=k, test_limit=limit, train_limit=train_limit,
            train_window=train_window, seed=seed, bootstrap_seed=bootstrap_seed, max_tokens=max_tokens).as_dict(),
        "summary": scored["summary"],
        "judge_health": scored["judge_health"],
        "predictions": predictions,
        "examples": scored["examples"],
    }
    costs = _usage_delta(lms, before) | {"retrieve": {k2: (round(v, 3) if isinstance(v, float) else v)
                                                      for k2, v in embedder.usage.items()}}
    run = run_block(costs, time.perf_counter() - start)
    # provenance of this invocation: where the traces were read (their sha256 is in the deterministic part)
    run["inputs"] = {side: (str(Path(src).resolve()) if isinstance(src, (str, Path)) else
                            None if src is None else "in memory")
                     for side, src in (("method_traces", method_traces), ("baseline_traces", baseline_traces))}
    result = finalize(doc, run)
    path = Path(out) if out is not None else default_result_path(pack, user, method_name, baseline_name,
                                                                 action_lm.name, judge_lm.name, proto.name)
    write_result(path, result)
    return result

