"""One user's two updates at once, through two engines (two workers) on one database, SQLite and PostgreSQL.

Each race is forced: the test holds the conversation states against writes, lets both engines read the same
state, and only then lets them write, so one of the two always meets the other's commit (a version conflict or
an existing receipt) and has to take the path this file is about.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, TextIn
from bot.replies import Reply, TextOut
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake.drafts import SUBMITTED, Draft
from intake.flow import PREFIX, IntakeFlow
from intake.forms import Form, load_forms
from intake.queue import Submission
from knowledge.answer import KnowledgeBase
from tests.intake.factories import typed_answer
from tests.intake.test_flow import Entrant
from tests.scratch_pg import scratch_database
from tests.shipped import shipped_edition, shipped_forms

WAIT_S = 60.0


@dataclass
class Workers:
    """Two engines with connection pools of their own on one database, as two bot processes have."""

    url: str
    a: Engine
    b: Engine

    @property
    def pair(self) -> tuple[Engine, Engine]:
        return self.a, self.b


@pytest.fixture(params=["sqlite", "postgresql"])
async def workers(
    request: pytest.FixtureRequest, settings: Settings, kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock,
) -> AsyncIterator[Workers]:
    forms = load_forms(campaign, directory=shipped_edition().forms_dir)

    async def pair(url: str) -> AsyncIterator[Workers]:
        pools: list[AsyncEngine] = [make_engine(url), make_engine(url)]
        await upgrade(pools[0])
        engines = [Engine(sessionmaker=make_sessionmaker(pool), answerer=kb, texts=texts, campaign=campaign,
                          clock=clock, settings=settings, flows=[IntakeFlow(forms)]) for pool in pools]
        try:
            yield Workers(url, *engines)
        finally:
            for pool in pools:
                await pool.dispose()

    if request.param == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        async for w in pair(settings.db_url):
            yield w
    else:
        async with scratch_database("kcxf_race") as url:
            async for w in pair(url):
                yield w


@asynccontextmanager
async def writes_held(url: str) -> AsyncIterator[None]:
    """While inside, nobody can write the conversation states or the drafts; reading them goes on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # SQLite has one writer at a time: an open write transaction is enough (WAL readers are not blocked).
        holder = sqlite3.connect(parsed.database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    pool = make_engine(url)
    try:
        async with pool.connect() as conn:
            await conn.execute(text("LOCK TABLE conversation_states, drafts IN EXCLUSIVE MODE"))
            yield
            await conn.rollback()
    finally:
        await pool.dispose()


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"waited {WAIT_S:.0f} s in vain: {what}")


async def race(
    workers: Workers, entrant: Entrant, caplog: pytest.LogCaptureFixture,
    twins: Sequence[tuple[Event, tuple[str, ...]]],
) -> list[list[Reply]]:
    """Hand one event to each engine at once, both having read the same state before either may write."""
    caplog.set_level(logging.INFO, logger="bot.engine")
    mark = len(caplog.records)

    def reads() -> int:
        # The engine logs this line after reading the user and their state, before handling the event.
        return sum(r.name == "bot.engine" and r.getMessage().startswith("event ") for r in caplog.records[mark:])

    async with writes_held(workers.url):
        tasks = [asyncio.create_task(engine.handle(entrant.user, event, once=once))
                 for engine, (event, once) in zip(workers.pair, twins, strict=True)]
        await _until(lambda: reads() >= 2, "both engines read the state")
    return list(await asyncio.gather(*tasks))


def conflicts(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the engine logged of lost races: a version conflict, or a twin found handled."""
    return [r.getMessage() for r in caplog.records if r.name == "bot.engine"
            and (r.getMessage().startswith("conflict for") or "handled meanwhile" in r.getMessage()
                 or "already handled" in r.getMessage())]


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def advance_to(entrant: Entrant, field_id: str) -> None:
    """Answer the form until it asks `field_id`."""
    for _ in range(200):
        _, step, data = await entrant.state()
        if step == "more":
            await entrant.press(f"{PREFIX}no")
            continue
        assert step == "ask", step
        field = entrant.form.field(data["position"].split(".")[-1])
        if field.id == field_id:
            return
        if field.type == "file_list":
            await entrant.press(f"{PREFIX}skip")
        else:
            await entrant.say(typed_answer(entrant.form, field, typed={}, long_text=None))
    raise AssertionError(f"never asked {field_id}")


def prompt(form: Form, field_id: str) -> str:
    return form.field(field_id).prompt.zh


async def test_the_same_update_on_two_workers_is_applied_once(workers: Workers, caplog: pytest.LogCaptureFixture):
    form = shipped_forms()["pioneer_product"]
    entrant = Entrant(workers.a, form, user_id="same-update")
    await entrant.to_form()
    await advance_to(entrant, "contact_mobile")
    event = (TextIn("13812345678"), ("test:update:501",))
    replies = await race(workers, entrant, caplog, [event, event])
    # One worker answered; the other found the receipt (or the newer state, then the receipt) and said nothing.
    assert sorted(bool(r) for r in replies) == [False, True]
    [answered] = [r for r in replies if r]
    assert prompt(form, "contact_email") in said(answered)
    draft = await entrant.draft()
    assert draft.answers["contact_mobile"].endswith("13812345678") and "contact_email" not in draft.answers
    assert (await entrant.state())[2]["position"] == "contact_email"
    assert conflicts(caplog)


async def test_a_double_press_answers_its_question_once(workers: Workers, caplog: pytest.LogCaptureFixture):
    form = shipped_forms()["pioneer_product"]
    entrant = Entrant(workers.a, form, user_id="double-press")
    await entrant.send(CommandIn("apply"))
    await entrant.press(f"{PREFIX}group:product")
    assert (await entrant.state())[1] == "precheck:ip"
    keyboard = "test:keyboard:77:1001"  # both presses are on the same message's keyboard
    replies = await race(workers, entrant, caplog, [
        (ChoiceIn(f"{PREFIX}yes"), ("test:update:601", keyboard)),
        (ChoiceIn(f"{PREFIX}yes"), ("test:update:602", keyboard)),
    ])
    assert sorted(bool(r) for r in replies) == [False, True]
    # Had the second "yes" counted, it would have answered the next question (a serious incident: yes) unseen.
    assert (await entrant.state())[1] == "precheck:incident"
    assert conflicts(caplog)


async def test_two_messages_at_once_are_each_answered_for_the_state_they_met(
    workers: Workers, caplog: pytest.LogCaptureFixture,
):
    form = shipped_forms()["pioneer_product"]
    entrant = Entrant(workers.a, form, user_id="two-messages")
    await entrant.to_form()
    await advance_to(entrant, "contact_mobile")
    mobile, email = "13812345678", "wangli@pioneer-tech.cn"  # the e-mail is no mobile number
    first, second = await race(workers, entrant, caplog, [
        (TextIn(mobile), ("test:update:701",)),
        (TextIn(email), ("test:update:702",)),
    ])
    assert any(m.startswith("conflict for") for m in conflicts(caplog))  # the loser really ran again
    draft = await entrant.draft()
    # Whichever came first, the mobile number is where it belongs and nothing landed in a wrong field.
    assert draft.answers["contact_mobile"].endswith(mobile)
    if draft.answers.get("contact_email") == email:  # the number first, then the e-mail for the next question
        assert prompt(form, "contact_email") in said(first)
        assert prompt(form, "contact_email") not in said(second) and said(second)
        assert (await entrant.state())[2]["position"] != "contact_email"
    else:  # the e-mail first, refused as a mobile number; the number, run again, answered it
        assert "contact_email" not in draft.answers
        assert prompt(form, "contact_mobile") in said(second)
        assert prompt(form, "contact_email") in said(first)
        assert (await entrant.state())[2]["position"] == "contact_email"


@pytest.mark.parametrize("how", ["double press", "press and typed"])
async def test_two_presses_of_the_last_declaration_make_one_submission(
    workers: Workers, caplog: pytest.LogCaptureFixture, how: str,
):
    form = shipped_forms()["pioneer_product"]
    entrant = Entrant(workers.a, form, user_id=f"submit-{how}")
    await entrant.to_form()
    await entrant.fill()
    await entrant.press(f"{PREFIX}confirm")
    last = [s.field.id for s in form.fields() if s.field.type == "consent" and s.group is None][-1]
    for _ in range(10):
        if (await entrant.state())[2]["position"] == last:
            break
        await entrant.press(f"{PREFIX}yes")
    else:
        raise AssertionError("never reached the last declaration")
    keyboard = "test:keyboard:78:2002"
    second: Event = ChoiceIn(f"{PREFIX}yes") if how == "double press" else TextIn("同意")
    second_keys = ("test:update:802", keyboard) if how == "double press" else ("test:update:802",)
    replies = await race(workers, entrant, caplog, [
        (ChoiceIn(f"{PREFIX}yes"), ("test:update:801", keyboard)),
        (second, second_keys),
    ])
    assert conflicts(caplog)
    assert sum("KCXF-2024-" in said(r) for r in replies) == 1
    async with workers.b.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 1
        draft = await session.scalar(select(Draft))
    assert draft is not None and draft.status == SUBMITTED
    assert (await entrant.state())[0] is None
    if how == "double press":
        assert sorted(bool(r) for r in replies) == [False, True]
    else:  # the loser met the finished flow and was answered for that, not with an error
        assert all(r for r in replies)
        error = workers.a.texts.t("engine.error", "zh")
        assert not any(error in said(r) for r in replies)


async def test_a_message_arriving_after_a_later_one_is_refused_not_applied_to_the_next_question(workers: Workers):
    """Issue 18 item 9: two quick answers of one user, taken by two workers in swapped order."""
    form = shipped_forms()["pioneer_product"]
    entrant = Entrant(workers.a, form, user_id="late")
    await entrant.to_form()
    await advance_to(entrant, "risk_tech_cooperation")
    cooperation, transfer = "与复旦大学合作研发芯片", "无专利转让或许可"
    # Typed in this order (updates 901 and 902); worker b takes 902 first, and only then worker a takes 901.
    await workers.b.handle(entrant.user, TextIn(transfer), once=("test:update:902",), seq=902)
    late = await workers.a.handle(entrant.user, TextIn(cooperation), once=("test:update:901",), seq=901)
    assert said(late) == workers.a.texts.t("engine.out_of_order", "zh")
    draft = await entrant.draft()
    # 902 answered the question it met (nothing could tell it was meant for the next one); 901 did not answer
    # the next question in its place.
    assert draft.answers["risk_tech_cooperation"] == transfer and "risk_patent_transfer" not in draft.answers
    assert (await entrant.state())[2]["position"] == "risk_patent_transfer"
    # Recorded: delivered again, it is dropped without a word; a later update is applied as usual.
    assert await workers.b.handle(entrant.user, TextIn(cooperation), once=("test:update:901",), seq=901) == []
    await workers.b.handle(entrant.user, TextIn("无"), once=("test:update:903",), seq=903)
    assert (await entrant.draft()).answers["risk_patent_transfer"] == "无"
