"""The terminal adapter driven by scripted input lines, its output recorded by rich."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from rich.console import Console

from bot.adapters.terminal import run_terminal
from bot.engine import Engine
from bot.events import Event, FileIn
from bot.flows import Context
from bot.language import Lang, detect_lang
from bot.replies import DocumentOut, Reply, TextOut
from knowledge.answer import Answer


class OneAnswer:
    """A real, minimal Answerer that knows one answer and declines everything else."""

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        """Answer the deadline question, decline the rest."""
        lang = lang or detect_lang(question)
        if "deadline" in question:
            return Answer(question=question, lang=lang, answered=True, answer="20 October, 24:00.", via="faq")
        return Answer(question=question, lang=lang, answered=False, answer="Sorry, I can't say.", via="none")


class FormFlow:
    """Hands out a [generated] form as soon as it starts."""

    name = "form"
    commands = frozenset({"form"})

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.finish()
        return [DocumentOut(path=Path("/tmp/forms/申报表.docx"), file_name="申报表.docx", caption="Your form")]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        return [TextOut(f"got {event}")]


def scripted(lines: Iterable[str]) -> tuple[Callable[[str], str], list[str]]:
    """An input function that returns the lines in turn, then signals EOF; and the lines still unread."""
    pending = list(lines)

    def read(prompt: str) -> str:
        if not pending:
            raise EOFError
        return pending.pop(0)

    return read, pending


@pytest.fixture
def engine(sessionmaker, texts, campaign, clock, settings) -> Engine:
    return Engine(sessionmaker=sessionmaker, answerer=OneAnswer(), texts=texts, campaign=campaign,
                  clock=clock, settings=settings, flows=(FormFlow(),))


def console() -> Console:
    return Console(record=True, width=120, color_system=None)


async def test_a_scripted_session(engine: Engine, campaign):
    out = console()
    read, left = scripted(["/lang", "2", "When is the deadline?", "Who judges?", "2", "/quit", "never read"])
    await run_terminal(engine, console=out, input_fn=read, lang="zh")
    text = out.export_text()

    assert "终端对话" in text  # the intro, in the terminal's language
    assert campaign.name.zh in text  # /start is sent on opening, as chat apps do
    assert "请选择语言 / Choose your language\n  1. 中文\n  2. English\n" in text
    assert "Switched to English." in text  # "2" picked the second button
    assert "20 October, 24:00." in text
    assert "Sorry, I can't say." in text
    # Once a reply offers no buttons, a number is plain text for the engine, not a choice.
    assert text.count("Switched to English.") == 1
    assert left == ["never read"]


async def test_eof_ends_the_session_and_documents_are_shown(engine: Engine):
    out = console()
    read, left = scripted(["", "/form"])
    await run_terminal(engine, console=out, input_fn=read, lang="en", greet=False)
    text = out.export_text()
    assert "Terminal chat" in text
    assert "[document] /tmp/forms/申报表.docx\nYour form\n" in text
    assert "Hello" not in text  # greet=False: no /start
    assert left == []


async def test_numbers_out_of_range_are_text(engine: Engine):
    out = console()
    read, _ = scripted(["/lang", "3", "0"])
    await run_terminal(engine, console=out, input_fn=read, lang="en", greet=False)
    text = out.export_text()
    # Not a choice, and no question to look up either: each is told so, with the help.
    assert text.count("picks nothing") == 2 and text.count("/apply apply online") == 2
    assert "Switched" not in text


async def test_the_terminal_user_is_one_stable_user(engine: Engine):
    for _ in range(2):
        read, _ = scripted(["/lang en"])
        await run_terminal(engine, console=console(), input_fn=read, user_id="me")
    out = console()
    read, _ = scripted([])
    await run_terminal(engine, console=out, input_fn=read, user_id="me")
    # The language chosen in an earlier session is remembered: the state lives in the engine's database.
    assert "Hello! I'm the assistant" in out.export_text()


def test_file_command_becomes_an_upload(tmp_path: Path):
    from bot.adapters.terminal import _event

    deck = tmp_path / "路演材料.pdf"
    deck.write_bytes(b"%PDF-1.4 deck")
    event = _event(f"/file {deck}", ())
    assert event == FileIn(file_name="路演材料.pdf", mime_type="application/pdf", size=13, path=deck)


async def test_the_terminal_chat_delivers_the_outbox_as_the_telegram_bot_does(engine: Engine, settings, sessionmaker):
    """Issue 18 item 10: the outbox, housekeeping and purge loops are the runtime's, run beside any channel."""
    from sqlalchemy import select

    from bot.adapters.terminal import CHANNEL, printer
    from bot.runtime import Runtime
    from bot.users import User
    from intake.notify import Notification, notify_user

    out = console()
    await run_terminal(engine, console=out, input_fn=scripted([])[0], user_id="me")  # the user exists
    async with sessionmaker() as session, session.begin():
        user_id = await session.scalar(select(User.id).where(User.channel == CHANNEL, User.external_id == "me"))
        assert user_id is not None
        await notify_user(session, user_id=user_id, text="您的申报 KCXF-2024-00001 状态更新为「初审通过」")
    background = Runtime.open(settings).background(engine, channel=CHANNEL, send=printer(engine, console=out),
                                                   outbox_interval_s=0.05)

    def read(prompt: str) -> str:  # the person waits at the prompt until the notice shows
        deadline = time.monotonic() + 10
        while "初审通过" not in out.export_text(clear=False) and time.monotonic() < deadline:
            time.sleep(0.02)
        raise EOFError

    try:
        await run_terminal(engine, console=out, input_fn=read, user_id="me", greet=False)
        assert "状态更新为「初审通过」" in out.export_text()
        for _ in range(100):  # marked sent just after it was printed
            async with sessionmaker() as session:
                note = await session.scalar(select(Notification))
            if note is not None and note.sent_at is not None:
                break
            await asyncio.sleep(0.05)
        assert note is not None and note.sent_at is not None
    finally:
        await background.stop()


async def test_a_multi_select_question_is_a_numbered_list_of_toggles(
    sessionmaker, texts, campaign, clock, settings,
):
    from bot.users import UserRef
    from intake.flow import DraftsFlow, IntakeFlow
    from intake.forms import load_forms
    from tests.intake.test_choices import FIELD, _to
    from tests.intake.test_flow import Entrant

    forms = load_forms(campaign)
    intake = IntakeFlow(forms)
    engine = Engine(sessionmaker=sessionmaker, answerer=OneAnswer(), texts=texts, campaign=campaign, clock=clock,
                    settings=settings, flows=(intake, DraftsFlow(intake)))
    me = Entrant(engine, forms["enterprise_npf"])
    me.user = UserRef(channel="terminal", external_id="terminal")
    await _to(me, FIELD)
    out = console()
    # Back to the draft; 1 and 3 toggle on, 1 toggles off, 6 is 完成.
    read, left = scripted(["/drafts", "1", "1", "3", "1", "6"])
    await run_terminal(engine, console=out, input_fn=read, greet=False)
    text = out.export_text()
    assert ("企业获得过哪些资质认定（可多选）？\n"
            "点选适用的各项（再点一次取消），选好后点“完成”；也可以直接输入编号或名称，例如：1、3\n"
            "  1. [ ] 高新技术企业\n  2. [ ] 专精特新\n  3. [ ] 专精特新“小巨人”\n  4. [ ] 其他\n  5. [ ] 无\n"
            "  6. 完成\n  7. 上一步\n") in text
    assert "  1. [✓] 高新技术企业\n  2. [ ] 专精特新\n  3. [✓] 专精特新“小巨人”\n" in text
    # Each press printed the list anew, as it then stood; the question above it once (a terminal cannot edit).
    assert text.count("[✓]") == 1 + 2 + 1 and text.count("可多选") == 1
    assert "已选择：专精特新“小巨人”\n" in text and "研发投入是多少" in text
    assert (await me.draft()).answers[FIELD] == ["little_giant"]
    assert left == []
