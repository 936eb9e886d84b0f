"""Cross-model transfer: are traces written by synthesizer model A still useful to action model B?

For every synthesizer model, the chosen methods and Backward Synthesis write traces on the same slice (with the
other roles of the synthesis config unchanged); every action model then predicts with each method's traces and with
backward's, and one judge compares them. Cell (A, B) of a method's matrix is its win rate against backward written
by the same model A, used by B: the gain of the method at fixed synthesizer model. Traces are written once per
synthesizer model and reused by every action model, and every LM call is cached, so a grid shares all it can.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from tabulate import tabulate
from tqdm import tqdm

from .. import layout
from ..evaluate import DIMENSIONS
from ..flags import renamed, test_limit, train_limit
from ..models import get_lm
from ..models.options import BACKEND, MODEL
from ..publish import board_dir, build
from ..publish.cli import BOARD_OPTION, rate_text
from ..publish.transfer import digest, save_transfer
from ..schema import validate
from .slices import ensure_pack, evaluate_slice, slice_config, synthesize_slice


def run_transfer(*, pack: str, user: str, methods: list[str], synthesizers: list[str], action_models: list[str],
                 judge: str = "smollm2-135m", judge_mode: str = "options", backend: str = "transformers",
                 config: str | dict = "cpu", train_limit: int | None = None, limit: int | None = None,
                 max_tokens: int | None = None, name: str | None = None) -> dict:
    """Run the grid and return the matrix document (schema ``transfer``); results of each cell stay under
    ``<runs>/transfer/``. ``config``: the synthesis config (name or dict) whose synthesizer model each row
    replaces; ``max_tokens``: the action model's budget per prediction."""
    start = time.perf_counter()
    ensure_pack(pack)
    methods = [m for m in dict.fromkeys(methods) if m != "backward"]
    cells, synth_refs = [], []
    out_dir = layout.transfer_dir(pack, user)
    grid = tqdm(total=len(synthesizers) * (1 + len(methods) * (1 + len(action_models))), desc="transfer",
                unit="step", disable=None)
    for synth in synthesizers:
        config_s = slice_config(config, synth, backend)
        grid.set_postfix_str(f"backward traces by {synth}")
        baseline = synthesize_slice("backward", pack, user, train_limit, config_s)
        grid.update()
        synth_refs.append({"name": synth, "fingerprint": get_lm(synth, backend).fingerprint})
        for method in methods:
            grid.set_postfix_str(f"{method} traces by {synth}")
            traces = synthesize_slice(method, pack, user, train_limit, config_s)
            grid.update()
            for action in action_models:
                grid.set_postfix_str(f"{method}@{synth} used by {action}")
                result = evaluate_slice(method, traces, baseline, pack, user, train_limit=train_limit, limit=limit,
                                        action_model=action, judge=judge, judge_mode=judge_mode, backend=backend,
                                        max_tokens=max_tokens, protocol="pairwise",  # the matrix records a judge
                                        out=out_dir / f"{method}--{synth}--{action}--{judge}.json")
                cells.append({"method": method, "synthesizer": synth, "action_model": action,
                              "result_digest": result["digest"]} | result["summary"]["dimensions"]["overall"])
                grid.update()
    grid.close()
    judge_lm = get_lm(judge, backend)
    doc = {
        "schema_version": 1,
        "name": name or f"{pack}-{user}",
        "pack": pack,
        "users": [f"{pack}/{user}"],
        "methods": methods,
        "baseline": "backward",
        "dimension": DIMENSIONS[0],
        "synthesizer_models": synth_refs,
        "action_models": [{"name": a, "fingerprint": get_lm(a, backend).fingerprint} for a in action_models],
        "judge": {"name": judge, "fingerprint": judge_lm.fingerprint, "mode": judge_mode},
        "slice": {"train_limit": train_limit, "test_limit": limit},
        "cells": cells,
    }
    doc["digest"] = digest(doc)
    doc["run"] = {"created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "seconds": round(time.perf_counter() - start, 3)}
    validate("transfer", doc, record=doc["name"])
    return doc



@click.command()
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--pack", required=True)
@click.option("--user", required=True)
@click.option("--method", "methods", multiple=True, default=("recon_select",), show_default=True,
              help="method(s) compared with backward (repeatable)")
@click.option("--synthesizer", "synthesizers", multiple=True, required=True,
              help="synthesizer model (repeatable): writes the traces")
@click.option("--action-model", "action_models", type=MODEL, multiple=True, required=True,
              help="action model (repeatable): uses the traces")
@click.option("--judge", type=MODEL, default="smollm2-135m", show_default=True)
@click.option("--judge-mode", type=click.Choice(["options", "text"]), default="options", show_default=True)
@click.option("--backend", type=BACKEND, default="transformers", show_default=True)
@click.option("--config", default="cpu", show_default=True, help="synthesis config (the models of other roles)")
@train_limit()
@test_limit()
@click.option("--max-tokens", type=click.IntRange(min=1), help="action model tokens per prediction")
@click.option("--name", help="matrix name [default: <pack>-<user>]")
@BOARD_OPTION
@click.option("--no-build", is_flag=True, help="write the matrix only; do not rebuild the board")
def transfer(pack, user, methods, synthesizers, action_models, judge, judge_mode, backend, config, train_limit,
             test_limit, max_tokens, name, board, no_build):
    """Cross-model transfer: traces written by each synthesizer model, used by each action model; a matrix of
    win rates against Backward Synthesis (written by the same synthesizer model), one judge for every cell."""

    doc = run_transfer(pack=pack, user=user, methods=list(methods), synthesizers=list(synthesizers),
                       action_models=list(action_models), judge=judge, judge_mode=judge_mode, backend=backend,
                       config=config, train_limit=train_limit, limit=test_limit, max_tokens=max_tokens, name=name)
    path = save_transfer(doc, board_dir(board))
    for method in doc["methods"]:
        cells = {(c["synthesizer"], c["action_model"]): c for c in doc["cells"] if c["method"] == method}
        table = [[s["name"]] + [rate_text(cells[(s["name"], a["name"])]) for a in doc["action_models"]]
                 for s in doc["synthesizer_models"]]
        click.echo(f"{method} vs backward, win rate % [95% CI]")
        click.echo(tabulate(table, headers=["synthesizer \\ action model"] + [a["name"] for a in doc["action_models"]]))
    click.echo(f"matrix: {path}")
    if not no_build:
        click.echo(f"board: {build(board)['html']}")
