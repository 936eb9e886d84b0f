"""Prompts are data: versioned text templates in ``benchmark/prompts/<name>.v<N>.txt``.

A template is plain text with ``{placeholders}`` (str.format). A line ``### system`` / ``### user`` /
``### assistant`` starts a chat message; a template without such lines is one user message. Every result records
``prompt_hash(name)`` so a changed template is visible.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from .io import sha256_text

PROMPT_DIR = Path(__file__).resolve().parent / "prompts"
_ROLE = re.compile(r"^### (system|user|assistant)\s*$", re.M)


@cache
def template(name: str) -> str:
    """Raw text of the newest version of template ``name`` (or an exact ``name.vN``)."""
    if re.search(r"\.v\d+$", name):
        path = PROMPT_DIR / f"{name}.txt"
    else:
        versions = sorted(PROMPT_DIR.glob(f"{name}.v*.txt"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
        if not versions:
            raise KeyError(f"no prompt template {name!r} in {PROMPT_DIR}")
        path = versions[-1]
    return path.read_text(encoding="utf-8")


def prompt_id(name: str) -> str:
    """``name.vN`` of the template that ``template(name)`` returns."""
    if re.search(r"\.v\d+$", name):
        return name
    versions = sorted(PROMPT_DIR.glob(f"{name}.v*.txt"), key=lambda p: int(p.stem.rsplit(".v", 1)[1]))
    return versions[-1].stem


def prompt_hash(name: str) -> str:
    """sha256 of the template text: recorded in every result and part of every cache key via the prompt."""
    return sha256_text(template(name))


def render(name: str, **values: object) -> list[dict[str, str]]:
    """The template filled with ``values`` as chat messages ``[{"role": ..., "content": ...}]``."""
    text = template(name)
    parts = _ROLE.split(text)
    if len(parts) == 1:
        return [{"role": "user", "content": text.format(**values).strip()}]
    messages = []
    for role, body in zip(parts[1::2], parts[2::2]):
        messages.append({"role": role, "content": body.format(**values).strip()})
    return messages
