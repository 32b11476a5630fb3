"""The engine end to end on a real SQLite file: commands, answers, flows, restarts, failures and races."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.flows import Context
from bot.language import Lang, detect_lang
from bot.replies import Choice, Reply, StaleOut, TextOut
from bot.stamps import unstamped
from bot.state import ConversationState
from bot.texts import Texts
from bot.users import User, UserRef
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.session import make_engine, make_sessionmaker
from knowledge.answer import Answer
from knowledge.unanswered import list_unanswered

ALICE = UserRef(channel="test", external_id="alice", display_name="🦊 Ali")
BOB_EN = UserRef(channel="test", external_id="bob", lang_hint="en-GB")

DECLINE = {"zh": "抱歉，指南中没有相关内容。", "en": "Sorry, the guideline does not say."}


class DictAnswerer:
    """A real, minimal Answerer: answers the questions it knows, declines everything else."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        """Answer from the dict or decline, in the question's language."""
        self.asked.append(question)
        lang = lang or detect_lang(question)
        if question in self.answers:
            text = self.answers[question]
            return Answer(question=question, lang=lang, answered=True, answer=text, via="faq")
        return Answer(question=question, lang=lang, answered=False, answer=DECLINE[lang], via="none")


class DemoFlow:
    """Two steps: a name typed, then a colour picked; a question typed mid-flow is answered in place."""

    name = "demo"
    commands = frozenset({"demo"})

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.state.step = "name"
        return [TextOut("name?")]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        match ctx.state.step, event:
            case _, TextIn(text=text) if text.endswith(("?", "？")):
                answer = await ctx.ask(text)
                return [TextOut(answer.answer)]
            case "name", TextIn(text=text):
                ctx.state.data["name"] = text
                ctx.state.step = "colour"
                return [TextOut("colour?", choices=(Choice("red", "demo:red"), Choice("blue", "demo:blue")))]
            case "colour", ChoiceIn(value=value) if value.startswith("demo:"):
                name = ctx.state.data["name"]
                ctx.finish()
                return [TextOut(f"{name} likes {value.removeprefix('demo:')}")]
        return [TextOut(ctx.t("engine.stale_choice"))]


class BrokenFlow:
    """Starts fine, writes to its state and then fails on the next event."""

    name = "broken"
    commands = frozenset({"broken"})

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.state.step = "one"
        ctx.state.data["kept"] = True
        return [TextOut("started")]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        ctx.state.step = "two"
        ctx.state.data["lost"] = True
        ctx.user.lang = "en"
        raise RuntimeError("flow bug")


class UncommittableFlow:
    """Produces a reply but leaves the transaction in a state the database refuses at commit."""

    name = "uncommittable"
    commands = frozenset({"bad"})

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.user.lang = "xx"  # violates the users.lang check constraint
        return [TextOut("must never be seen")]


@pytest.fixture
def answerer() -> DictAnswerer:
    return DictAnswerer({
        "申报截止时间是什么时候？": "2024 年 10 月 20 日 24 点。",
        "When is the deadline?": "20 October 2024, 24:00 Beijing time.",
    })


@pytest.fixture
def make(
    sessionmaker: async_sessionmaker[AsyncSession],
    answerer: DictAnswerer,
    texts: Texts,
    campaign: Campaign,
    clock: FixedClock,
    settings: Settings,
):
    """Build an Engine on the test database (call again to simulate a restart)."""

    def build(*, flows=None, maker=sessionmaker) -> Engine:
        if flows is None:
            flows = (DemoFlow(), BrokenFlow(), UncommittableFlow())
        return Engine(sessionmaker=maker, answerer=answerer, texts=texts, campaign=campaign,
                      clock=clock, settings=settings, flows=flows)

    return build


@pytest.fixture
def engine(make) -> Engine:
    return make()


def only_text(replies: list[Reply]) -> TextOut:
    assert len(replies) == 1
    (reply,) = replies
    assert isinstance(reply, TextOut)
    return reply


async def stored_state(maker: async_sessionmaker[AsyncSession], ref: UserRef) -> ConversationState:
    async with maker() as session:
        state = await session.scalar(
            select(ConversationState).join(User, ConversationState.user_id == User.id)
            .where(User.channel == ref.channel, User.external_id == ref.external_id)
        )
        assert state is not None
        return state


async def stored_user(maker: async_sessionmaker[AsyncSession], ref: UserRef) -> User:
    async with maker() as session:
        user = await session.scalar(select(User).where(User.external_id == ref.external_id))
        assert user is not None
        return user


async def test_start_welcomes_in_chinese_by_default(engine: Engine, campaign: Campaign, texts: Texts):
    reply = only_text(await engine.handle(ALICE, CommandIn("start")))
    assert campaign.name.zh in reply.text
    assert campaign.deadline_display.zh in reply.text
    assert "/help" in reply.text and "/apply" in reply.text
    assert reply.text == texts.t("engine.welcome", "zh", campaign=campaign.name.zh,
                                 deadline=campaign.deadline_display.zh)


async def test_start_welcomes_in_the_hinted_language(engine: Engine, campaign: Campaign, sessionmaker):
    reply = only_text(await engine.handle(BOB_EN, CommandIn("/Start@kcxf_bot")))
    assert campaign.name.en in reply.text
    assert "official call guideline" in reply.text
    user = await stored_user(sessionmaker, BOB_EN)
    assert user.lang == "en"
    assert user.created_at.tzinfo is not None and user.created_at.utcoffset().total_seconds() == 0


async def test_display_name_is_stored_but_never_used(engine: Engine, sessionmaker):
    reply = only_text(await engine.handle(ALICE, CommandIn("start")))
    assert "Ali" not in reply.text
    assert (await stored_user(sessionmaker, ALICE)).display_name == "🦊 Ali"


async def test_lang_offers_buttons_and_a_choice_switches(engine: Engine, campaign: Campaign, sessionmaker):
    prompt = only_text(await engine.handle(ALICE, CommandIn("lang")))
    assert [c.label for c in prompt.choices] == ["中文", "English"]
    values = [c.value for c in prompt.choices]
    assert [unstamped(v)[0] for v in values] == ["lang:zh", "lang:en"]

    switched = only_text(await engine.handle(ALICE, ChoiceIn(values[1])))
    assert switched.text == "Switched to English."
    assert (await stored_user(sessionmaker, ALICE)).lang == "en"
    assert campaign.name.en in only_text(await engine.handle(ALICE, CommandIn("start"))).text

    back = only_text(await engine.handle(ALICE, CommandIn("lang", "ZH")))
    assert back.text == "已切换为中文。"
    assert (await stored_user(sessionmaker, ALICE)).lang == "zh"


async def test_help_names_the_committee_mailbox(engine: Engine, campaign: Campaign):
    reply = only_text(await engine.handle(BOB_EN, CommandIn("help")))
    assert campaign.committee.mailbox in reply.text
    assert "/cancel" in reply.text


async def test_free_text_is_answered(engine: Engine, answerer: DictAnswerer, sessionmaker):
    zh = only_text(await engine.handle(ALICE, TextIn("  申报截止时间是什么时候？ ")))
    assert zh.text == "2024 年 10 月 20 日 24 点。"
    en = only_text(await engine.handle(ALICE, TextIn("When is the deadline?")))
    assert en.text.startswith("20 October 2024")
    assert answerer.asked == ["申报截止时间是什么时候？", "When is the deadline?"]
    async with sessionmaker() as session:
        assert await list_unanswered(session) == []


async def test_declined_question_is_logged(engine: Engine, sessionmaker):
    reply = only_text(await engine.handle(ALICE, TextIn("Can I enter two awards at once?")))
    assert reply.text == DECLINE["en"]
    only_text(await engine.handle(BOB_EN, TextIn("评审专家有哪些人？")))
    async with sessionmaker() as session:
        logged = await list_unanswered(session)
        assert [(q.question, q.lang, q.channel) for q in logged] == [
            ("评审专家有哪些人？", "zh", "test"),
            ("Can I enter two awards at once?", "en", "test"),
        ]
        assert logged[0].created_at.tzinfo is not None
        assert len(await list_unanswered(session, limit=1)) == 1


async def test_nul_characters_are_left_out_of_what_is_stored(engine: Engine, sessionmaker):
    # PostgreSQL's text columns refuse NUL, which SQLite keeps; a pasted binary must not break the bot there.
    someone = UserRef(channel="test", external_id="nul", display_name="A\x00da")
    assert only_text(await engine.handle(someone, TextIn("Who\x00 judges?"))).text in DECLINE.values()
    async with sessionmaker() as session:
        assert [q.question for q in await list_unanswered(session)] == ["Who judges?"]
        user = await session.scalar(select(User).where(User.external_id == "nul"))
        assert user is not None and user.display_name == "Ada"


async def test_empty_text_gets_a_hint_and_is_not_asked(engine: Engine, answerer: DictAnswerer):
    reply = only_text(await engine.handle(ALICE, TextIn("   ")))
    assert "/help" in reply.text
    assert answerer.asked == []


async def test_a_number_alone_outside_a_form_gets_help_not_an_answer(
    engine: Engine, answerer: DictAnswerer, campaign: Campaign,
):
    # Typed where no choices wait for it (a terminal user picking from a list long past): nothing to look up.
    zh = only_text(await engine.handle(ALICE, TextIn("1")))
    assert zh.text.startswith("“1”没有可对应的选项") and "/apply" in zh.text and campaign.committee.mailbox in zh.text
    en = only_text(await engine.handle(BOB_EN, TextIn(" 3. ")))
    assert en.text.startswith('"3." picks nothing') and "/apply" in en.text
    assert answerer.asked == []
    # A number inside a question is still a question.
    only_text(await engine.handle(ALICE, TextIn("1 个企业能报几个奖项？")))
    assert answerer.asked == ["1 个企业能报几个奖项？"]


async def test_unknown_command_points_to_help(engine: Engine):
    reply = only_text(await engine.handle(BOB_EN, CommandIn("apply")))
    assert reply.text == "I don't know /apply. Send /help to see what I can do."


async def test_stale_choice_and_unexpected_file_are_polite(engine: Engine, tmp_path: Path):
    for value in ("demo:red", "lang:fr", ""):
        reply = only_text(await engine.handle(BOB_EN, ChoiceIn(value)))
        assert isinstance(reply, StaleOut) and reply.text.startswith("That button belongs to an earlier question")
    upload = FileIn(file_name="a.pdf", mime_type="application/pdf", size=3, path=tmp_path / "a.pdf")
    assert "files" in only_text(await engine.handle(BOB_EN, upload)).text


async def test_flow_steps_survive_a_restart(make, settings: Settings):
    first = make()
    assert only_text(await first.handle(ALICE, CommandIn("demo"))).text == "name?"
    colour = only_text(await first.handle(ALICE, TextIn("Ada")))
    assert [unstamped(c.value)[0] for c in colour.choices] == ["demo:red", "demo:blue"]

    # A new process: its own database engine on the same file, a new Engine, nothing shared in memory.
    db = make_engine(settings.db_url)
    try:
        second = make(maker=make_sessionmaker(db))
        state = await stored_state(second.sessionmaker, ALICE)
        assert (state.flow, state.step, state.data) == ("demo", "colour", {"name": "Ada"})
        # The button's stamp names the step in the database, not anything this process remembers.
        done = only_text(await second.handle(ALICE, ChoiceIn(colour.choices[1].value)))
        assert done.text == "Ada likes blue"
        state = await stored_state(second.sessionmaker, ALICE)
        assert (state.flow, state.step, state.data) == (None, None, {})
    finally:
        await db.dispose()


async def test_question_mid_flow_is_answered_and_the_flow_goes_on(engine: Engine, sessionmaker):
    await engine.handle(ALICE, CommandIn("demo"))
    answered = only_text(await engine.handle(ALICE, TextIn("When is the deadline?")))
    assert answered.text.startswith("20 October")
    only_text(await engine.handle(ALICE, TextIn("Who judges?")))
    state = await stored_state(sessionmaker, ALICE)
    assert (state.flow, state.step) == ("demo", "name")
    async with sessionmaker() as session:
        assert [q.question for q in await list_unanswered(session)] == ["Who judges?"]


async def test_cancel_leaves_the_flow(engine: Engine, sessionmaker):
    assert only_text(await engine.handle(ALICE, CommandIn("cancel"))).text == "当前没有进行中的操作。"
    await engine.handle(ALICE, CommandIn("demo"))
    await engine.handle(ALICE, TextIn("Ada"))
    assert only_text(await engine.handle(ALICE, CommandIn("cancel"))).text == "已退出当前操作。填写中的申报草稿已保存，可发送 /drafts 继续；有问题随时问我。"
    state = await stored_state(sessionmaker, ALICE)
    assert (state.flow, state.step, state.data) == (None, None, {})
    # With no flow active, the flow's old buttons are stale.
    assert "失效" in only_text(await engine.handle(ALICE, ChoiceIn("demo:red"))).text


async def test_starting_a_flow_replaces_the_previous_one(engine: Engine, sessionmaker):
    await engine.handle(ALICE, CommandIn("demo"))
    await engine.handle(ALICE, TextIn("Ada"))
    assert only_text(await engine.handle(ALICE, CommandIn("broken"))).text == "started"
    state = await stored_state(sessionmaker, ALICE)
    assert (state.flow, state.step, state.data) == ("broken", "one", {"kept": True})


async def test_flow_error_rolls_back_and_apologises(engine: Engine, sessionmaker):
    await engine.handle(ALICE, CommandIn("broken"))
    before = await stored_state(sessionmaker, ALICE)

    reply = only_text(await engine.handle(ALICE, TextIn("anything")))
    assert reply.text == "抱歉，刚才出了点问题，请稍后再试。已保存的内容不会丢失。"

    after = await stored_state(sessionmaker, ALICE)
    assert (after.flow, after.step, after.data) == ("broken", "one", {"kept": True})
    assert after.version == before.version
    assert (await stored_user(sessionmaker, ALICE)).lang == "zh"
    # The user is not stuck: built-in commands still work.
    assert only_text(await engine.handle(ALICE, CommandIn("cancel"))).text == "已退出当前操作。填写中的申报草稿已保存，可发送 /drafts 继续；有问题随时问我。"


async def test_replies_only_after_a_successful_commit(engine: Engine, sessionmaker):
    reply = only_text(await engine.handle(BOB_EN, CommandIn("bad")))
    assert reply.text.startswith("Sorry, something went wrong")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_state_is_committed_when_handle_returns(engine: Engine, settings: Settings):
    await engine.handle(ALICE, CommandIn("demo"))
    await engine.handle(ALICE, TextIn("Ada"))
    # A separate connection pool, as another worker would have.
    db = make_engine(settings.db_url)
    try:
        state = await stored_state(make_sessionmaker(db), ALICE)
        assert (state.flow, state.step, state.data) == ("demo", "colour", {"name": "Ada"})
    finally:
        await db.dispose()


async def test_orphaned_flow_state_is_cleared(make, sessionmaker):
    await make().handle(ALICE, CommandIn("demo"))
    without_demo = make(flows=())
    reply = only_text(await without_demo.handle(ALICE, TextIn("When is the deadline?")))
    assert reply.text.startswith("20 October")
    state = await stored_state(sessionmaker, ALICE)
    assert (state.flow, state.step) == (None, None)


async def test_concurrent_first_events_make_one_user(engine: Engine, sessionmaker):
    newcomer = UserRef(channel="test", external_id="carol")
    replies = await asyncio.gather(*(engine.handle(newcomer, CommandIn("start")) for _ in range(5)))
    assert all("您好" in only_text(r).text for r in replies)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(ConversationState)) == 1


class CounterFlow:
    """Counts the events it gets; the first two wait for each other, so both read the same state."""

    name = "counter"
    commands = frozenset({"count"})

    def __init__(self) -> None:
        self.calls = 0
        self.both_in = asyncio.Event()

    async def start(self, ctx: Context) -> list[Reply]:
        ctx.state.data["n"] = 0
        return [TextOut("0")]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        seen = ctx.state.data["n"]
        self.calls += 1
        if self.calls == 2:
            self.both_in.set()
        if self.calls <= 2:
            await asyncio.wait_for(self.both_in.wait(), timeout=5)
        ctx.state.data["n"] = seen + 1
        return [TextOut(str(seen + 1))]


async def test_concurrent_steps_of_one_user_do_not_overwrite_each_other(make, sessionmaker):
    counter = CounterFlow()
    engine = make(flows=(counter,))
    await engine.handle(ALICE, CommandIn("count"))
    replies = await asyncio.gather(engine.handle(ALICE, TextIn("+1")), engine.handle(ALICE, TextIn("+1")))
    # Both read n=0; the version check makes the loser run again on the winner's committed state.
    assert sorted(only_text(r).text for r in replies) == ["1", "2"]
    assert counter.calls == 3
    assert (await stored_state(sessionmaker, ALICE)).data == {"n": 2}


class ClashingFlow(DemoFlow):
    """Claims a built-in command (spelt as a user would type it)."""

    name = "clash"
    commands = frozenset({"/Lang"})


@pytest.mark.parametrize(
    ("flows", "message"),
    [
        ((DemoFlow(), DemoFlow()), "two flows are named"),
        ((ClashingFlow(),), "built-in command /lang"),
    ],
)
def test_engine_refuses_conflicting_flows(make, flows, message):
    with pytest.raises(ValueError, match=message):
        make(flows=flows)


async def test_a_button_offered_for_an_earlier_step_changes_nothing(engine: Engine, sessionmaker):
    """Issue 18 item 1, for any flow: the engine ties each button to the step it was offered at."""
    await engine.handle(ALICE, CommandIn("demo"))
    old = only_text(await engine.handle(ALICE, TextIn("Ada"))).choices
    await engine.handle(ALICE, CommandIn("demo"))  # asked the name again: the colour buttons are for nothing now
    stale = only_text(await engine.handle(ALICE, ChoiceIn(old[0].value)))
    assert isinstance(stale, StaleOut) and "之前的问题" in stale.text
    state = await stored_state(sessionmaker, ALICE)
    assert (state.flow, state.step, state.data) == ("demo", "name", {})
    # The same question asked again offers buttons that work, and so does a keyboard of the current step.
    fresh = only_text(await engine.handle(ALICE, TextIn("Bea"))).choices
    assert only_text(await engine.handle(ALICE, ChoiceIn(fresh[1].value))).text == "Bea likes blue"
    # A flow's value refused where it is made when it could not travel in a button.
    with pytest.raises(ValueError, match="at most 56 bytes"):
        Choice("x", "demo:" + "很长" * 10)
