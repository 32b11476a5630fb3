"""A draft belongs to its edition: one begun in 2024 is neither offered nor submitted once 2025 is served."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import CommandIn
from bot.texts import Texts
from config.clock import FixedClock
from config.editions import load_editions
from config.settings import Settings
from editions.prepare import prepare_edition
from intake.flow import DraftsFlow, IntakeFlow, StatusFlow
from intake.forms import load_forms
from intake.queue import Submission
from knowledge.answer import KnowledgeBase
from tests.intake.test_flow import Entrant, _text


async def test_a_2024_draft_never_turns_into_a_2025_record(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, settings: Settings,
    tmp_path: Path,
):
    root = Path(shutil.copytree(Settings(_env_file=None).editions_dir, tmp_path / "editions"))  # type: ignore[call-arg]
    prepare_edition(load_editions(root).get(2024), 2025, root=root)
    editions = load_editions(root)
    clock = FixedClock(datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))

    def engine(year: int):  # type: ignore[no-untyped-def]
        edition = editions.get(year)
        forms = load_forms(edition.campaign, directory=edition.forms_dir)
        intake = IntakeFlow(forms, editions=editions)
        return Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=edition.campaign, clock=clock,
                      settings=settings, flows=[intake, DraftsFlow(intake), StatusFlow(editions)]), forms

    e2024, forms2024 = engine(2024)
    me = Entrant(e2024, forms2024["pioneer_person"])
    await me.to_form()
    assert (await me.draft()).edition == 2024

    clock.set(datetime(2025, 9, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    e2025, forms2025 = engine(2025)
    me.engine = e2025
    # The conversation still points at the 2024 draft: answering it ends it with its call.
    closed = _text(await me.say("自荐"))
    assert "这份草稿属于「2024 科创先锋案例征集」" in closed and "本届是「2025 科创先锋案例征集」" in closed, closed
    assert "您还没有申报草稿" in _text(await me.send(CommandIn("drafts")))
    # /apply starts a 2025 application instead of offering the 2024 draft.
    started = _text(await me.send(CommandIn("apply")))
    assert "以哪种身份申报" in started, started
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Submission.id))) == 0
