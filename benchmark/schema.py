"""JSON Schemas are the contract for every file that crosses a boundary.

Schemas live in ``benchmark/schemas/<name>.schema.json``; each carries ``$id`` ending in ``/<name>/v<N>`` and the
documents it describes carry ``schema_version`` where they are whole files. ``validate`` raises a DataError that
names the file, the record and the JSON path of the first offending field.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .errors import DataError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@cache
def load_schema(name: str) -> dict:
    """The schema ``name`` (for example ``"record"``), checked against its metaschema once."""
    path = SCHEMA_DIR / f"{name}.schema.json"
    if not path.exists():
        raise KeyError(f"no schema named {name!r} in {SCHEMA_DIR}")
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(name), format_checker=jsonschema.FormatChecker())


def schema_version(name: str) -> int:
    """The integer version at the end of the schema's ``$id`` (``.../record/v1`` -> 1)."""
    return int(load_schema(name)["$id"].rsplit("/v", 1)[1])


def errors(name: str, doc: Any) -> list[jsonschema.ValidationError]:
    """All validation errors of ``doc`` against schema ``name``, most specific first."""
    return sorted(_validator(name).iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))


def validate(name: str, doc: Any, *, file: object = None, record: object = None) -> None:
    """Raise DataError naming file, record and field if ``doc`` does not match schema ``name``."""
    errs = errors(name, doc)
    if not errs:
        return
    e = jsonschema.exceptions.best_match(errs)
    field = "/".join(str(p) for p in e.absolute_path) or None
    if record is None and isinstance(doc, dict) and isinstance(doc.get("id"), str):
        record = doc["id"]
    raise DataError(f"does not match schema {name!r}: {e.message}", file=file, record=record, field=field)
