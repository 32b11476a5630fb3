"""Queue records for console tests, submitted through intake.queue.submit with answers a real entrant gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.runtime import Runtime
from bot.users import User
from intake import queue
from intake.drafts import SUBMITTED
from tests.intake.factories import AWARDS, add_draft, answers_for, numbered_name, overseas_english

FIRST_DAY = datetime(2024, 9, 16, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
# A name an entrant might type to try to run script on a reviewer's screen.
HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror=alert(1)>科创'


@dataclass(frozen=True, slots=True)
class Seeded:
    """A record as seeded: reference, award, entrant, the chat user behind it, when it was submitted."""

    reference: str
    award_id: str
    entrant: str
    user_id: int
    external_id: str
    created_at: datetime
    overseas: bool


async def seed(
    runtime: Runtime,
    count: int,
    *,
    awards: Sequence[str] = AWARDS,
    overseas_every: int = 4,
    per_day: int = 5,
    answers_override: dict[str, Any] | None = None,
) -> list[Seeded]:
    """`count` entries from `count` Telegram users, awards in turn, every `overseas_every`-th from abroad in English,
    `per_day` a day from FIRST_DAY; each with its chat draft, as the bot leaves them."""
    forms = runtime.forms
    sessions = await runtime.sessionmaker()
    seeded: list[Seeded] = []
    async with sessions() as session, session.begin():
        start = await session.scalar(select(func.count(User.id))) or 0
        for n in range(count):
            award_id = awards[n % len(awards)]
            form = forms[award_id]
            overseas = overseas_every > 0 and n % overseas_every == overseas_every - 1
            answers = overseas_english(form) if overseas else answers_for(form)
            name = form.entrant_field  # the entrant's name: numbered, so that every entry is told apart
            answers = {**answers, name.id: numbered_name(name, answers[name.id], n + 1), **(answers_override or {})}
            external = str(7_000_000 + start + n)
            user = User(channel="telegram", external_id=external, display_name=f"Tester {n + 1}",
                        lang="en" if overseas else "zh")
            session.add(user)
            await session.flush()
            draft = await add_draft(session, user_id=user.id, award_id=award_id)
            draft.set_answers(answers)
            draft.status = SUBMITTED
            when = FIRST_DAY + timedelta(days=n // per_day, minutes=37 * (n % per_day))
            record = (await queue.submit(session, draft_key=draft.key, user_id=user.id, form=form, answers=answers,
                                         campaign=runtime.campaign, now=when)).record
            seeded.append(Seeded(reference=record.reference, award_id=award_id, entrant=record.entrant_name,
                                 user_id=user.id, external_id=external, created_at=when, overseas=overseas))
    return seeded
