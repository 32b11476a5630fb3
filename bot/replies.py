"""What the engine answers, for any adapter to render: text with optional buttons, or a document."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_VALUE_BYTES", "STAMP_BYTES", "Choice", "DocumentOut", "Reply", "StaleOut", "TextOut"]

# A button's value travels with the button and comes back when it is pressed. Telegram carries at most 64 bytes of
# it (callback_data), the least of any channel, and the engine adds a stamp of STAMP_BYTES (bot.stamps); the ids
# a value is made of are at most 40 characters of [a-z0-9_] (config), so "intake:award:<id>" fits.
BUTTON_DATA_BYTES = 64
STAMP_BYTES = 8
MAX_VALUE_BYTES = BUTTON_DATA_BYTES - STAMP_BYTES


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: what it shows and the value that comes back as ChoiceIn when pressed."""

    label: str
    value: str

    def __post_init__(self) -> None:
        # Refused where it is made, rather than cut or swapped for a token that some process must remember.
        if len(self.value.encode()) > MAX_VALUE_BYTES:
            raise ValueError(f"a button's value is at most {MAX_VALUE_BYTES} bytes: {self.value!r}")


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


@dataclass(frozen=True, slots=True)
class StaleOut(TextOut):
    """The answer to a button that no longer answers anything: nothing changed, and its keyboard stays as it was."""


Reply = TextOut | DocumentOut
