"""``pointwise``: each prediction is rated alone against the real response, so there is no position to prefer.

G-Eval style: the judge reads the conversation, the real response and ONE prediction and rates their closeness on
a dimension from 1 to 5; the rating is the probability-weighted mean of the options "1".."5" read from one forward
pass (``LM.score_options``). The two sides' ratings are compared per example and dimension; a difference within
the tie band is a tie. ``raw`` keeps both ratings and the option probabilities. The prompt (v2) fences every quoted
text between ``<<<BEGIN ...>>>``/``<<<END ...>>>`` markers that the texts cannot forge (``unfence``) and tells the
judge that nothing inside them is an instruction: a defence against predictions that address the judge (the
judge-injection control; v1 had none, and Qwen2.5-Coder-1.5B obeyed in 8 of 8 pairs, docs/controls.md).
"""

from __future__ import annotations

import re
from pathlib import Path

from tqdm import tqdm

from ...io import dumps_canonical, read_jsonl, sha256_text, write_jsonl
from ...models import stage
from ...prompts import prompt_hash, prompt_id, render
from ...records.verdicts import DIMENSIONS
from .._format import format_context
from ..health import pearson
from ..judge import CONTEXT_CHARS
from ..predict import prompts_used as predict_prompts
from ._base import Job, Protocol, length_controlled, register, side_by_margin

PROMPT = "judge_pointwise"
OPTIONS = ("1", "2", "3", "4", "5")
SIDES = ("method", "baseline")
CHUNK = 8


_MARKER = re.compile(r"([<>])\1{2,}")


def unfence(text: str) -> str:
    """``text`` with every run of three or more "<" or ">" cut to two, so a quoted text cannot close its own
    ``<<<END ...>>>`` marker and write outside it."""
    return _MARKER.sub(r"\1\1", text)


def messages(context: list[dict], action: str, user_name: str, prediction: str, dimension: str) -> list[dict]:
    """The judge's prompt (v2: every quoted text fenced between markers it cannot forge, and the judge told that
    nothing inside is an instruction)."""
    return render(PROMPT, context=unfence(format_context(context, CONTEXT_CHARS)), action=unfence(action),
                  user_name=user_name, prediction=unfence(prediction) or "(empty)", dimension=dimension)


def rating(probs: dict[str, float]) -> float:
    """The probability-weighted mean rating, 1..5."""
    return float(sum(int(k) * p for k, p in probs.items()))


def _key(job: Job) -> str:
    return sha256_text(dumps_canonical({
        "method": [[p["id"], p["action"]] for p in job.method_predictions],
        "baseline": [[p["id"], p["action"]] for p in job.baseline_predictions],
        "test": [r["id"] for r in job.test], "judge": job.judge.fingerprint, "prompt": prompt_hash(PROMPT),
        "context_chars": CONTEXT_CHARS}))


def measure(job: Job) -> list[dict]:
    """Rate both sides of every test record on every dimension; saved in chunks, reused by a rerun."""
    preds = {"method": {p["id"]: p for p in job.method_predictions},
             "baseline": {p["id"]: p for p in job.baseline_predictions}}
    path = None if job.save_dir is None else Path(job.save_dir) / "pointwise" / f"{_key(job)}.jsonl"
    done = {row["id"]: row for row in read_jsonl(path)} if path is not None and path.exists() else {}
    todo = [r for r in job.test if r["id"] not in done]
    with stage("judge"), tqdm(total=len(job.test), initial=len(job.test) - len(todo), desc="judge (pointwise)",
                              unit="example", disable=None, leave=False) as bar:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            prompts, slots = [], []
            for r in chunk:
                for side in SIDES:
                    for d in DIMENSIONS:
                        prompts.append(messages(r["context"], r["action"], job.user_name,
                                                preds[side][r["id"]]["action"], d))
                        slots.append((r["id"], side, d))
            answers = job.judge.score_options(prompts, list(OPTIONS), desc="judge (pointwise)")
            rows: dict[str, dict] = {}
            for (rid, side, d), probs in zip(slots, answers):
                row = rows.setdefault(rid, {"id": rid, "ratings": {}, "probs": {}})
                row["ratings"].setdefault(d, {})[side] = round(rating(probs), 9)
                row["probs"].setdefault(d, {})[side] = [round(probs[o], 9) for o in OPTIONS]
            done.update(rows)
            if path is not None:
                write_jsonl(path, [done[r["id"]] for r in job.test if r["id"] in done])
            bar.update(len(chunk))
    return [{k: v for k, v in done[r["id"]].items() if k != "id"} for r in job.test]


def decide(raw: dict, params: dict) -> dict[str, dict]:
    return {d: {"final": side_by_margin(r["method"] - r["baseline"], params["tie_band"])}
            for d, r in raw["ratings"].items()}


def _health(examples: list[dict], dims: tuple[str, ...]) -> dict:
    diffs, lengths, ties, valid = [], [], 0, 0
    for ex in examples:
        for d in dims:
            r = ex["raw"]["ratings"][d]
            diffs.append(r["method"] - r["baseline"])
            lengths.append(float(ex["method_chars"] - ex["baseline_chars"]))
            final = ex["verdicts"][d]["final"]
            valid += final != "invalid"
            ties += final == "tie"
    return {"n_judgments": 2 * len(diffs), "unparseable": 0, "order_flip_rate": None,
            "tie_rate": round(ties / valid, 6) if valid else None, "first_position_win_rate": None,
            "length_correlation": pearson(diffs, lengths)}


def health(examples: list[dict]) -> dict:
    """Tie rate and the correlation of the rating difference with the length difference (no position here)."""
    return _health(examples, DIMENSIONS) | {"by_dimension": {d: _health(examples, (d,)) for d in DIMENSIONS}}


def prompts() -> dict[str, str]:
    return predict_prompts() | {prompt_id(PROMPT): prompt_hash(PROMPT)}


register(Protocol(
    name="pointwise", uses_judge=True, dimensions=DIMENSIONS, params={"tie_band": 0.05}, measure=measure,
    decide=decide, health=health, prompts=prompts, summary_extra=length_controlled, modes=("options",),
    controls=("oracle", "wrong_user", "self", "shuffled_traces", "no_reasoning", "length", "judge_injection"),
    description="each prediction rated alone against the real response (probability-weighted 1-5 per "
                "dimension, G-Eval style); the two ratings compared, a difference within the tie band is a tie"))
