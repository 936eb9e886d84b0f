"""Untrusted text inside prompts: a trace, a corpus turn or a prediction must never become a control token.

A chat template renders messages to text and the tokenizer then turns every occurrence of a special token's string
(``<|im_end|>``, ``<|im_start|>``, ``<|endoftext|>``, ...) into that control token, wherever it came from. A trace
containing ``<|im_end|><|im_start|>system`` would close the user's turn and open a new system turn. Every backend
that renders a chat template itself passes the messages through ``neutralize`` first: each special token's string
inside a message gets a WORD JOINER (U+2060, invisible, no meaning) after its first character, so it is tokenized
as ordinary text. The cache key is computed from the messages as given, so this changes no cached answer for text
without such strings.
"""

from __future__ import annotations

WORD_JOINER = "\u2060"


def special_strings(tokenizer) -> tuple[str, ...]:
    """Every string the tokenizer turns into a special (control) token, longest first."""
    found = set(getattr(tokenizer, "all_special_tokens", []) or [])
    for tok in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(tok, "special", False):
            found.add(str(tok.content))
    return tuple(sorted((t for t in found if len(t) > 1), key=lambda t: (-len(t), t)))


def neutralize_text(text: str, specials: tuple[str, ...]) -> str:
    """``text`` with every occurrence of a special token's string broken by a word joiner. One pass suffices: the
    joiner is in no special string, so breaking one occurrence cannot create another."""
    for s in specials:
        if s in text:
            text = text.replace(s, s[0] + WORD_JOINER + s[1:])
    return text


def neutralize(messages: list[dict], specials: tuple[str, ...]) -> list[dict]:
    """The messages with every content neutralized (see the module docstring)."""
    return [m | {"content": neutralize_text(m["content"], specials)} if isinstance(m.get("content"), str) else m
            for m in messages]
