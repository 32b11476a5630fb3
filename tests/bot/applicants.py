"""An applicant who answers whatever the bot asks, reading where their conversation stands from the database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.state import ConversationState
from bot.users import User
from intake.drafts import Draft
from intake.flow import PREFIX
from intake.forms import Field, Form
from tests.intake.factories import typed_answer, with_position

# The first line of every form question the bot sends.
PROGRESS = re.compile(r"^第 \d+/\d+ 项 · ")


@dataclass(frozen=True)
class Action:
    """What the applicant does next: type a text, or press the button carrying a value."""

    kind: Literal["type", "press"]
    value: str


@dataclass
class Applicant:
    """One Telegram user applying for `form`; `typed` keeps every answer typed, by form position, and `pressed`
    every multi-select answered with the toggle buttons and 完成 (the option ids chosen)."""

    user_id: int
    form: Form
    sessions: async_sessionmaker[AsyncSession]
    typed: dict[str, str] = field(default_factory=dict)
    pressed: dict[str, list[str]] = field(default_factory=dict)

    async def where(self) -> tuple[str | None, str | None, dict[str, Any], int]:
        """(flow, step, data, saves) of the stored conversation; saves grows with every handled update (the
        versions of the state and of the user's drafts: an answer saves only the draft), 0 before the first."""
        async with self.sessions() as session:
            state = await session.scalar(select(ConversationState).join(User)
                                         .where(User.external_id == str(self.user_id)))
            if state is None:
                return None, None, {}, 0
            drafts = await session.scalars(select(Draft.version).where(Draft.user_id == state.user_id))
            saves = state.version + sum(drafts.all())
            return state.flow, state.step, await with_position(session, state.data), saves

    async def next_action(self) -> Action | None:
        """The answer to the question the conversation is at; None once the form is submitted."""
        flow, step, data, _ = await self.where()
        if flow is None:
            return None
        if step == "ask":
            slot = self.form.field(data["position"].split(".")[-1])
            if slot.type == "file_list" or (slot.type != "consent" and not slot.required):
                return Action("press", f"{PREFIX}skip")
            if slot.type == "choices":
                return await self._toggle(data["position"], slot)
            answer = typed_answer(self.form, slot, typed={}, long_text=None)
            self.typed[data["position"]] = answer
            return Action("type", answer)
        presses = {
            "precheck:group": f"group:{self.form.award.group}", "precheck:track": "track:next_gen_it",
            "precheck:ip": "yes", "precheck:incident": "no", "award": f"award:{self.form.award_id}",
            "privacy": "agree", "more": "no", "summary": "confirm",
        }
        return Action("press", PREFIX + presses[step or ""])


    async def _toggle(self, position: str, slot: Field) -> Action:
        """The next press towards the first and third options (those that stand with others): a toggle whose mark
        is not yet as wanted, as the bot stored the selection so far; 完成 once all are."""
        wanted = [c.id for c in slot.choices if not c.exclusive][::2][:2]
        async with self.sessions() as session:
            state = await session.scalar(select(ConversationState).join(User)
                                         .where(User.external_id == str(self.user_id)))
            assert state is not None
            draft = await session.get(Draft, state.data["draft"])
            assert draft is not None
            picking = draft.progress.get("picking") or {}
        picked = picking.get("ids", []) if picking.get("at") == position else []
        wrong = [i for i in wanted if i not in picked] + [i for i in picked if i not in wanted]
        if wrong:
            return Action("press", f"{PREFIX}toggle:{wrong[0]}")
        self.pressed[position] = wanted
        return Action("press", f"{PREFIX}done")


def stored_positions(form: Form, answers: dict[str, Any]) -> set[str]:
    """The position keys of every typed answer stored (files are not typed)."""
    typed = {s.field.id for s in form.fields() if s.field.type != "file_list"}
    found = {key for key, value in answers.items() if key in typed and value not in (None, "", [])}
    for group in form.groups():
        for n, item in enumerate(answers.get(group.id) or []):
            found |= {f"{group.id}.{n}.{key}" for key, value in item.items()
                      if key in typed and value not in (None, "", [])}
    return found


def answer_at(answers: dict[str, Any], position: str) -> Any:
    """The stored answer at a position key: "field" or "group.item.field"."""
    parts = position.split(".")
    if len(parts) == 1:
        return answers.get(position)
    group, item, name = parts
    return answers[group][int(item)].get(name)


def assert_holds_exactly(
    form: Form, answers: dict[str, Any], typed: dict[str, str], *, today: Any,
    pressed: dict[str, list[str]] | None = None,
) -> None:
    """Every typed or pressed answer is stored under the question it answered, and nothing else was stored."""
    for position, text in typed.items():
        slot = form.field(position.split(".")[-1])
        expected = form.check(slot, text, lang="zh", today=today).value
        assert answer_at(answers, position) == expected, (position, text, answer_at(answers, position))
    for position, ids in (pressed or {}).items():
        assert answer_at(answers, position) == ids, (position, ids, answer_at(answers, position))
    # An answer handled twice would have filled the next question unseen.
    assert stored_positions(form, answers) == set(typed) | set(pressed or {})
