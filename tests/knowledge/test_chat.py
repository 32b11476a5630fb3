"""The whole stack as an entrant meets it: terminal chat → engine → knowledge base, in Chinese and English."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from sqlalchemy import select

from bot.adapters.terminal import run_terminal
from bot.runtime import Runtime
from knowledge.unanswered import UnansweredQuestion


def _lines(*lines: str) -> Iterator[str]:
    yield from lines


async def test_terminal_chat_answers_both_languages_and_logs_what_it_cannot(kb_runtime: Runtime):
    engine = await kb_runtime.engine()
    console = Console(record=True, width=200)
    script = _lines("报名截止到哪天？", "/lang", "2", "Can foreign companies submit in English?",
                    "你们楼下的咖啡店几点开门？", "/quit")
    try:
        await run_terminal(engine, console=console, user_id="chat-e2e", input_fn=lambda _prompt: next(script))
        out = console.export_text()
        assert "2024 科创先锋案例征集" in out  # the welcome, as a chat app shows on opening
        assert "10 月 20 日" in out and "（见《申报指南》五·申报方式）" in out
        assert "Switched to English" in out
        assert "English" in out and "(See the Guideline, X. Committee Statement)" in out
        assert "kcxf@thepaper.cn" in out.split("咖啡店")[-1]
        sessions = await kb_runtime.sessionmaker()
        async with sessions() as session:
            logged = (await session.scalars(select(UnansweredQuestion.question))).all()
        assert "你们楼下的咖啡店几点开门？" in logged
    finally:
        await kb_runtime.close()
