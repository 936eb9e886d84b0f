"""Reference synthesizers: the four methods of the paper, each writing one reasoning trace per training record.

- ``backward``: Backward Synthesis, the baseline (trace = synthesizer(context + real action))
- ``recon_select``: best of N backward traces by reconstruction fidelity (training-free)
- ``recon_grpo``: the synthesizer GRPO-trained with reconstruction fidelity as reward
- ``e2e_grpo``: a model GRPO-trained to write reasoning and action from the context alone

``synthesize(method, input_dir, output_dir)`` is what ``python -m benchmark.synthesize`` (the submissions' entry
point) and ``reconbench baselines run`` call. Fidelity scorers: ``benchmark.synthesize.fidelity.FIDELITY``.
Configurations: ``configs/{cpu,gpu}.json``. docs/methods.md explains methods, costs and configs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .. import paths
from ..errors import DataError
from ..io import dumps_canonical, read_json, read_jsonl, sha256_text
from ..schema import validate
from . import backward, e2e_grpo, recon_grpo, recon_select
from ._config import config_names, load_config
from ._run import Synthesis, check_records
from ._store import TraceStore

METHODS: dict[str, Callable[[list[dict], Synthesis, TraceStore], None]] = {
    "backward": backward.synthesize,
    "recon_select": recon_select.synthesize,
    "recon_grpo": recon_grpo.synthesize,
    "e2e_grpo": e2e_grpo.synthesize,
}

TASK_FILE, TRACES_FILE = "task.json", "traces.jsonl"

__all__ = ["METHODS", "Synthesis", "TraceStore", "config_names", "load_config", "read_input", "synthesize",
           "work_dir"]


def read_input(input_dir: Path | str) -> tuple[dict, list[dict]]:
    """``task.json`` and the training records of a submission input folder, validated."""
    input_dir = Path(input_dir)
    task = read_json(input_dir / TASK_FILE)
    validate("submission_task", task, file=input_dir / TASK_FILE)
    train = input_dir / task["train_file"]
    records = read_jsonl(train)
    for i, r in enumerate(records, 1):
        validate("record", r, file=train, record=r.get("id", f"line {i}") if isinstance(r, dict) else f"line {i}")
    check_records(records, train)
    return task, records


def work_dir(method: str, task: dict, config: dict, records: list[dict]) -> Path:
    """Where a run keeps what is not a trace (GRPO checkpoints): under ``RECONBENCH_WORK`` or the cache home, in a
    folder named by the config and the training ids, so a checkpoint is reused only by the run that made it."""
    env = os.environ.get("RECONBENCH_WORK")
    root = Path(env).expanduser() if env else paths.cache_home() / "synthesize-work"
    key = sha256_text(dumps_canonical({"config": config, "ids": [r["id"] for r in records]}))[:12]
    return root / method / task["pack"] / task["user"] / f"{config['name']}-{key}"


def synthesize(method: str, input_dir: Path | str, output_dir: Path | str, *, config: str | Path | dict = "cpu",
               workdir: Path | str | None = None, lm_cache: bool | str | Path = True) -> Synthesis:
    """Write ``<output_dir>/traces.jsonl`` for the input folder with ``method``; traces already there are kept and
    only the missing ones are written. Returns the run (models used, usage, prompt hashes)."""
    if method not in METHODS:
        raise DataError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    config = config if isinstance(config, dict) else load_config(config)
    task, records = read_input(input_dir)
    run = Synthesis(config=config, task=task, lm_cache=lm_cache,
                    workdir=Path(workdir) if workdir else work_dir(method, task, config, records))
    store = TraceStore(Path(output_dir) / TRACES_FILE, records)
    METHODS[method](records, run, store)
    if not store.complete:  # every method writes all pending records; anything else is a bug worth stopping on
        raise RuntimeError(f"{method} left {len(store.pending(records))} records without a trace")
    return run
