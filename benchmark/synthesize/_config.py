"""Configurations of the reference synthesizers: data files ``configs/<name>.json`` checked against
``configs/config.schema.json``. ``cpu`` runs here in minutes; ``gpu`` is the paper's scale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from ..errors import DataError
from ..io import read_json

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
_SCHEMA = CONFIG_DIR / "config.schema.json"


def config_names() -> list[str]:
    """Names of the shipped configurations."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.json") if p != _SCHEMA)


def load_config(name_or_path: str | Path = "cpu") -> dict:
    """A shipped configuration by name (``cpu``, ``gpu``) or any JSON file with the same shape."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.json"
        if not path.exists():
            raise DataError(f"no synthesis config {str(name_or_path)!r}; shipped: {', '.join(config_names())}")
    config = read_json(path)
    validator = jsonschema.Draft202012Validator(json.loads(_SCHEMA.read_text(encoding="utf-8")))
    errs = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errs:
        e = jsonschema.exceptions.best_match(errs)
        raise DataError(f"not a synthesis config: {e.message}", file=path,
                        field="/".join(str(p) for p in e.absolute_path) or None)
    from .fidelity import FIDELITY  # late: the registry imports model code

    for section in ("recon_select", "grpo"):
        if config[section]["fidelity"] not in FIDELITY:
            raise DataError(f"unknown fidelity scorer {config[section]['fidelity']!r}; known: {', '.join(FIDELITY)}",
                            file=path, field=f"{section}/fidelity")
    return config
