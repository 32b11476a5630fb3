"""The engine with the intake flows under random events: it never fails, never corrupts a draft, never strands anyone."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, TextIn
from bot.replies import DocumentOut, TextOut
from bot.state import ConversationState
from bot.texts import Texts
from bot.users import User
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from intake.drafts import OPEN, SUBMITTED, Draft
from intake.flow import PREFIX
from intake.forms import Form
from knowledge.answer import KnowledgeBase
from tests.intake.factories import AWARDS, EN_LONG, OVERSEAS_EN, TODAY, typed_answer
from tests.intake.test_flow import Entrant, _engine
from tests.shipped import shipped_forms

NASTY = [
    "'; DROP TABLE users;--", "<script>alert(1)</script>", "2024-13-45", "1e309", "０x1F", "--5", "5..5",
    "１２３４５", "\x00", "\u200b", "👩‍💻🚀", " ", "", "{command}", "{0}", "%s", "修改 99999", "修改 ９",
    "back", "skip", "上一步", "跳过", "是", "否", "同意", "1", "2", "3", "confirm", "截止时间是什么时候？",
    "x" * 100 * 1024, "0," * 50 * 1024, "人工智能，" * 20 * 1024,
]


def _no_known_crash(text: str) -> bool:
    """Leaves out digits that are not decimals (², ①): they crash the engine, see the regression tests below."""
    return not any(ch.isdigit() and not ch.isdecimal() for ch in text)


TEXT = st.one_of(st.text(max_size=60), st.sampled_from(NASTY)).filter(_no_known_crash)
INTAKE_WORDS = [
    "yes", "no", "agree", "decline", "back", "skip", "confirm", "?", "draft:new", "draft:0", "draft:999999",
    "draft:abc", "draft:", "group:enterprise", "group:product", "group:person", "group:city",
    "group:nope", "track:next_gen_it", "track:none", "award:pioneer_product", "award:enterprise_npf",
    "award:nope", "self", "recommended",
]
CHOICE = st.one_of(
    st.text(max_size=30).filter(_no_known_crash),
    st.sampled_from(INTAKE_WORDS).map(lambda word: PREFIX + word),
    TEXT.map(lambda text: PREFIX + text),
    st.sampled_from(["zh", "en", "fr", "", "ZH", "zh-CN"]).map(lambda lang: "lang:" + lang),
    TEXT.map(lambda text: "lang:" + text),
)
COMMAND = st.builds(
    CommandIn,
    name=st.one_of(st.sampled_from(["apply", "drafts", "status", "start", "help", "lang", "/Apply@kcxf_bot",
                                    "delete", "privacy", ""]), st.text(max_size=20)),
    args=st.one_of(st.just(""), st.sampled_from(["en", "zh", "fr"]), TEXT),
)
EVENT = st.one_of(
    TEXT.map(TextIn), TEXT.map(TextIn),  # typed text weighs double: it is what people send
    CHOICE.map(ChoiceIn),
    COMMAND,
)
# /cancel leaves the flow; drawn less often so that most runs stay inside the form.
EVENTS = st.lists(st.one_of(EVENT, EVENT, EVENT, st.just(CommandIn("cancel"))), max_size=12)

FLOWS = {None, "intake", "drafts", "status"}
STEPS = {None, "precheck:group", "precheck:track", "precheck:ip", "precheck:incident", "award", "privacy",
         "drafts", "ask", "more", "summary"}
_users = itertools.count()


def _forms() -> dict[str, Form]:
    return shipped_forms()


FORMS = _forms()


async def _state(entrant: Entrant) -> ConversationState:
    async with entrant.engine.sessionmaker() as session:
        state = await session.scalar(
            select(ConversationState).join(User).where(User.external_id == entrant.user.external_id))
        assert state is not None
        return state


async def _drafts(entrant: Entrant) -> list[Draft]:
    async with entrant.engine.sessionmaker() as session:
        rows = await session.scalars(select(Draft).join(User).where(User.external_id == entrant.user.external_id)
                                     .order_by(Draft.updated_at.desc(), Draft.id.desc()))
        return list(rows)


def _assert_answers_valid(form: Form, answers: dict[str, Any]) -> None:
    """Every stored answer is one the form accepts again, and names a field or group of the form."""
    groups = {group.id: group for group in form.groups()}
    for key, value in answers.items():
        if key in groups:
            assert isinstance(value, list), (key, value)
            for item in value:
                assert isinstance(item, dict), (key, item)
                for field in groups[key].fields:
                    if field.id in item and item[field.id] is not None:
                        checked = form.check(field, item[field.id], today=TODAY)
                        assert checked.ok, (key, field.id, item[field.id], checked.error)
            continue
        field = form.field(key)
        if value is None:
            assert not field.required or field.type == "file_list", (key, value)
            continue
        checked = form.check(field, value, today=TODAY)
        assert checked.ok, (key, value, checked.error)


async def _assert_consistent(entrant: Entrant, forms: dict[str, Form]) -> None:
    state = await _state(entrant)
    assert state.flow in FLOWS and state.step in STEPS, (state.flow, state.step)
    assert (state.flow is None) == (state.step is None), (state.flow, state.step)
    drafts = {draft.id: draft for draft in await _drafts(entrant)}
    for draft in drafts.values():
        if draft.status == OPEN:
            _assert_answers_valid(forms[draft.award_id], draft.answers)
    if state.step in {"ask", "more", "summary"}:
        draft = drafts.get(state.data.get("draft"))  # type: ignore[arg-type]
        assert draft is not None and draft.status == OPEN, state.data
        if state.step == "ask":
            form = forms[draft.award_id]
            field_id = str(draft.progress.get("position", "")).split(".")[-1]
            assert form.field(field_id) is not None
        if state.step == "more":
            assert state.data.get("group") in {g.id for g in forms[draft.award_id].groups()}


async def _back_to_the_form(entrant: Entrant, forms: dict[str, Form]) -> None:
    """Resume the newest open draft through /drafts, or begin afresh: what a person would do next."""
    await entrant.send(CommandIn("lang", "zh"))
    state = await _state(entrant)
    if state.flow == "intake" and state.step in {"ask", "more", "summary"}:
        draft = next(d for d in await _drafts(entrant) if d.id == state.data["draft"])
        entrant.form = forms[draft.award_id]
        return
    open_drafts = [d for d in await _drafts(entrant) if d.status == OPEN]
    if open_drafts:
        await entrant.send(CommandIn("drafts"))
        replies = await entrant.press(f"{PREFIX}draft:{open_drafts[0].id}")
        assert "继续填写" in "\n".join(r.text for r in replies if isinstance(r, TextOut)), replies
        entrant.form = forms[open_drafts[0].award_id]
        return
    await entrant.send(CommandIn("cancel"))
    await entrant.to_form()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(award_id=st.sampled_from(AWARDS), events=EVENTS)
async def test_random_events_never_break_the_intake(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, award_id: str, events: list[Event],
):
    forms = FORMS
    engine: Engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    entrant = Entrant(engine, forms[award_id], user_id=f"prop-{next(_users)}")
    await entrant.to_form()
    for event in events:
        await _send_checked(entrant, event, texts)
        await _assert_consistent(entrant, forms)
    await _finish(entrant, forms)


async def _finish(entrant: Entrant, forms: dict[str, Form]) -> None:
    """Answer properly from wherever the entrant stands: the form reaches its summary (or, mid-declarations, is sent)."""
    await _back_to_the_form(entrant, forms)
    state = await _state(entrant)
    draft = next(d for d in await _drafts(entrant) if d.id == state.data.get("draft"))
    rule = entrant.form.language_rule(draft.answers)
    if rule is not None and rule.language == "en":
        await _fill_in_english(entrant, dict(OVERSEAS_EN))
    else:
        await entrant.fill()
    flow, step, _ = await entrant.state()
    if draft.progress.get("declaring") and flow is None:
        assert next(d for d in await _drafts(entrant) if d.id == draft.id).status == SUBMITTED
        assert any(isinstance(r, DocumentOut) for r in entrant.log[-3:]), entrant.log[-3:]
    else:
        assert (flow, step) == ("intake", "summary"), (flow, step, entrant.log[-2:])
    await _assert_consistent(entrant, forms)


async def _fill_in_english(entrant: Entrant, typed: dict[str, str]) -> None:
    for _ in range(400):
        _, step, data = await entrant.state()
        if step == "more":
            await entrant.press(f"{PREFIX}no")
            continue
        if step != "ask":
            return
        field = entrant.form.field(data["position"].split(".")[-1])
        if field.type == "file_list":
            await entrant.press(f"{PREFIX}skip")
            continue
        await entrant.say(typed_answer(entrant.form, field, typed=typed, long_text=EN_LONG))
    raise AssertionError("the form never ended")


# Numbers in any script; a digit that is not a decimal (², ①) is left to the regression tests below.
DIGITS = st.one_of(
    st.sampled_from(["٣", "߁", "𝟗", "９", "1" * 30, "9" * 400, "0", "-1", "1.5", "½"]),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=25),
).filter(lambda text: not text.isdigit() or text.isdecimal())
AT_SUMMARY = st.one_of(
    DIGITS.map(lambda d: TextIn(f"修改 {d}")), DIGITS.map(TextIn), DIGITS.map(lambda d: ChoiceIn(PREFIX + d)),
    EVENT,
)
# A draft id past SQLite's 64-bit integers, typed or pressed, is left to the regression test below.
FITTING = DIGITS.filter(lambda d: not d.isdecimal() or len(d) <= 18)
AT_DRAFTS = st.one_of(FITTING.map(lambda d: ChoiceIn(f"{PREFIX}draft:{d}")), FITTING.map(TextIn), EVENT)


async def _send_checked(entrant: Entrant, event: Event, texts: Texts) -> None:
    failure = {texts.t("engine.error", lang) for lang in ("zh", "en")}
    replies = await entrant.send(event)
    assert replies, event
    for reply in replies:
        assert isinstance(reply, TextOut | DocumentOut), reply
        text = reply.text if isinstance(reply, TextOut) else reply.caption or reply.file_name
        assert text.strip(), (event, reply)
        assert text not in failure, f"{event!r} failed inside the engine"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(award_id=st.sampled_from(AWARDS), events=st.lists(AT_SUMMARY, min_size=1, max_size=6))
async def test_random_events_at_the_summary(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, award_id: str, events: list[Event],
):
    engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, FORMS)
    entrant = Entrant(engine, FORMS[award_id], user_id=f"prop-{next(_users)}")
    await entrant.to_form()
    await entrant.fill()
    for event in events:
        await _send_checked(entrant, event, texts)
        await _assert_consistent(entrant, FORMS)
    await _finish(entrant, FORMS)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=st.lists(AT_DRAFTS, min_size=1, max_size=4))
async def test_random_events_when_picking_a_draft(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, events: list[Event],
):
    engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, FORMS)
    entrant = Entrant(engine, FORMS["pioneer_product"], user_id=f"prop-{next(_users)}")
    await entrant.to_form()
    await entrant.send(CommandIn("drafts"))
    for event in events:
        await _send_checked(entrant, event, texts)
        await _assert_consistent(entrant, FORMS)
    await _finish(entrant, FORMS)


# ------------------------------------------------------------------------------------ bugs found by the above

KNOWN_CRASHES = [
    # _summary_reply: "².isdigit()" is True but int("²") raises ValueError
    ("summary", TextIn("修改 ²")),
    ("summary", TextIn("①")),
    ("summary", ChoiceIn(f"{PREFIX}²")),
    # _pick_draft: the same isdigit/int mismatch
    ("drafts", ChoiceIn(f"{PREFIX}draft:²")),
    # _pick_draft: an id past 2**63 reaches SQLite, which raises OverflowError
    ("drafts", ChoiceIn(f"{PREFIX}draft:{'1' * 30}")),
    ("drafts", TextIn("1" * 30)),
]


# Regression: these crashed the intake flow (isdigit/int mismatch, an id past 2**63) until fixed.
@pytest.mark.parametrize(("step", "event"), KNOWN_CRASHES, ids=[f"{s}-{e!r}" for s, e in KNOWN_CRASHES])
async def test_known_crash_is_answered_without_an_error(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, step: str, event: Event,
):
    engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, FORMS)
    entrant = Entrant(engine, FORMS["pioneer_product"], user_id=f"bug-{next(_users)}")
    await entrant.to_form()
    if step == "summary":
        await entrant.fill()
    else:
        await entrant.send(CommandIn("drafts"))
    assert (await entrant.state())[1] == step
    await _send_checked(entrant, event, texts)

