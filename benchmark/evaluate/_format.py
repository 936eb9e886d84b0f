"""How records appear inside prompts: one place, so the action model and the judge see the same text."""

from __future__ import annotations

from functools import cache

from ..errors import DataError


def format_context(context: list[dict], max_chars: int | None = None) -> str:
    """``speaker: text`` lines, oldest first. With ``max_chars``, the oldest turns are dropped first (then the
    start of the oldest kept turn is cut), because the turns right before the action matter most."""
    lines = [f"{t['speaker']}: {t['text']}" for t in context]
    text = "\n".join(lines)
    if max_chars is None or len(text) <= max_chars:
        return text
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > max_chars:
            if not kept:
                kept.append("..." + line[len(line) - max_chars + 3:])
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(reversed(kept))


@cache
def user_name(pack: str, user: str) -> str:
    """The display name of ``user`` in ``pack``'s spec (what the prompts call the person)."""
    from ..packs import load_spec

    for u in load_spec(pack)["users"]:
        if u["id"] == user:
            return u["name"]
    raise DataError(f"pack {pack!r} has no user {user!r}", field="users")
