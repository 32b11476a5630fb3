"""What the engine answers, for any adapter to render: text with optional buttons, or a document."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Choice", "DocumentOut", "Reply", "TextOut"]


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: what it shows and the value that comes back as ChoiceIn when pressed."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class TextOut:
    """A message, optionally offering choices."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentOut:
    """A file to send, such as a generated application form."""

    path: Path
    file_name: str
    caption: str = ""


Reply = TextOut | DocumentOut
