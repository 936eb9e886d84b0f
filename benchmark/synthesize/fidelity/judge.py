"""The paper's fidelity: an LM judge compares the reconstructions with the real action on style, intent and values.
All candidates of one record go into one judge prompt, labelled A, B, C, ...; the score of a candidate is the
judge's probability of answering its letter (``LM.score_options``: one forward pass, no text to parse, so even a
135M model gives a usable, deterministic score)."""

from __future__ import annotations

import string


def score(run, records: list[dict], traces: list[list[str]], reconstructions: list[list[str]]) -> list[list[float]]:
    """One judge request per record over all its reconstructions; score = probability of the candidate's letter."""
    prompts, letters = [], []
    for record, candidates in zip(records, reconstructions):
        labels = string.ascii_uppercase[:len(candidates)]
        listed = "\n".join(f"{label}. {text.strip() or '(nothing)'}" for label, text in zip(labels, candidates))
        prompts.append(run.prompt("fidelity_judge", record, action=record["action"], candidates=listed))
        letters.append(labels)
    lm = run.lm("judge")
    out = []
    # records with the same number of candidates share one batched request (the options must be equal)
    for n in sorted({len(labels) for labels in letters}):
        idx = [i for i, labels in enumerate(letters) if len(labels) == n]
        probs = lm.score_options([prompts[i] for i in idx], list(string.ascii_uppercase[:n]))
        out.extend(zip(idx, probs))
    by_index = dict(out)
    return [[by_index[i][label] for label in letters[i]] for i in range(len(records))]
