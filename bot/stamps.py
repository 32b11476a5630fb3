"""Buttons tied to the question they were offered for: a short stamp of the conversation's position, carried in
every button's value, so a press on an older keyboard cannot answer a later question.

The engine stamps each Choice it sends with where the conversation then stands (flow, step, and the flow's own
`question` key, e.g. the intake draft's version) and, when a button comes back, compares the stamp with where
the conversation stands now. A value without a stamp (an adapter or test making events itself, or a keyboard
sent before stamps existed) is taken as it is.
"""

from __future__ import annotations

import base64
import hashlib
import re

from bot.replies import STAMP_BYTES

__all__ = ["stamp", "stamped", "unstamped"]

# "~" + 6 URL-safe base64 characters + "|" before the value: STAMP_BYTES in all.
_STAMPED = re.compile(r"~([A-Za-z0-9_-]{6})\|(.*)", re.DOTALL)


def stamp(flow: str | None, step: str | None, question: str | None) -> str:
    """Six characters naming a position in a conversation (24-bit collisions are harmless: a stale press that
    collides is treated as current, as every press was before)."""
    digest = hashlib.blake2b(f"{flow}\x1f{step}\x1f{question}".encode(), digest_size=4).digest()
    return base64.urlsafe_b64encode(digest).decode()[:6]


def stamped(value: str, mark: str) -> str:
    """`value` carrying the stamp `mark`."""
    out = f"~{mark}|{value}"
    assert len(out.encode()) - len(value.encode()) == STAMP_BYTES
    return out


def unstamped(value: str) -> tuple[str, str | None]:
    """The plain value and its stamp (None when it carries none)."""
    match = _STAMPED.fullmatch(value)
    return (value, None) if match is None else (match.group(2), match.group(1))
