"""Reminders to entrants with an unfinished draft, on the schedule the campaign data gives (config.Reminders):
at so many days before the deadline, and once a draft has gone quiet; never in the quiet hours, never after the
deadline, never to a draft submitted or withdrawn (/delete), never to a user who pressed 不再提醒.

Every bot worker's housekeeping looks for reminders owed. Each is a slot of one draft ("before:3",
"quiet:2024-10-05"), recorded in reminders_sent in the same transaction as the message it queues in the outbox;
another worker's insert of the same slot then fails, so each reminder goes out once however many workers run,
and the outbox delivers it through one of them. A reminder owed during the quiet hours is simply not owed yet:
the first round after they end sends it, if the draft is still open and the deadline still ahead.

The reminder's buttons name what they act on (the draft to resume, the user who stops), not where the
conversation stands, so the engine takes them whatever was said since (RemindersFlow.presses).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from bot.events import Event
from bot.language import Lang, is_lang
from bot.outbox import add_replies
from bot.replies import Choice, Reply, StaleOut, TextOut
from bot.users import User
from db.base import Base, UTCDateTime
from intake.complete import completeness
from intake.drafts import OPEN, Draft

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.flows import Context
    from config.campaign import Campaign, Reminders
    from config.clock import Clock
    from intake.flow import IntakeFlow
    from intake.forms import Form
    from knowledge.answer import TextSource

__all__ = [
    "BEFORE",
    "PREFIX",
    "QUIET",
    "Reminder",
    "ReminderSent",
    "ReminderStop",
    "RemindersFlow",
    "Slot",
    "due_reminders",
    "due_slot",
    "send_reminders",
]

log = logging.getLogger(__name__)

BEFORE, QUIET = "before", "quiet"
PREFIX = "remind:"
_RESUME = f"{PREFIX}resume:"
_STOP = f"{PREFIX}stop"


class ReminderSent(Base):
    """One reminder queued for one draft; the (draft, slot) key is what lets only one worker send it."""

    __tablename__ = "reminders_sent"

    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), primary_key=True)
    slot: Mapped[str] = mapped_column(String(40), primary_key=True)
    # On the campaign clock, as the schedule reads it.
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReminderStop(Base):
    """A user who pressed 不再提醒: no reminder of any draft of theirs from then on."""

    __tablename__ = "reminder_stops"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class Slot:
    """A reminder a draft is owed: its key, its kind (BEFORE or QUIET), when it fell due, and its days (before
    the deadline, or without work or a reminder)."""

    key: str
    kind: str
    due: datetime
    days: int


def due_slot(
    schedule: Reminders, *, deadline: datetime, now: datetime, created_at: datetime, updated_at: datetime,
    sent: Collection[str], last_sent: datetime | None,
) -> Slot | None:
    """The reminder a draft is owed at `now`, or None.

    Of the days before the deadline only the latest one reached counts (a bot that was down does not send
    three at once), and only for a draft begun before it. A draft is quiet once it has had neither work nor a
    reminder for quiet_after_days: counting from the last reminder too keeps the two kinds from coming a day
    apart, and an ignored draft from hearing more than once in that many days.
    """
    if now >= deadline or schedule.is_quiet(now):
        return None
    reached = [(d, deadline - timedelta(days=d)) for d in schedule.days_before_deadline
               if deadline - timedelta(days=d) <= now]
    if reached:
        days, due = reached[-1]  # days_before_deadline is sorted from the most days down
        key = f"{BEFORE}:{days}"
        if created_at < due and key not in sent:
            return Slot(key, BEFORE, due, days)
    quiet = schedule.quiet_after
    if quiet is None:
        return None
    since = max(updated_at, last_sent) if last_sent is not None else updated_at
    key = f"{QUIET}:{since.astimezone(schedule.tz).date().isoformat()}"
    if now - since < quiet or key in sent:
        return None
    return Slot(key, QUIET, since + quiet, (now - since).days)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder owed now: to whom, for which draft and slot, and what is still missing."""

    draft_id: int
    user_id: int
    channel: str
    external_id: str
    lang: Lang
    award_id: str
    entrant: str | None
    slot: Slot
    missing: int
    days_left: int


async def due_reminders(
    sessions: async_sessionmaker[AsyncSession], *, campaign: Campaign, forms: Mapping[str, Form], now: datetime,
) -> list[Reminder]:
    """Every reminder owed at `now`, oldest draft first; nothing is written."""
    schedule = campaign.reminders
    if now >= campaign.deadline or schedule.is_quiet(now):
        return []
    async with sessions() as session:
        # Dates first, for every open draft of a user who has not opted out; the answers (opened, decrypted)
        # only of the few that are owed a reminder.
        rows = (await session.execute(
            select(Draft.id, Draft.user_id, Draft.award_id, Draft.created_at, Draft.updated_at,
                   User.channel, User.external_id, User.lang)
            .join(User, User.id == Draft.user_id)
            .where(Draft.status == OPEN, ~exists().where(ReminderStop.user_id == Draft.user_id))
            .order_by(Draft.id)
        )).all()
        sent: dict[int, dict[str, datetime]] = {}
        for draft_id, slot, sent_at in await session.execute(
            select(ReminderSent.draft_id, ReminderSent.slot, ReminderSent.sent_at)
            .join(Draft, Draft.id == ReminderSent.draft_id).where(Draft.status == OPEN)
        ):
            sent.setdefault(draft_id, {})[slot] = sent_at
        owed = []
        for row in rows:
            if row.award_id not in forms:  # an award this edition no longer has: nothing to resume
                continue
            slots = sent.get(row.id, {})
            slot = due_slot(schedule, deadline=campaign.deadline, now=now, created_at=row.created_at,
                            updated_at=row.updated_at, sent=slots, last_sent=max(slots.values(), default=None))
            if slot is not None:
                owed.append((row, slot))
        if not owed:
            return []
        drafts = {d.id: d for d in await session.scalars(select(Draft).where(Draft.id.in_([r.id for r, _ in owed])))}
    days_left = math.ceil((campaign.deadline - now) / timedelta(days=1))
    reminders = []
    for row, slot in owed:
        draft = drafts.get(row.id)
        if draft is None or draft.status != OPEN:  # purged or closed between the two reads
            continue
        form = forms[row.award_id]
        missing = len(completeness(form, draft.answers, today=now.astimezone(campaign.deadline.tzinfo).date()))
        entrant = form.entrant_name(draft.answers)
        reminders.append(Reminder(
            draft_id=row.id, user_id=row.user_id, channel=row.channel, external_id=row.external_id,
            lang=row.lang if is_lang(row.lang) else "zh", award_id=row.award_id,
            entrant=entrant,
            slot=slot, missing=missing, days_left=days_left,
        ))
    return reminders


def compose(reminder: Reminder, *, texts: TextSource, campaign: Campaign) -> TextOut:
    """The reminder as the entrant reads it, in their language, with its two buttons."""
    lang = reminder.lang
    state = (texts.t("reminders.missing", lang, missing=reminder.missing) if reminder.missing
             else texts.t("reminders.ready", lang))
    left = (texts.t("reminders.left_one", lang) if reminder.days_left == 1
            else texts.t("reminders.left", lang, days=reminder.days_left))
    award = campaign.award(reminder.award_id).name.get(lang)
    draft = (texts.t("reminders.draft", lang, award=award, entrant=reminder.entrant) if reminder.entrant
             else texts.t("reminders.draft_unnamed", lang, award=award))
    key = "reminders.before" if reminder.slot.kind == BEFORE else "reminders.quiet"
    text = texts.t(key, lang, draft=draft, state=state, left=left, deadline=campaign.deadline_display.get(lang),
                   quiet=reminder.slot.days)
    return TextOut(text, (Choice(texts.t("reminders.resume", lang), f"{_RESUME}{reminder.draft_id}"),
                          Choice(texts.t("reminders.stop", lang), _STOP)))


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession], *, campaign: Campaign, forms: Mapping[str, Form],
    texts: TextSource, clock: Clock,
) -> list[Reminder]:
    """Queue every reminder owed now in the outbox, each with its slot recorded in the same transaction; returns
    those this call queued (a slot another worker took first is left to it)."""
    now = clock.now()
    queued = []
    for reminder in await due_reminders(sessions, campaign=campaign, forms=forms, now=now):
        try:
            async with sessions() as session, session.begin():
                session.add(ReminderSent(draft_id=reminder.draft_id, slot=reminder.slot.key, sent_at=now))
                await session.flush()
                await add_replies(session, channel=reminder.channel, external_id=reminder.external_id,
                                  replies=[compose(reminder, texts=texts, campaign=campaign)])
        except IntegrityError:  # another worker recorded it first (or the draft went meanwhile)
            log.info("reminder %s of draft %s queued elsewhere", reminder.slot.key, reminder.draft_id)
            continue
        queued.append(reminder)
    if queued:
        log.info("%d reminder(s) queued: %s", len(queued),
                 ", ".join(f"draft {r.draft_id} {r.slot.key}" for r in queued))
    return queued


class RemindersFlow:
    """The reminders' buttons: 继续填写 resumes the draft at its next open question, 不再提醒 stops them.

    Never started by a command nor left active: its buttons are taken whatever the conversation is at.
    """

    name = "reminders"
    commands: frozenset[str] = frozenset()
    presses = PREFIX

    def __init__(self, intake: IntakeFlow) -> None:
        self.intake = intake

    @property
    def forms(self) -> Mapping[str, Form]:
        """The forms of the drafts reminded of."""
        return self.intake.forms

    async def start(self, ctx: Context) -> list[Reply]:
        """Not reachable by a command; leaves at once."""
        ctx.finish()
        return []

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Never active; leaves at once."""
        ctx.finish()
        return []

    async def press(self, ctx: Context, value: str) -> list[Reply]:
        """A press of a reminder's button."""
        if value == _STOP:
            if await ctx.session.get(ReminderStop, ctx.user.id) is None:
                ctx.session.add(ReminderStop(user_id=ctx.user.id, stopped_at=ctx.clock.now()))
            log.info("user %s stopped reminders", ctx.user.id)
            return [TextOut(ctx.t("reminders.stopped"))]
        draft_id = value.removeprefix(_RESUME)
        if value.startswith(_RESUME) and draft_id.isascii() and draft_id.isdecimal() and len(draft_id) <= 18:
            return await self.intake.resume(ctx, int(draft_id))
        return [StaleOut(ctx.t("engine.stale_choice"))]

    async def send(self, sessions: async_sessionmaker[AsyncSession], *, campaign: Campaign, texts: TextSource,
                   clock: Clock) -> Sequence[Reminder]:
        """send_reminders for the drafts of this bot's forms (the housekeeping's round)."""
        return await send_reminders(sessions, campaign=campaign, forms=self.forms, texts=texts, clock=clock)
