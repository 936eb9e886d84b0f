"""Model and backend names checked where a command parses them: a typo is a one-line error listing the known names,
never a model-hub traceback after trying the network (the hubs are unreachable by design)."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from ..errors import DataError
from ._registry import MODELS

BACKEND_NAMES = ("transformers", "vllm", "openai", "fake")  # the keys of benchmark.models.BACKENDS (tested)


def unknown_model(name: str) -> str | None:
    """Why ``name`` cannot name a model, or None if it can: a registry name, an existing local folder, a hub or
    served name (``org/model``) or a ``fake-*`` model of the fake backend."""
    if name in MODELS or name.startswith("fake") or "/" in name or Path(name).expanduser().is_dir():
        return None
    close = difflib.get_close_matches(name.lower(), list(MODELS), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (f"unknown model {name!r}{hint}; known: {', '.join(MODELS)}, a local model folder, or a hub name such "
            f"as org/model")


def check_model_name(name: str, *, field: str = "model") -> str:
    """``name``, or a DataError saying why it cannot name a model (``unknown_model``)."""
    why = unknown_model(name)
    if why:
        raise DataError(why, field=field)
    return name


def check_backend_name(name: str) -> str:
    if name not in BACKEND_NAMES:
        raise DataError(f"unknown backend {name!r}; known: {', '.join(BACKEND_NAMES)}", field="backend")
    return name


class ModelName(click.ParamType):
    """A click type for model options (see ``check_model_name``)."""

    name = "model"

    def convert(self, value, param, ctx):
        why = unknown_model(value)
        if why:
            self.fail(why, param, ctx)
        return value


MODEL = ModelName()
BACKEND = click.Choice(BACKEND_NAMES)
