"""A multi-select question (可多选) through the engine: a toggle per option, 完成 to check the selection, typed
answers as before; the selection kept in the draft, so another worker or a restart goes on from it."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn
from bot.replies import EditOut, Reply, StaleOut, TextOut
from bot.stamps import unstamped
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from intake.flow import PREFIX
from intake.forms import FORMS_DIR, Form, load_forms
from knowledge.answer import KnowledgeBase

from .factories import typed_answer
from .test_flow import Entrant, _engine, _text

FIELD = "innovation_rating"
TOGGLE = f"{PREFIX}toggle:"
DONE = f"{PREFIX}done"


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign)


@pytest.fixture
async def engine(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, forms: dict[str, Form],
) -> AsyncIterator[Engine]:
    yield _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)


async def _to(entrant: Entrant, field_id: str) -> list[Reply]:
    """Answer by typing until the question of `field_id` is asked; the replies that asked it."""
    await entrant.send(CommandIn("apply"))
    for value in ("group:enterprise", "track:next_gen_it", "yes", "no", f"award:{entrant.form.award_id}"):
        await entrant.press(PREFIX + value)
    replies = await entrant.press(f"{PREFIX}agree")
    for _ in range(60):
        _, step, data = await entrant.state()
        if step == "more":
            replies = await entrant.press(f"{PREFIX}no")
            continue
        position = data["position"]
        if position == field_id:
            return replies
        field = entrant.form.field(position.split(".")[-1])
        if field.type == "file_list":
            replies = await entrant.press(f"{PREFIX}skip")
        else:
            replies = await entrant.say(typed_answer(entrant.form, field, typed={}, long_text=None))
    raise AssertionError(f"{field_id} was never asked")


def _keyboard(reply: Reply) -> dict[str, tuple[str, bool | None]]:
    """The buttons of a reply: plain value -> (stamped value, chosen)."""
    assert isinstance(reply, TextOut)
    return {unstamped(c.value)[0]: (c.value, c.chosen) for c in reply.choices}


def _chosen(reply: Reply) -> set[str]:
    return {value.removeprefix(TOGGLE) for value, (_, chosen) in _keyboard(reply).items() if chosen}


async def _press(entrant: Entrant, reply: Reply, value: str) -> list[Reply]:
    """Press the button of `reply` that stands for `value`, stamp and all, as a channel sends it back."""
    return await entrant.send(ChoiceIn(_keyboard(reply)[value][0]))


async def test_toggles_mark_the_selection_in_place_and_done_stores_it(
    engine: Engine, forms: dict[str, Form], sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase,
    texts: Texts, campaign: Campaign, clock: FixedClock, settings: Settings,
):
    form = forms["enterprise_npf"]
    entrant = Entrant(engine, form)
    question = (await _to(entrant, FIELD))[-1]
    assert isinstance(question, TextOut) and "可多选" in question.text and "选好后点“完成”" in question.text
    ids = [c.id for c in form.field(FIELD).choices]
    assert list(_keyboard(question)) == [*(TOGGLE + i for i in ids), DONE, f"{PREFIX}back"]
    assert [chosen for _, chosen in _keyboard(question).values()] == [False] * len(ids) + [None, None]

    [first] = await _press(entrant, question, TOGGLE + "high_tech")
    assert type(first) is EditOut and first.text == question.text and _chosen(first) == {"high_tech"}
    # The keyboard shown before this press is an earlier question now: its press changes nothing.
    [stale] = await _press(entrant, question, TOGGLE + "specialised")
    assert isinstance(stale, StaleOut) and "之前的问题" in stale.text
    assert (await entrant.draft()).progress["picking"] == {"at": FIELD, "ids": ["high_tech"]}

    # The bot restarted: it goes on from the selection stored with the draft.
    entrant.engine = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    [second] = await _press(entrant, first, TOGGLE + "little_giant")
    assert _chosen(second) == {"high_tech", "little_giant"}
    # Two webhook workers taking the presses in turn.
    webhook = settings.model_copy(update={"telegram_webhook_url": "https://bot.example.org/tg"})
    workers = [_engine(sessionmaker, kb, texts, campaign, clock, webhook, forms) for _ in range(2)]
    entrant.engine = workers[0]
    [third] = await _press(entrant, second, TOGGLE + "specialised")
    entrant.engine = workers[1]
    [fourth] = await _press(entrant, third, TOGGLE + "high_tech")  # pressed again: chosen no more
    assert _chosen(fourth) == {"specialised", "little_giant"}
    entrant.engine = workers[0]

    done = await _press(entrant, fourth, DONE)
    assert type(done[0]) is EditOut and not done[0].choices
    assert done[0].text.endswith("已选择：专精特新、专精特新“小巨人”")
    assert "第 " in _text(done[1:]) and "资质认定" not in _text(done[1:])
    draft = await entrant.draft()
    assert draft.answers[FIELD] == ["specialised", "little_giant"]  # in the form's order
    assert "picking" not in draft.progress
    # The question is answered: its last keyboard is stale too.
    [late] = await _press(entrant, fourth, TOGGLE + "other")
    assert isinstance(late, StaleOut) and (await entrant.draft()).answers[FIELD] == ["specialised", "little_giant"]


async def test_an_invalid_selection_at_done_is_explained_and_loses_nothing(engine: Engine, forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    entrant = Entrant(engine, form, user_id="2")
    question = (await _to(entrant, FIELD))[-1]
    empty = await _press(entrant, question, DONE)
    assert "还没有选择任何一项" in empty[0].text and type(empty[1]) is EditOut and _chosen(empty[1]) == set()
    assert (await entrant.state())[2]["position"] == FIELD

    # 无 stands alone: choosing it clears the others, choosing another clears it.
    [picked] = await _press(entrant, empty[1], TOGGLE + "high_tech")
    [none] = await _press(entrant, picked, TOGGLE + "none")
    assert _chosen(none) == {"none"}
    [other] = await _press(entrant, none, TOGGLE + "other")
    assert _chosen(other) == {"other"}
    # Typed, the same rule is a clear refusal, and the toggles stay as they were.
    refused = await entrant.say("无、高新技术企业")
    assert "“无”不能与其他选项同时选择" in _text(refused) and _chosen(refused[-1]) == {"other"}
    assert FIELD not in (await entrant.draft()).answers

    # 其他 needs its text: the form's next question asks for it.
    done = await entrant.say("完成")  # the word does what the button does
    assert done[0].text.endswith("已选择：其他") and "还有哪些资质认定" in _text(done[1:])
    assert (await entrant.draft()).answers[FIELD] == ["other"]
    assert (await entrant.state())[2]["position"] == "innovation_rating_other"


async def test_a_typed_answer_still_works_and_in_english(engine: Engine, forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    entrant = Entrant(engine, form, user_id="3")
    question = (await _to(entrant, FIELD))[-1]
    [toggled] = await _press(entrant, question, TOGGLE + "other")
    replies = await entrant.say("1、3")  # by number, as the options are listed: typed wins over the toggles
    assert "第 " in _text(replies) and (await entrant.draft()).answers[FIELD] == ["high_tech", "little_giant"]
    assert "picking" not in (await entrant.draft()).progress

    english = Entrant(engine, form, user_id="4")
    await english.send(ChoiceIn("lang:en"))
    question = (await _to(english, FIELD))[-1]
    assert "pick any that apply" in question.text and 'then "Done"' in question.text
    assert [c.label for c in question.choices][-2:] == ["Done", "Back"]
    empty = await _press(english, question, DONE)
    assert "Nothing is chosen yet" in empty[0].text
    refused = await english.say("None, High-Tech Enterprise")
    assert '"None" cannot be picked together with other choices' in _text(refused)
    [toggled] = await _press(english, refused[-1], TOGGLE + "high_tech")
    done = await _press(english, toggled, DONE)
    assert done[0].text.endswith("Chosen: High-Tech Enterprise")


def test_a_toggle_of_the_longest_choice_id_fits_telegrams_callback_data():
    # Choice ids are at most 40 characters (intake.forms.Id); a Choice refuses a value past MAX_VALUE_BYTES.
    from bot.replies import MAX_VALUE_BYTES, Choice

    assert Choice("x", TOGGLE + "a" * 40).value.encode().__len__() <= MAX_VALUE_BYTES
    with pytest.raises(ValueError, match="at most"):
        Choice("x", TOGGLE + "a" * 43)


async def test_too_many_at_done_is_explained_and_the_selection_stays(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, tmp_path: Path,
):
    # An edition whose form allows two certifications at most.
    folder = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, folder)
    yaml = folder / "enterprise.yaml"
    text = yaml.read_text(encoding="utf-8")
    anchor = "          en: Which certifications does the company hold (pick any that apply)?\n"
    assert anchor in text
    yaml.write_text(text.replace(anchor, anchor + "        limits: {max_count: 2}\n"), encoding="utf-8")
    forms = load_forms(campaign, directory=folder)
    entrant = Entrant(_engine(sessionmaker, kb, texts, campaign, clock, settings, forms), forms["enterprise_npf"])
    question = (await _to(entrant, FIELD))[-1]
    for option in ("high_tech", "specialised", "little_giant"):
        [question] = await _press(entrant, question, TOGGLE + option)
    refused = await _press(entrant, question, DONE)
    assert "最多只能选择 2 项，现在选了 3 项" in refused[0].text
    assert type(refused[1]) is EditOut and _chosen(refused[1]) == {"high_tech", "specialised", "little_giant"}
    assert FIELD not in (await entrant.draft()).answers
    [fewer] = await _press(entrant, refused[1], TOGGLE + "specialised")
    await _press(entrant, fewer, DONE)
    assert (await entrant.draft()).answers[FIELD] == ["high_tech", "little_giant"]
