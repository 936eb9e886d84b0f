"""Cross-model transfer: are traces written by synthesizer model A still useful to action model B?

For every synthesizer model, the chosen methods and Backward Synthesis write traces on the same slice (with the
other roles of the synthesis config unchanged); every action model then predicts with each method's traces and with
backward's, and one judge compares them. Cell (A, B) of a method's matrix is its win rate against backward written
by the same model A, used by B: the gain of the method at fixed synthesizer model. Traces are written once per
synthesizer model and reused by every action model, and every LM call is cached, so a grid shares all it can.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import click
from tabulate import tabulate
from tqdm import tqdm

from .. import layout
from ..evaluate import DIMENSIONS, dtype_field, evaluate
from ..evaluate.protocols import decision_params, get_protocol
from ..evaluate.settings import EvalSettings, eval_options
from ..flags import renamed
from ..models import get_lm
from ..models.options import MODEL
from ..publish import board_dir, build
from ..publish.cli import BOARD_OPTION, rate_text
from ..publish.transfer import digest, save_transfer
from ..schema import validate
from .slices import ensure_pack, slice_config, synthesize_slice


def _ref(lm) -> dict:
    """A model as the matrix records it: name, fingerprint and, where the backend knows it, the precision it computed
    in (the same weights in bfloat16 give other numbers than in float32)."""
    return {"name": lm.name, "fingerprint": lm.fingerprint} | dtype_field(lm)


def run_transfer(*, pack: str, user: str, methods: list[str], synthesizers: list[str], action_models: list[str],
                 settings: EvalSettings | None = None, config: str | dict = "cpu", name: str | None = None) -> dict:
    """Run the grid and return the matrix document (schema ``transfer``); results of each cell stay under
    ``<runs>/transfer/``. ``settings``: every cell's evaluation settings (the cell's action model replaces
    ``settings.action_model``; default: ``EvalSettings()``, the CPU default protocol); ``config``: the synthesis
    config (name or dict) whose synthesizer model each row replaces."""
    settings = settings or EvalSettings()
    backend, judge, judge_mode = settings.backend, settings.judge, settings.judge_mode
    train_limit = settings.train_limit
    protocol = get_protocol(settings.protocol)
    # in the cells' file names: the protocol, and its judge when it has one (two protocols never share a file)
    scorer = f"{protocol.name}--{judge}" if protocol.uses_judge else protocol.name
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
        synth_refs.append(_ref(get_lm(synth, backend)))
        for method in methods:
            grid.set_postfix_str(f"{method} traces by {synth}")
            traces = synthesize_slice(method, pack, user, train_limit, config_s)
            grid.update()
            for action in action_models:
                grid.set_postfix_str(f"{method}@{synth} used by {action}")
                cell = replace(settings, action_model=action)
                result = evaluate(traces, baseline, pack, user, method_name=method, baseline_name="backward",
                                  **cell.kwargs(), out=out_dir / f"{method}--{synth}--{action}--{scorer}.json")
                cells.append({"method": method, "synthesizer": synth, "action_model": action,
                              "result_digest": result["digest"]} | result["summary"]["dimensions"]["overall"])
                grid.update()
    grid.close()
    judge_ref = (_ref(get_lm(judge, settings.judge_backend or backend)) | {"mode": judge_mode}
                 if protocol.uses_judge else None)  # likelihood: each action model scores
    doc = {
        "schema_version": 1,
        "name": name or f"{pack}-{user}",
        "pack": pack,
        "users": [f"{pack}/{user}"],
        "methods": methods,
        "baseline": "backward",
        "dimension": DIMENSIONS[0],
        "synthesizer_models": synth_refs,
        "action_models": [_ref(get_lm(a, backend)) for a in action_models],
        "protocol": {"name": protocol.name, "params": decision_params(protocol, None if settings.tie_band is None
                                                                      else {"tie_band": settings.tie_band})},
        "judge": judge_ref,
        "slice": {"train_limit": train_limit, "test_limit": settings.test_limit},
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
              help="the frozen action model that predicts with the demonstrations (repeatable: one column each)")
@eval_options(omit=("action_model",))
@click.option("--config", default="cpu", show_default=True, help="synthesis config (the models of other roles)")
@click.option("--name", help="matrix name [default: <pack>-<user>]")
@BOARD_OPTION
@click.option("--no-build", is_flag=True, help="write the matrix only; do not rebuild the board")
def transfer(pack, user, methods, synthesizers, action_models, config, name, board, no_build, settings):
    """Cross-model transfer: traces written by each synthesizer model, used by each action model; a matrix of
    win rates against Backward Synthesis (written by the same synthesizer model), under one scoring protocol (one
    judge for every cell, or none: likelihood scores the real action with each action model)."""

    doc = run_transfer(pack=pack, user=user, methods=list(methods), synthesizers=list(synthesizers),
                       action_models=list(action_models), settings=settings, config=config, name=name)
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
