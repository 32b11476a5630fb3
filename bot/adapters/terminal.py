"""A local chat in the terminal: lines in, engine replies out through rich. Translation only."""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.replies import CHOSEN_MARK, Choice, DocumentOut, EditOut, Reply, TextOut
from bot.users import UserRef

if TYPE_CHECKING:
    from rich.console import Console

    from bot.engine import Engine

__all__ = ["CHANNEL", "printer", "run_terminal"]

CHANNEL = "terminal"
QUIT = "/quit"
UPLOAD = "/file "


async def run_terminal(
    engine: Engine,
    *,
    console: Console,
    user_id: str = "terminal",
    lang: str = "zh",
    input_fn: Callable[[str], str] | None = None,
    greet: bool = True,
) -> None:
    """Chat with the engine until EOF or /quit; a number picks from the choices last offered."""
    read = input_fn or console.input
    user = UserRef(channel=CHANNEL, external_id=user_id, lang_hint=lang)
    console.print(Text(engine.texts.t("terminal.intro", lang), style="dim"))
    choices: tuple[Choice, ...] = ()
    shown = ""  # the text last printed, which an EditOut changes
    if greet:  # as a chat app sends /start when a conversation is opened
        choices, shown = _show(console, await engine.handle(user, CommandIn("start")), engine=engine, lang=lang)
    while True:
        try:
            # input() blocks, so it runs in a thread and the event loop stays free.
            line = (await asyncio.to_thread(read, "> ")).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line == QUIT:
            break
        if not line:
            continue
        replies = await engine.handle(user, _event(line, choices))
        choices, shown = _show(console, replies, engine=engine, lang=lang, shown=shown)


def printer(engine: Engine, *, console: Console, lang: str = "zh") -> Callable[[str, Reply], Awaitable[None]]:
    """How the outbox reaches the person at this terminal (bot.outbox.Send): status changes written by the
    console or `kcxf queue` in another process are printed as they are delivered."""
    async def send(external_id: str, reply: Reply) -> None:
        _show(console, [reply], engine=engine, lang=lang)  # a notice: never an edit of what is on screen

    return send


def _event(line: str, choices: tuple[Choice, ...]) -> Event:
    if line.startswith(UPLOAD):
        # The terminal's stand-in for sending a file in a chat app: the file is already on this disk.
        path = Path(line.removeprefix(UPLOAD).strip()).expanduser()
        size = path.stat().st_size if path.is_file() else 0
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileIn(file_name=path.name, mime_type=mime, size=size, path=path)
    if line.startswith("/"):
        name, _, args = line[1:].partition(" ")
        return CommandIn(name, args.strip())
    if line.isdecimal() and 1 <= int(line) <= len(choices):
        return ChoiceIn(choices[int(line) - 1].value)
    return TextIn(line)


def _show(
    console: Console, replies: list[Reply], *, engine: Engine, lang: str, shown: str = "",
) -> tuple[tuple[Choice, ...], str]:
    """Print replies; return the choices the last of them offers, and the text last printed."""
    offered: tuple[Choice, ...] = ()
    for reply in replies:
        match reply:
            case TextOut(text=text, choices=choices):
                # A terminal cannot edit what it printed: an EditOut of the text above prints only what it adds
                # (a toggled list, the selection made), not the question again.
                added = text.removeprefix(shown).strip() if isinstance(reply, EditOut) and shown else text
                if added:
                    console.print(Text(added, style="cyan"), soft_wrap=True)
                shown = text
                for number, choice in enumerate(choices, start=1):
                    # A toggle shows whether it is chosen; the terminal cannot edit, so a press prints it anew.
                    box = "" if choice.chosen is None else f"[{CHOSEN_MARK if choice.chosen else ' '}] "
                    console.print(Text(f"  {number}. {box}{choice.label}", style="bold"))
                offered = choices
            case DocumentOut(path=path, caption=caption):
                console.print(Text(engine.texts.t("terminal.document", lang, path=str(path)), style="green"))
                if caption:
                    console.print(Text(caption, style="cyan"))
                offered, shown = (), ""
    return offered, shown
