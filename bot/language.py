"""The two languages the bot speaks, and a guess at which one a message is written in."""

from __future__ import annotations

from typing import TypeGuard

# One rule for the whole bot: the knowledge base detects the asker's language the same way.
from knowledge.answer import Lang
from knowledge.tokens import detect_lang

__all__ = ["DEFAULT_LANG", "LANGS", "Lang", "detect_lang", "is_lang"]

LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"


def is_lang(value: object) -> TypeGuard[Lang]:
    """True for a language the bot speaks."""
    return value in LANGS
