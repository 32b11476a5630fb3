"""What the engine answers, for any adapter to render: text with optional buttons, or a document.

A question with several answers (可多选) is a TextOut whose option buttons are toggles (`Choice.chosen` is True or
False, never None), beside plain buttons such as 完成 and 上一步. Each press of a toggle is answered with an EditOut:
the same question with the option's mark flipped, to be shown in place of the message pressed. The selection so
far is the engine's, stored with the conversation; the buttons only show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHOSEN_MARK", "MAX_VALUE_BYTES", "STAMP_BYTES", "Choice", "DocumentOut", "EditOut", "Reply", "StaleOut",
           "TextOut"]

# A button's value travels with the button and comes back when it is pressed. Telegram carries at most 64 bytes of
# it (callback_data), the least of any channel, and the engine adds a stamp of STAMP_BYTES (bot.stamps); the ids
# a value is made of are at most 40 characters of [a-z0-9_] (config), so "intake:award:<id>" fits.
BUTTON_DATA_BYTES = 64
STAMP_BYTES = 8
MAX_VALUE_BYTES = BUTTON_DATA_BYTES - STAMP_BYTES
# How a chosen toggle shows, wherever a channel draws buttons as text (Telegram, the terminal).
CHOSEN_MARK = "✓"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: what it shows and the value that comes back as ChoiceIn when pressed.

    `chosen` is None for a plain button; True or False for a toggle of a multi-select, chosen or not yet.
    """

    label: str
    value: str
    chosen: bool | None = None

    def __post_init__(self) -> None:
        # Refused where it is made, rather than cut or swapped for a token that some process must remember.
        if len(self.value.encode()) > MAX_VALUE_BYTES:
            raise ValueError(f"a button's value is at most {MAX_VALUE_BYTES} bytes: {self.value!r}")

    @property
    def marked(self) -> str:
        """The label as a channel that draws buttons as text shows it: a chosen toggle carries CHOSEN_MARK."""
        return f"{CHOSEN_MARK} {self.label}" if self.chosen else self.label


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
class EditOut(TextOut):
    """The message whose button was just pressed, to be shown as this (its text and buttons) in its place.

    The answer to a toggle, and to 完成 (the question shown with its final selection and no buttons). A channel
    that cannot edit a message sent, or that has no message to edit (the event was typed, or the press came from
    a message it no longer holds), shows it as a new message.
    """


@dataclass(frozen=True, slots=True)
class StaleOut(TextOut):
    """The answer to a button that no longer answers anything: nothing changed, and its keyboard stays as it was."""


Reply = TextOut | DocumentOut
