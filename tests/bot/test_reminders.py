"""Deadline reminders (bot/reminders.py): on the campaign's schedule, across the deadline on the injectable clock,
through the engine's buttons, once however many workers look, over the Bot API stub, and `kcxf remind`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import CommandIn
from bot.housekeeping import keep_house
from bot.reminders import ReminderSent, RemindersFlow, ReminderStop, due_reminders, due_slot, send_reminders
from bot.replies import Reply, TextOut
from bot.runtime import Runtime
from bot.texts import Texts
from bot.users import User
from config.campaign import Campaign, Reminders
from config.clock import FixedClock
from config.settings import Settings
from intake.complete import completeness
from intake.drafts import Draft
from intake.flow import PREFIX, DeleteFlow, DraftsFlow, IntakeFlow
from intake.forms import Form, load_forms
from intake.notify import Notification
from knowledge.answer import KnowledgeBase
from tests.bot.test_engine import DictAnswerer
from tests.bot.test_telegram import USER, Person, _serving, _settings
from tests.databases import kcxf_env
from tests.intake.factories import add_draft, typed_answer
from tests.intake.test_flow import Entrant, _declare_and_submit
from tests.processes import child_env
from tests.shipped import shipped_edition, shipped_forms
from tests.stubs import BotApiStub

SHANGHAI = ZoneInfo("Asia/Shanghai")
AWARD = "pioneer_product"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def _engine(sessions: async_sessionmaker[AsyncSession], *, texts: Texts, campaign: Campaign, clock: FixedClock,
            settings: Settings, forms: dict[str, Form]) -> Engine:
    """The engine with the flows a running bot has (Runtime.flows), reminders' buttons included."""
    intake = IntakeFlow(forms)
    return Engine(sessionmaker=sessions, answerer=DictAnswerer({}), texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=[intake, DraftsFlow(intake), DeleteFlow(), RemindersFlow(intake)])


async def _answer(entrant: Entrant, count: int) -> None:
    for _ in range(count):
        _, step, data = await entrant.state()
        assert step == "ask"
        field = entrant.form.field(data["position"].split(".")[-1])
        if field.type == "file_list" or not field.required:
            await entrant.press(f"{PREFIX}skip")
        else:
            await entrant.say(typed_answer(entrant.form, field, typed={}, long_text=None))


async def _outbox(sessions: async_sessionmaker[AsyncSession], after: int = 0) -> list[Notification]:
    async with sessions() as session:
        return list(await session.scalars(select(Notification).where(Notification.id > after)
                                          .order_by(Notification.id)))


async def _missing(sessions: async_sessionmaker[AsyncSession], entrant: Entrant) -> int:
    draft = await entrant.draft()
    return len(completeness(entrant.form, draft.answers))


def _text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


def _button(note: Notification, label: str) -> str:
    [value] = [v for text, v in (note.extra or {}).get("choices", []) if text == label]
    return value


async def test_reminders_across_the_deadline(
    sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign, clock: FixedClock,
    settings: Settings, forms: dict[str, Form],
):
    """7, 3 and 1 days before, a quiet week, quiet hours, the stop and resume buttons, none after /delete, a
    submission, or the deadline; each says how many required items are missing and how long is left."""
    assert campaign.reminders.days_before_deadline == (7, 3, 1)
    engine = _engine(sessionmaker, texts=texts, campaign=campaign, clock=clock, settings=settings, forms=forms)
    form = forms[AWARD]

    async def round_at(instant: datetime) -> list[Notification]:
        clock.set(instant)
        before = await _outbox(sessionmaker)
        chores = await keep_house(engine)  # the running bot's housekeeping round
        queued = await _outbox(sessionmaker, after=before[-1].id if before else 0)
        assert chores.reminders == len(queued)
        return queued

    clock.set(at(10, 1, 10))
    alice, bob, carol, dan = (Entrant(engine, form, user_id=str(n)) for n in (1, 2, 3, 4))
    for entrant in (alice, bob, carol, dan):
        await entrant.to_form()
    await _answer(alice, 8)  # up to the product's name, which names the entrant
    await dan.fill()
    await _declare_and_submit(dan)
    assert (await dan.draft()).status == "submitted"
    assert await round_at(at(10, 1, 10, 5)) == []
    clock.set(at(10, 2, 15))
    await carol.send(CommandIn("delete"))
    assert "已撤回" in _text(await carol.press("delete:confirm"))

    # A week without work: one reminder each to the two open drafts, none to the withdrawn or the submitted one.
    assert await round_at(at(10, 8, 9, 59)) == []
    quiet = await round_at(at(10, 8, 10))
    assert [n.external_id for n in quiet] == ["1", "2"]
    entrant = (await alice.draft()).answers["product_name"]  # the award's subject field names the entrant
    assert quiet[0].text.startswith(f"您的「年度科创先锋产品」申报草稿（{entrant}）已 7 天没有填写")
    assert quiet[1].text.startswith("您的「年度科创先锋产品」申报草稿已 7 天没有填写")  # Bob named no entrant yet
    assert f"已 7 天没有填写，还差 {await _missing(sessionmaker, alice)} 项，截止还有 13 天" in quiet[0].text
    assert f"还差 {await _missing(sessionmaker, bob)} 项" in quiet[1].text
    assert await _missing(sessionmaker, alice) < await _missing(sessionmaker, bob)
    assert [label for label, _ in quiet[0].extra["choices"]] == ["继续填写", "不再提醒"]
    assert await round_at(at(10, 8, 10, 1)) == []  # once

    # Bob stops them; Alice's button takes her back into her draft at its next question, from any state.
    await bob.send(CommandIn("drafts"))  # in the middle of something else
    stopped = await bob.press(_button(quiet[1], "不再提醒"))
    assert "不再发送截止提醒" in _text(stopped)
    resumed = await alice.press(_button(quiet[0], "继续填写"))
    assert "继续填写" in _text(resumed) and "第 " in _text(resumed)
    flow, step, data = await alice.state()
    assert (flow, step) == ("intake", "ask")
    assert data["position"] == (await alice.draft()).progress["position"]

    # 7 days before: due at midnight, inside the quiet hours, so sent at 09:00 Beijing time; not to Bob.
    assert await round_at(at(10, 14, 0, 0)) == []
    assert await due_reminders(sessionmaker, campaign=campaign, forms=forms, now=at(10, 14, 8, 59)) == []
    [week] = await round_at(at(10, 14, 9, 0))
    assert week.external_id == "1" and "⏰" in week.text and "截止还有 7 天" in week.text
    assert await round_at(at(10, 15, 10, 30)) == []  # the quiet week counts from the last reminder too

    [three] = await round_at(at(10, 18, 9, 0))
    assert three.external_id == "1" and "截止还有 3 天" in three.text
    # A draft begun after the 3-days reminder fell due gets only the next one.
    clock.set(at(10, 19, 12))
    erin = Entrant(engine, form, user_id="5")
    await erin.to_form()
    last = await round_at(at(10, 20, 9, 0))
    assert [n.external_id for n in last] == ["1", "5"] and all("截止还有 1 天" in n.text for n in last)
    assert f"还差 {await _missing(sessionmaker, erin)} 项" in last[1].text

    # Quiet hours on the last evening, then the deadline: nothing more, ever.
    for instant in (at(10, 20, 21, 0), at(10, 21, 0, 0), at(10, 21, 9, 0), at(10, 28, 9, 0), at(11, 5, 9, 0)):
        assert await round_at(instant) == []
    async with sessionmaker() as session:
        slots = (await session.execute(select(Draft.user_id, ReminderSent.slot).join(Draft)
                                       .order_by(ReminderSent.sent_at))).all()
        users = dict((await session.execute(select(User.id, User.external_id))).all())
        assert await session.scalar(select(func.count()).select_from(ReminderStop)) == 1
    assert [(users[u], s) for u, s in slots] == [
        ("1", "quiet:2024-10-01"), ("2", "quiet:2024-10-01"), ("1", "before:7"), ("1", "before:3"),
        ("1", "before:1"), ("5", "before:1")]


async def test_a_resume_button_of_a_closed_draft_says_so(
    sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign, clock: FixedClock,
    settings: Settings, forms: dict[str, Form],
):
    engine = _engine(sessionmaker, texts=texts, campaign=campaign, clock=clock, settings=settings, forms=forms)
    clock.set(at(10, 1, 10))
    me = Entrant(engine, forms[AWARD], user_id="7")
    await me.to_form()
    clock.set(at(10, 14, 9))
    await send_reminders(sessionmaker, campaign=campaign, forms=forms, texts=texts, clock=clock)
    [note] = await _outbox(sessionmaker)
    await me.send(CommandIn("delete"))
    await me.press("delete:confirm")
    replies = await me.press(_button(note, "继续填写"))
    assert "已提交、已撤回或已删除" in _text(replies)
    assert (await me.state())[0] is None


async def test_reminders_are_in_the_entrants_language(
    sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign, clock: FixedClock,
    settings: Settings, forms: dict[str, Form],
):
    engine = _engine(sessionmaker, texts=texts, campaign=campaign, clock=clock, settings=settings, forms=forms)
    clock.set(at(10, 1, 10))
    me = Entrant(engine, forms[AWARD], user_id="8")
    await me.to_form()
    await me.send(CommandIn("lang", "en"))
    clock.set(at(10, 20, 9))
    await send_reminders(sessionmaker, campaign=campaign, forms=forms, texts=texts, clock=clock)
    [note] = await _outbox(sessionmaker)
    missing = len(completeness(me.form, (await me.draft()).answers))
    assert f"{missing} required item(s) still to fill in; 1 day left until the deadline" in note.text
    assert [label for label, _ in note.extra["choices"]] == ["Continue", "Stop reminders"]
    assert "Done: no more deadline reminders" in _text(await me.press(_button(note, "Stop reminders")))


def test_the_schedule_wraps_quiet_hours_past_midnight_and_refuses_broken_data(campaign: Campaign):
    schedule = campaign.reminders
    assert schedule.is_quiet(at(10, 14, 21, 0)) and schedule.is_quiet(at(10, 14, 8, 59))
    assert not schedule.is_quiet(at(10, 14, 9, 0)) and not schedule.is_quiet(at(10, 14, 20, 59))
    # Quiet hours are Beijing time whatever zone the instant is given in: 01:30 UTC is 09:30 there.
    assert not schedule.is_quiet(datetime(2024, 10, 14, 1, 30, tzinfo=ZoneInfo("UTC")))
    assert Reminders(days_before_deadline=(1, 7, 3)).days_before_deadline == (7, 3, 1)
    for bad in ({"days_before_deadline": (3, 3)}, {"days_before_deadline": (0,)}, {"time_zone": "Mars/Base"},
                {"quiet_from": time(21)}):
        with pytest.raises(ValueError):
            Reminders(**bad)
    # A reminder falling due in the quiet hours of the last evening is never sent: the deadline passes first.
    daily = Reminders(quiet_after_days=1, quiet_from=time(21), quiet_until=time(9))
    for now in (at(10, 20, 22), at(10, 21, 9)):
        assert due_slot(daily, deadline=campaign.deadline, now=now, created_at=at(10, 1, 0),
                        updated_at=at(10, 19, 22), sent=(), last_sent=None) is None
    slot = due_slot(daily, deadline=campaign.deadline, now=at(10, 20, 20), created_at=at(10, 1, 0),
                    updated_at=at(10, 19, 19), sent=(), last_sent=None)
    assert slot is not None and (slot.key, slot.due) == ("quiet:2024-10-19", at(10, 20, 19))
    # No schedule: no reminder, however quiet the draft.
    none = Reminders()
    assert due_slot(none, deadline=campaign.deadline, now=at(10, 20, 12), created_at=at(9, 1, 0),
                    updated_at=at(9, 1, 0), sent=(), last_sent=None) is None


async def test_two_workers_send_each_reminder_once(
    pools: list[async_sessionmaker[AsyncSession]], texts: Texts, campaign: Campaign, settings: Settings,
    forms: dict[str, Form],
):
    """Two bot workers (two connection pools on one database) run their housekeeping at the same moment."""
    first = pools[0]
    async with first() as session, session.begin():
        for n in range(12):
            user = User(channel="telegram", external_id=str(9000 + n), lang="zh")
            session.add(user)
            await session.flush()
            await add_draft(session, user_id=user.id, award_id=AWARD, now=at(10, 1, 10))
    clocks = [FixedClock(at(10, 14, 9)), FixedClock(at(10, 14, 9))]
    engines = [_engine(pool, texts=texts, campaign=campaign, clock=c, settings=settings, forms=forms)
               for pool, c in zip(pools, clocks, strict=True)]
    for instant in (at(10, 14, 9), at(10, 18, 9, 1)):
        for c in clocks:
            c.set(instant)
        chores = await asyncio.gather(*(keep_house(e) for e in engines))
        assert sum(c.reminders for c in chores) == 12
    notes = await _outbox(first)
    assert len(notes) == 24
    assert sorted(n.external_id for n in notes) == sorted(str(9000 + n) for n in range(12) for _ in range(2))
    assert sum("截止还有 7 天" in n.text for n in notes) == 12 and sum("截止还有 3 天" in n.text for n in notes) == 12


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


async def test_reminder_buttons_over_telegram(
    stub: BotApiStub, tmp_path: Path, database_url: str | None, kb: KnowledgeBase,
):
    """The running bot delivers a reminder from the outbox; 继续填写 resumes the draft at its next question and
    不再提醒 stops every later one."""
    settings = _settings(stub, tmp_path, database_url, telegram_rate_per_minute=1000)
    async with _serving(settings, kb, outbox_interval_s=0.05) as (runtime, _):
        me = Person(stub)
        await me.say("/apply", expect="")
        await me.press(f"{PREFIX}group:product")
        await me.press(f"{PREFIX}yes")
        await me.press(f"{PREFIX}no")
        await me.press(f"{PREFIX}award:{AWARD}")
        first_question = await me.press(f"{PREFIX}agree", expect="第 1/")
        await me.say("/status", expect="")  # somewhere else when the reminder comes
        sessions = await runtime.sessionmaker()
        clock = FixedClock(at(10, 14, 9))
        await send_reminders(sessions, campaign=runtime.campaign, forms=runtime.forms, texts=runtime.texts,
                             clock=clock)
        reminder = await stub.wait_for(lambda c: c.method == "sendMessage" and "截止还有 7 天" in c.text)
        assert str(reminder.params["chat_id"]) == str(USER)
        assert reminder.offering(f"remind:resume:{(await _draft_id(sessions))}") is not None
        resumed = await me.press(f"remind:resume:{await _draft_id(sessions)}", expect="第 1/")
        assert first_question.text.splitlines()[1] in resumed.text

        clock.set(at(10, 18, 9))
        await send_reminders(sessions, campaign=runtime.campaign, forms=runtime.forms, texts=runtime.texts,
                             clock=clock)
        await stub.wait_for(lambda c: c.method == "sendMessage" and "截止还有 3 天" in c.text)
        await me.press("remind:stop", expect="不再发送截止提醒")
        clock.set(at(10, 20, 9))
        assert await send_reminders(sessions, campaign=runtime.campaign, forms=runtime.forms,
                                    texts=runtime.texts, clock=clock) == []


async def _draft_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        draft_id = await session.scalar(select(Draft.id))
    assert draft_id is not None
    return draft_id


@pytest.fixture
async def seeded(settings: Settings) -> AsyncIterator[Settings]:
    """A data folder whose database holds one entrant's draft begun on 1 October."""
    runtime = Runtime.open(settings)
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        user = User(channel="telegram", external_id="31337", lang="zh")
        session.add(user)
        await session.flush()
        await add_draft(session, user_id=user.id, award_id=AWARD, now=at(10, 1, 10))
    await runtime.close()
    yield settings


def _remind(settings: Settings, now: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bot", "remind", *args], capture_output=True, text=True,
                          timeout=120, cwd=settings.data_dir.parent,
                          env={**child_env(), **kcxf_env(settings), "KCXF_NOW": now, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kcxf_remind_dry_run_says_who_and_why_then_sends(seeded: Settings):
    quiet = _remind(seeded, "2024-10-14T08:30:00+08:00", "--dry-run")
    assert "Quiet hours (21:00–09:00)" in quiet and "0 reminder(s) due now" in quiet
    due = _remind(seeded, "2024-10-14T09:00:00+08:00", "--dry-run")
    missing = len(completeness(shipped_forms()[AWARD], {}))
    assert ("telegram:31337 (zh) draft 1 of 年度科创先锋产品 (pioneer_product), before:7: 7 day(s) before the "
            f"deadline, due 2024-10-14 00:00; {missing} required item(s) missing, 7 day(s) left") in due
    assert "1 reminder(s) due now; nothing was changed." in due
    assert "1 reminder(s) due now" in _remind(seeded, "2024-10-14T09:00:00+08:00", "--dry-run")  # still
    assert "1 reminder(s) queued" in _remind(seeded, "2024-10-14T09:00:00+08:00")
    assert "0 reminder(s) due now" in _remind(seeded, "2024-10-14T09:05:00+08:00", "--dry-run")
    quiet_week = _remind(seeded, "2024-10-21T10:00:00+08:00", "--dry-run")
    assert "The deadline has passed" in quiet_week and "0 reminder(s)" in quiet_week


async def test_a_draft_withdrawn_during_the_quiet_hours_is_not_reminded_after_them(
    sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign, clock: FixedClock,
    settings: Settings, forms: dict[str, Form],
):
    engine = _engine(sessionmaker, texts=texts, campaign=campaign, clock=clock, settings=settings, forms=forms)
    clock.set(at(10, 1, 10))
    me = Entrant(engine, forms[AWARD], user_id="9")
    await me.to_form()
    clock.set(at(10, 14, 1))  # the 7-days reminder is due, and waits for the morning
    assert await send_reminders(sessionmaker, campaign=campaign, forms=forms, texts=texts, clock=clock) == []
    await me.send(CommandIn("delete"))
    await me.press("delete:confirm")
    clock.set(at(10, 14, 9))
    assert await send_reminders(sessionmaker, campaign=campaign, forms=forms, texts=texts, clock=clock) == []
    assert await _outbox(sessionmaker) == []
