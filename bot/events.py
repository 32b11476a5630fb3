"""What a user sends, as any adapter translates it: text, a pressed button, a command or a file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["ChoiceIn", "CommandIn", "Event", "FileIn", "TextIn"]


@dataclass(frozen=True, slots=True)
class TextIn:
    """A typed message."""

    text: str


@dataclass(frozen=True, slots=True)
class ChoiceIn:
    """A pressed button, carrying the value of the Choice it showed."""

    value: str


@dataclass(frozen=True, slots=True)
class CommandIn:
    """A command such as /lang en: the name without slash or bot suffix, and the rest of the line."""

    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class FileIn:
    """An uploaded file, already stored locally by the adapter."""

    file_name: str
    mime_type: str
    size: int
    path: Path


Event = TextIn | ChoiceIn | CommandIn | FileIn
