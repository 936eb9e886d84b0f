"""The pairwise judge: which of two predicted actions is closer to the real action, per dimension.

Every example is judged on each dimension in both orders (method's prediction as A, then the baseline's as A);
``benchmark.records.verdicts.final_verdict`` turns the two choices into the final verdict, so a judge that
prefers a position produces ties, not wins. Two modes: ``options`` reads the judge's next-token probabilities of
"A" and "B" (``LM.score_options``; one forward pass, never unparseable except an exact tie in probability), and
``text`` generates a short reply and parses it strictly. A reply that cannot be parsed is recorded as ``None``,
counted in the judge health and makes that example's verdict ``invalid``.

Verdicts are saved under ``benchmark.paths.runs_dir()`` after every chunk of examples; a rerun reads them back and
calls the judge only for what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from tqdm import tqdm

from ..errors import DataError
from ..io import dumps_canonical, read_jsonl, sha256_text, write_jsonl
from ..models import GenParams, stage
from ..prompts import prompt_hash, prompt_id, render
from ..records.verdicts import DIMENSIONS, ORDERS, final_verdict
from ._format import format_context

PROMPT = "judge_pairwise"
OPTIONS = ("A", "B")
MODES = ("options", "text")
CONTEXT_CHARS = 1000  # the judge needs the situation, not the whole history; keeps prompts short on CPU
TEXT_MAX_TOKENS = 4
CHUNK = 8  # examples per saved chunk

# strict: the letter alone, optionally bracketed, quoted, bolded or after "Prediction"/"Answer:", and a full stop
_STRICT = re.compile(r"^\s*(?:answer\s*:\s*)?(?:prediction\s+)?[\"'*(\[]*([AB])[\"'*)\]]*\.?\s*$", re.I)


def parse_choice(reply: str) -> str | None:
    """``"A"`` or ``"B"`` from a text reply, or None when the reply is anything else (no guessing)."""
    m = _STRICT.match(reply)
    return m.group(1).upper() if m else None


def choice_from_probs(probs: dict[str, float]) -> str | None:
    """The more probable option; None on an exact tie (the judge expressed no preference)."""
    if probs["A"] == probs["B"]:
        return None
    return "A" if probs["A"] > probs["B"] else "B"


def judge_messages(context: list[dict], action: str, user_name: str, prediction_a: str, prediction_b: str,
                   dimension: str) -> list[dict]:
    return render(PROMPT, context=format_context(context, CONTEXT_CHARS), action=action, user_name=user_name,
                  prediction_a=prediction_a or "(empty)", prediction_b=prediction_b or "(empty)", dimension=dimension)


def choose(judge, prompts: list[list[dict]], *, mode: str, seed: int = 0, desc: str = "judge") -> list[dict]:
    """One ``{"choice", "probs"|"reply"}`` per prompt."""
    if mode == "options":
        return [{"choice": choice_from_probs(p), "probs": p}
                for p in judge.score_options(prompts, list(OPTIONS), desc=desc)]
    if mode == "text":
        params = GenParams(max_tokens=TEXT_MAX_TOKENS, temperature=0.0, seed=seed)
        return [{"choice": parse_choice(r[0]), "reply": r[0]} for r in judge.generate(prompts, params, desc=desc)]
    raise ValueError(f"unknown judge mode {mode!r}; known: {', '.join(MODES)}")


def verdicts_key(method_predictions: list[dict], baseline_predictions: list[dict], judge, mode: str,
                 seed: int) -> str:
    """What the verdicts depend on: both predictions, the judge's weights, the prompt and the mode."""
    return sha256_text(dumps_canonical({
        "method": [[p["id"], p["action"]] for p in method_predictions],
        "baseline": [[p["id"], p["action"]] for p in baseline_predictions],
        "judge": judge.fingerprint, "prompt": prompt_hash(PROMPT), "mode": mode, "seed": seed,
        "context_chars": CONTEXT_CHARS}))


def judge_pairs(test_records: list[dict], method_predictions: list[dict], baseline_predictions: list[dict], judge,
                *, user_name: str, mode: str = "options", seed: int = 0, path: Path | str | None = None) -> list[dict]:
    """Judge the method's against the baseline's prediction for every test record, every dimension, both orders.

    Returns one row per record, in test order: ``{"id", "method_chars", "baseline_chars", "verdicts": {dimension:
    {"method_first", "baseline_first", "final"}}, "detail": {dimension: {order: {"probs"|"reply"}}}}``. With
    ``path``, rows are saved there (JSON Lines) as they are made and rows already there are reused."""
    if mode not in MODES:
        raise ValueError(f"unknown judge mode {mode!r}; known: {', '.join(MODES)}")
    by_id = {}
    for side, preds in (("method", method_predictions), ("baseline", baseline_predictions)):
        have = {p["id"]: p for p in preds}
        missing = [r["id"] for r in test_records if r["id"] not in have]
        if missing:
            raise DataError(f"{len(missing)} test records have no {side} prediction (first: {missing[0]})",
                            record=missing[0], field="id")
        by_id[side] = have
    done: dict[str, dict] = {}
    if path is not None and Path(path).exists():
        done = {row["id"]: row for row in read_jsonl(path)}
    todo = [r for r in test_records if r["id"] not in done]
    with stage("judge"), tqdm(total=len(test_records), initial=len(test_records) - len(todo), desc="judge",
                              unit="example", disable=None, leave=False) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            prompts, slots = [], []
            for r in chunk:
                m, b = by_id["method"][r["id"]]["action"], by_id["baseline"][r["id"]]["action"]
                for d in DIMENSIONS:
                    for order, (a_text, b_text) in zip(ORDERS, ((m, b), (b, m))):
                        prompts.append(judge_messages(r["context"], r["action"], user_name, a_text, b_text, d))
                        slots.append((r["id"], d, order))
            answers = choose(judge, prompts, mode=mode, seed=seed, desc="judge")
            rows: dict[str, dict] = {}
            for (rid, d, order), ans in zip(slots, answers):
                row = rows.setdefault(rid, {
                    "id": rid,
                    "method_chars": len(by_id["method"][rid]["action"]),
                    "baseline_chars": len(by_id["baseline"][rid]["action"]),
                    "verdicts": {}, "detail": {}})
                row["verdicts"].setdefault(d, {})[order] = ans["choice"]
                row["detail"].setdefault(d, {})[order] = {k: v for k, v in ans.items() if k != "choice"}
            for row in rows.values():
                for v in row["verdicts"].values():
                    v["final"] = final_verdict(v["method_first"], v["baseline_first"])
            done.update(rows)
            if path is not None:
                write_jsonl(path, [done[r["id"]] for r in test_records if r["id"] in done])
            bar.update(len(chunk))
    return [done[r["id"]] for r in test_records]


def prompts_used() -> dict[str, str]:
    """``{template id: sha256}`` of the judge's prompt, for the result file."""
    return {prompt_id(PROMPT): prompt_hash(PROMPT)}
