"""Retrieval-augmented action prediction: the frozen action model imitates the user on each test context.

The prompt (``benchmark/prompts/action_prediction.v1.txt``) shows the k most similar training examples of the same
user as demonstrations (conversation, the method's trace as "Reasoning:", the real turn as "Response:"), then the
test conversation; the action model writes "Reasoning:" and then "Response:". Without traces (the no-reasoning
control) the prompt is the same minus the "Reasoning:" lines of the demonstrations. The demonstrations are ordered
least similar first, so the most similar one sits right before the test conversation.

Parsing: the action is the text after the last "Response:"; a completion without one (or with nothing after it)
counts as a parse failure, keeps its first paragraph as the action (see ``parse_prediction``), and is reported in
the result, never dropped.

Predictions are saved under ``benchmark.paths.runs_dir()`` after every chunk; a rerun reads them back and calls the
action model only for what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

from tqdm import tqdm

from .. import layout
from ..errors import DataError
from ..io import dumps_canonical, read_jsonl, sha256_text, write_jsonl
from ..models import GenParams, stage
from ..prompts import prompt_hash, prompt_id, render
from ..retrieval import Embedder, neighbours, shown
from ..retrieval import settings as retrieval_settings
from ..schema import validate
from ._format import format_context, user_name
from .traces import Traces, check_traces, traces_sha256

PROMPT = "action_prediction"
# Prompt budget per part, in characters: long Supreme Court turns would otherwise fill a small model's context.
LIMITS = {"context_chars": 1500, "demo_context_chars": 600, "trace_chars": 1000, "demo_action_chars": 600}
MAX_TOKENS = 256
STOP = ("\nExample ",)  # the model starting another demonstration means the turn is over
CHUNK = 8  # test examples per saved chunk

_RESPONSE = re.compile(r"\bresponse\s*\**\s*:\**", re.I)
_REASONING = re.compile(r"^\W*reasoning\s*\**\s*:\s*", re.I)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def parse_prediction(completion: str, name: str | None = None) -> dict:
    """``{"reasoning", "action", "parse_ok"}`` from a completion (see the module docstring). Without a
    "Response:", the fallback action is the first paragraph that is not an introduction ending in ":", less a
    leading "Reasoning:" or "<name>:" label (small models often narrate or continue the transcript instead of
    following the format); it still counts as a parse failure."""
    found = list(_RESPONSE.finditer(completion))
    if found:
        action = completion[found[-1].end():].strip().strip('"').strip()
        reasoning = _REASONING.sub("", completion[:found[-1].start()].strip()).strip()
        if action:
            return {"reasoning": reasoning, "action": action, "parse_ok": True}
    text = _REASONING.sub("", completion.strip()).strip()
    if name and text.lower().startswith(name.lower() + ":"):
        text = text[len(name) + 1:].strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()] or [""]
    # skip introductions such as "David Cameron's response is:" when something follows them
    action = next((p for p in paragraphs if not p.endswith(":")), "").strip('"').strip()
    return {"reasoning": "", "action": action, "parse_ok": False}


def reasoning_prefix(completion: str) -> str:
    """The action model's own text up to and including its last "Response:" label (as it wrote the label; the
    label ``parse_prediction`` cuts at), or, without one, its whole text followed by a new line and "Response:":
    what ``likelihood-reasoned`` continues with the real action."""
    found = list(_RESPONSE.finditer(completion))
    if found:
        return completion[:found[-1].end()]
    return completion.rstrip() + "\nResponse:"


def demonstration(index: int, record: dict, trace: str | None) -> str:
    lines = [f"Example {index}", "Conversation:", format_context(record["context"], LIMITS["demo_context_chars"])]
    if trace is not None:
        lines.append(f"Reasoning: {_cut(trace, LIMITS['trace_chars'])}")
    lines.append(f"Response: {_cut(record['action'], LIMITS['demo_action_chars'])}")
    return "\n".join(lines)


def prediction_messages(record: dict, demos: list[tuple[dict, str | None]], name: str,
                        template: str = PROMPT) -> list[dict]:
    """The action model's prompt for one test record; ``demos`` most similar first, ``trace`` None without
    traces. ``template``: the prediction prompt, or the likelihood protocol's (same demonstrations)."""
    shown = list(reversed(demos))  # most similar last, right before the test conversation
    blocks = [demonstration(i, rec, trace) for i, (rec, trace) in enumerate(shown, 1)]
    return render(template, user_name=name, demonstrations="\n\n".join(blocks) or "(none)",
                  context="Conversation:\n" + format_context(record["context"], LIMITS["context_chars"]))


def side_prompts(test: list[dict], train: list[dict], traces: Traces | None, name: str, *, k: int,
                 embedder: Embedder | None = None, template: str = PROMPT) -> list[list[dict]]:
    """One prompt per test record: its ``k`` nearest neighbours in ``train`` (the demonstration pool, with
    ``traces`` or none) as demonstrations."""
    by_id = {r["id"]: r for r in train}
    near = neighbours(train, test, k, embedder)
    return [prediction_messages(r, [(by_id[i], None if traces is None else traces[i]) for i in near[r["id"]]],
                                name, template) for r in test]


def settings(max_tokens: int = MAX_TOKENS) -> dict:
    """The prediction settings recorded in the result file."""
    return {"prompt_limits": dict(LIMITS), "stop": list(STOP), "max_tokens": max_tokens}


def predictions_key(pack: str, user: str, test: list[dict], traces_digest: str | None, action_model, k: int,
                    seed: int, max_tokens: int, train: list[dict] | None = None) -> str:
    """What the predictions depend on: test records, the demonstration pool, traces, action model weights, prompt,
    retrieval, sampling. (The pool is keyed by its ids: without traces, two pools gave one key before.)"""
    return sha256_text(dumps_canonical({
        "pack": pack, "user": user, "test": [r["id"] for r in test], "test_sha": sha256_text(dumps_canonical(test)),
        "pool": None if train is None else sha256_text("\n".join(r["id"] for r in train)),
        "traces": traces_digest, "model": action_model.fingerprint, "prompt": prompt_hash(PROMPT), "k": k,
        "retrieval": retrieval_settings(), "seed": seed, "prediction": settings(max_tokens)}))


def load_splits(pack: str, user: str) -> tuple[list[dict], list[dict]]:
    """(train, test) of ``pack``/``user``, oldest first; an empty split is a DataError naming its file."""
    from ..packs import load_split, split_path

    train, test = load_split(pack, user, "train"), load_split(pack, user, "test")
    for name, records in (("train", train), ("test", test)):
        if not records:
            raise DataError(f"the {name} split of {pack}/{user} is empty: nothing to evaluate",
                            file=split_path(pack, user, name))
    return train, test


def first(records: list[dict], limit: int | None) -> list[dict]:
    """The first ``limit`` records (all when None): splits are chronological, so this is the oldest slice."""
    if limit is not None and limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}", field="limit")
    return records[:limit] if limit else records


WINDOWS = ("oldest", "newest")


def train_slice(records: list[dict], limit: int | None, window: str = "oldest") -> list[dict]:
    """The training slice: the ``limit`` oldest records (``window="oldest"``, the default and what every slice
    before this option was) or the ``limit`` newest, i.e. the turns right before the test period. All when None."""
    if window not in WINDOWS:
        raise DataError(f"unknown training window {window!r}; known: {', '.join(WINDOWS)}", field="train_window")
    if window == "oldest" or limit is None:
        return first(records, limit)
    if limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}", field="limit")
    return records[-limit:]


def other_user_pool(pack: str, user: str, other: str, train_limit: int | None, window: str = "oldest") -> list[dict]:
    """The wrong-user control's demonstration pool: ``other``'s training records dated strictly before ``user``'s
    first test record, then the first ``train_limit`` of them. Without the date cut the other user's training
    split can reach into this user's test period, and in a shared conversation (a debate, an oral argument) the
    context of the other user's turn then contains this user's real test turns: a leak that made Trump's full
    training split "predict" Biden's test turns better than Biden's own (debates, docs/controls.md)."""
    cutoff = load_splits(pack, user)[1][0]["timestamp"]
    pool = [r for r in load_splits(pack, other)[0] if r["timestamp"] < cutoff]
    if len(pool) < 2:
        raise DataError(f"{pack}/{other} has {len(pool)} training records before {pack}/{user}'s test period "
                        f"({cutoff}): too few for the wrong-user control", field="method_user")
    return train_slice(pool, train_limit, window)


def default_path(pack: str, user: str, key: str) -> Path:
    return layout.predictions_file(pack, user, key)


def predict(pack: str, user: str, traces: Traces | None, action_model, *, k: int = 4, limit: int | None = None,
            seed: int = 0, max_tokens: int = MAX_TOKENS, train: list[dict] | None = None,
            test: list[dict] | None = None, path: Path | str | None = None,
            embedder: Embedder | None = None) -> list[dict]:
    """Predict the action of every test record of ``pack``/``user`` (``predictions`` schema rows, in test order).

    ``traces``: ``{training id: trace}`` covering at least the training records shown as demonstrations, or None
    for the no-reasoning control.
    ``train``/``test`` default to the pack's splits (``limit``: the first N test records). Predictions are saved
    at ``path`` (default: under ``runs_dir()``, keyed by everything they depend on) as they are made, and
    predictions already there are reused."""
    if train is None or test is None:
        train, test = load_splits(pack, user)
        test = first(test, limit)
    if not test:
        raise DataError(f"no test records to predict for {pack}/{user}", field="test")
    near = neighbours(train, test, k, embedder)  # the whole slice, so retrieval never depends on what is cached
    if traces is not None:
        check_traces(traces, pack, user, train, needed=shown(train, near))
    digest = None if traces is None else traces_sha256(traces, train)
    path = Path(path) if path is not None else default_path(
        pack, user, predictions_key(pack, user, test, digest, action_model, k, seed, max_tokens, train))
    name = user_name(pack, user)
    done: dict[str, dict] = {}
    if path.exists():
        for i, row in enumerate(read_jsonl(path), 1):
            validate("predictions", row, file=path, record=row.get("id", f"line {i}"))
            # parse again: a saved completion is the model's output; parsing it is the current code's job
            done[row["id"]] = row | parse_prediction(row["completion"], name)
    todo = [r for r in test if r["id"] not in done]
    if todo:
        train_by_id = {r["id"]: r for r in train}
        params = GenParams(max_tokens=max_tokens, temperature=0.0, seed=seed, stop=STOP)
        with stage("predict"), tqdm(total=len(test), initial=len(test) - len(todo), desc="predict",
                                    unit="example", disable=None, leave=False) as bar:
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start:start + CHUNK]
                prompts = [prediction_messages(
                    r, [(train_by_id[i], None if traces is None else traces[i]) for i in near[r["id"]]], name)
                    for r in chunk]
                outputs = action_model.generate(prompts, params, desc="predict")
                for r, out in zip(chunk, outputs):
                    done[r["id"]] = {"id": r["id"], "demos": near[r["id"]], "completion": out[0]} | \
                        parse_prediction(out[0], name)
                write_jsonl(path, [done[r["id"]] for r in test if r["id"] in done])
                bar.update(len(chunk))
    return [done[r["id"]] for r in test]


def oracle_predictions(test: list[dict]) -> list[dict]:
    """The real actions as predictions (a validity control: the judge should prefer them)."""
    return [{"id": r["id"], "demos": [], "completion": r["action"], "reasoning": "", "action": r["action"],
             "parse_ok": True} for r in test]


def prompts_used() -> dict[str, str]:
    """``{template id: sha256}`` of the action model's prompt, for the result file."""
    return {prompt_id(PROMPT): prompt_hash(PROMPT)}
