"""The notification outbox, and what writes to it: submissions, status changes (CLI), /privacy and /delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import CommandIn, FileIn
from bot.replies import Reply, TextOut
from bot.stamps import unstamped
from bot.texts import Texts
from bot.users import User
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.base import utcnow
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake import queue
from intake.drafts import OPEN, SUBMITTED, WITHDRAWN, Draft
from intake.flow import DeleteFlow, DraftsFlow, IntakeFlow, PrivacyFlow, StatusFlow
from intake.forms import Form, load_forms
from intake.notify import Notification, claim_pending, mark_sent, notify_staff, notify_user
from knowledge.answer import KnowledgeBase
from tests.shipped import shipped_edition

from .factories import add_draft, answers_for
from .test_flow import Entrant, _declare_and_submit
from .test_queue_cli import SUBMITTED_AT, kcxf

NOW = datetime(2024, 10, 2, 8, 0, tzinfo=UTC)

LEASE = timedelta(minutes=2)  # as the Telegram adapter claims


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


@pytest.fixture
def staff_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"telegram_staff_ids": [111, 222], "telegram_staff_chat_id": -1001})


def _engine(sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
            clock: FixedClock, settings: Settings, forms: dict[str, Form]) -> Engine:
    intake = IntakeFlow(forms)
    return Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=[intake, DraftsFlow(intake), StatusFlow(), PrivacyFlow(), DeleteFlow()])


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def _pending(sessionmaker: async_sessionmaker[AsyncSession], channel: str) -> list[Notification]:
    async with sessionmaker() as session:  # the claim is never committed: a look at what is waiting
        return await take_pending(session, channel=channel)


async def take_pending(session: AsyncSession, *, channel: str, limit: int = 50) -> list[Notification]:
    """What the bot would claim to send now, oldest first."""
    return await claim_pending(session, channel=channel, now=utcnow(), lease=LEASE, limit=limit)


# -- the outbox ----------------------------------------------------------------------------------------------------
async def test_outbox_user_and_staff_rows_taken_oldest_first_and_marked_sent(
    sessionmaker: async_sessionmaker[AsyncSession], staff_settings: Settings, settings: Settings,
):
    async with sessionmaker() as session, session.begin():
        user = User(channel="test", external_id="42", lang="en")
        session.add(user)
        await session.flush()
        first = await notify_user(session, user_id=user.id, text="one")
        second = await notify_user(session, user_id=user.id, text="two")
        staff = await notify_staff(session, settings=staff_settings, text="新申报")
        assert await notify_staff(session, settings=settings, text="nobody configured") == []
        with pytest.raises(LookupError):
            await notify_user(session, user_id=9999, text="nobody")
    assert (first.channel, first.external_id) == ("test", "42")
    assert [(n.channel, n.external_id) for n in staff] == [("telegram", "111"), ("telegram", "222"),
                                                          ("telegram", "-1001")]

    pending = await _pending(sessionmaker, "test")
    assert [n.text for n in pending] == ["one", "two"] and all(n.sent_at is None for n in pending)
    async with sessionmaker() as session:
        assert [n.id for n in await take_pending(session, channel="test", limit=1)] == [first.id]
    assert len(await _pending(sessionmaker, "telegram")) == 3

    async with sessionmaker() as session, session.begin():
        await mark_sent(session, [first.id], now=NOW)
        await mark_sent(session, [], now=NOW)
    assert [n.id for n in await _pending(sessionmaker, "test")] == [second.id]
    async with sessionmaker() as session:
        sent = await session.get(Notification, first.id)
        assert sent is not None and sent.sent_at == NOW


async def test_rows_are_written_in_the_callers_transaction(sessionmaker: async_sessionmaker[AsyncSession]):
    async with sessionmaker() as session:
        user = User(channel="test", external_id="43")
        session.add(user)
        await session.flush()
        await notify_user(session, user_id=user.id, text="never sent")
        await session.rollback()
    assert await _pending(sessionmaker, "test") == []


# -- through the engine ------------------------------------------------------------------------------------------------
async def test_a_submission_notifies_every_staff_member_and_the_staff_chat(
    sessionmaker, kb, texts, campaign, clock, staff_settings, forms: dict[str, Form],
):
    entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, staff_settings, forms),
                      forms["pioneer_product"], user_id="n1")
    await entrant.to_form()
    await entrant.fill()
    await _declare_and_submit(entrant)
    async with sessionmaker() as session:
        record = await session.scalar(select(queue.Submission))
        assert record is not None
    staff = await _pending(sessionmaker, "telegram")
    assert sorted(n.external_id for n in staff) == ["-1001", "111", "222"]
    assert {n.text for n in staff} == {f"新申报 {record.reference} · 年度科创先锋产品 · {record.entrant_name}"}
    assert await _pending(sessionmaker, "test") == []


async def test_needs_more_reopens_the_draft_and_the_resubmission_returns_to_first_review(
    sessionmaker, kb, texts, campaign, clock, staff_settings, forms: dict[str, Form],
):
    form = forms["pioneer_product"]
    entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, staff_settings, forms), form, user_id="n2")
    await entrant.to_form()
    await entrant.fill()
    await _declare_and_submit(entrant)
    async with sessionmaker() as session, session.begin():
        record = await queue.change_status(session, reference="KCXF-2024-00001", to_status="needs_more",
                                           note="请补充产品检测报告", actor="staff:li", now=clock.now())
        draft = await session.scalar(select(Draft).where(Draft.key == record.draft_key))
        assert draft is not None and draft.status == OPEN and not draft.progress.get("declaring")

    replies = await entrant.send(CommandIn("drafts"))
    [offer] = [r for r in replies if isinstance(r, TextOut) and r.choices]
    replies = await entrant.press(next(c.value for c in offer.choices if c.value[-1].isdigit()))
    assert (await entrant.state())[1] == "summary", _text(replies)
    summary = _text(replies)
    line = next(line for line in summary.splitlines() if form.field("contact_position").label.zh in line)
    await entrant.say(f"修改 {line.split('.')[0].strip()}")
    await entrant.say("首席技术官")
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-00001" in _text(replies)
    async with sessionmaker() as session:
        record = await queue.get_submission(session, "KCXF-2024-00001")
        assert record is not None and record.status == "first_review"
        assert record.answers["contact_position"] == "首席技术官"
        history = [(h.from_status, h.to_status) for h in await queue.history_of(session, record)]
        assert history == [(None, "submitted"), ("submitted", "needs_more"), ("needs_more", "first_review")]
        assert (await session.scalar(select(Draft).where(Draft.key == record.draft_key))).status == SUBMITTED
    staff = [n.text for n in await _pending(sessionmaker, "telegram")]
    assert any(t.startswith("补充材料 KCXF-2024-00001") for t in staff)


async def test_privacy_shows_the_notice_what_is_kept_and_how_to_delete(
    sessionmaker, kb, texts, campaign, clock, settings, forms: dict[str, Form],
):
    entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, settings, forms), forms["pioneer_product"],
                      user_id="n3")
    text = _text(await entrant.send(CommandIn("privacy")))
    assert texts.t("intake.privacy_notice", "zh") in text and "/delete" in text and "附件" in text
    assert (await entrant.state())[0] is None


async def test_delete_withdraws_drafts_and_their_files_but_keeps_submitted_entries(
    sessionmaker, kb, texts, campaign, clock, settings, forms: dict[str, Form], tmp_path: Path,
):
    form = forms["pioneer_product"]
    entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, settings, forms), form, user_id="n4")
    kept, gone = tmp_path / "检测报告.pdf", tmp_path / "草稿材料.pdf"
    kept.write_bytes(b"%PDF-1.4 submitted")
    gone.write_bytes(b"%PDF-1.4 draft only")
    await entrant.to_form()
    await entrant.send(FileIn(file_name=kept.name, mime_type="application/pdf", size=None, path=kept))
    await entrant.fill()
    await _declare_and_submit(entrant)
    await entrant.to_form()
    await entrant.send(FileIn(file_name=gone.name, mime_type="application/pdf", size=None, path=gone))
    draft = await entrant.draft()
    [kept_path] = [a["path"] for a in (await _submission(sessionmaker)).attachments]
    [gone_path] = [a["file_id"] for a in draft.answers["attachments"]]
    assert (settings.files_dir / gone_path).is_file() and (settings.files_dir / kept_path).is_file()
    assert Path(gone_path).parent == Path("uploads") / str(draft.user_id)

    keep = await entrant.send(CommandIn("delete"))
    assert [unstamped(c.value)[0] for c in keep[0].choices] == ["delete:confirm", "delete:keep"]
    assert "没有删除" in _text(await entrant.press("delete:keep"))
    assert (await entrant.draft()).status == OPEN

    await entrant.send(CommandIn("delete"))
    replies = await entrant.press("delete:confirm")
    text = _text(replies)
    record = await _submission(sessionmaker)
    assert "1 份草稿" in text and record.reference in text and campaign.committee.mailbox in text
    draft = await entrant.draft()
    assert draft.status == WITHDRAWN and draft.answers == {} and draft.progress == {}
    assert not (settings.files_dir / gone_path).exists() and (settings.files_dir / kept_path).is_file()
    assert record.status == "submitted" and record.answers["attachments"] and record.attachments
    async with sessionmaker() as session:
        user = await session.get(User, draft.user_id)
        assert user is not None and user.display_name == ""
    assert (await entrant.state())[0] is None
    assert "还没有申报草稿" in _text(await entrant.send(CommandIn("drafts")))


async def _submission(sessionmaker: async_sessionmaker[AsyncSession]) -> queue.Submission:
    async with sessionmaker() as session:
        record = await session.scalar(select(queue.Submission))
        assert record is not None
        return record


# -- the committee's command line ---------------------------------------------------------------------------------
async def _entries(settings: Settings, campaign: Campaign) -> None:
    """Two entries from chat drafts: KCXF-2024-00001 by an English speaker, KCXF-2024-00002 by a Chinese one."""
    engine = make_engine(settings.db_url)
    await upgrade(engine)
    forms = load_forms(campaign, directory=shipped_edition().forms_dir)
    try:
        async with make_sessionmaker(engine)() as session:
            for external_id, lang in (("en-1", "en"), ("zh-1", "zh")):
                user = User(channel="telegram", external_id=external_id, lang=lang)
                session.add(user)
                await session.flush()
                draft = await add_draft(session, user_id=user.id, award_id="pioneer_product")
                draft.set_answers(answers_for(forms["pioneer_product"]))
                draft.status = SUBMITTED
                await queue.submit(session, draft_key=draft.key, user_id=user.id, form=forms["pioneer_product"],
                                   answers=draft.answers, campaign=campaign, now=SUBMITTED_AT)
            await session.commit()
    finally:
        await engine.dispose()


async def _outbox(settings: Settings) -> tuple[list[Notification], list[Draft]]:
    engine = make_engine(settings.db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return (await take_pending(session, channel="telegram"),
                    list((await session.scalars(select(Draft).order_by(Draft.id))).all()))
    finally:
        await engine.dispose()


def test_status_change_from_the_cli_notifies_the_entrant_in_their_language(settings: Settings, campaign: Campaign):
    asyncio.run(_entries(settings, campaign))

    done = kcxf(settings, "status", "KCXF-2024-00001", "passed_first", "--note", "Well documented")
    assert done.returncode == 0, done.stderr
    [english], drafts = asyncio.run(_outbox(settings))
    assert english.external_id == "en-1"
    assert english.text == 'Your entry KCXF-2024-00001 is now "Passed first review". Note: Well documented'
    assert all(d.status == SUBMITTED for d in drafts)

    done = kcxf(settings, "status", "KCXF-2024-00002", "needs_more", "--note", "请补充近一年财务报表")
    assert done.returncode == 0, done.stderr
    pending, drafts = asyncio.run(_outbox(settings))
    chinese = pending[-1]
    assert chinese.external_id == "zh-1"
    assert chinese.text.startswith("您的申报 KCXF-2024-00002 状态更新为「需补充材料」。说明：请补充近一年财务报表")
    assert "/drafts" in chinese.text
    assert [d.status for d in drafts] == [SUBMITTED, OPEN]

    refused = kcxf(settings, "status", "KCXF-2024-00002", "finalist")
    assert refused.returncode == 1
    assert len(asyncio.run(_outbox(settings))[0]) == 2  # a refused change notifies nobody


def test_the_runtime_offers_privacy_and_delete(settings: Settings):
    from bot.runtime import Runtime

    names = [flow.name for flow in Runtime.open(settings).flows()]
    assert names == ["intake", "drafts", "status", "privacy", "delete", "reminders"]
