"""Getting each queued entry into the committee's mailbox once, whichever process tries and however SMTP fails.

The process that queued an entry mails it as soon as the submission has committed. When the SMTP server refuses,
drops the connection or does not answer in time, the entry stays submitted (the entrant already has their
reference), intake.mail logs a warning, and a MailAttempt row says when to try again: the bot's housekeeping
retries it, doubling the wait each time, and after MAX_ATTEMPTS gives up with an error in the log. Until it goes
out the record's mailed_at stays empty, which `kcxf queue show` and the console display.

A try is claimed before it starts (one row per record, updated only when the next try is due), so two bot
workers, or a worker and its own retry, never mail the same record at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from config import Campaign, Settings
from config.clock import Clock
from db.base import Base, UTCDateTime, utcnow
from db.upsert import upsert
from intake import mail, queue

__all__ = ["FIRST_RETRY", "MAX_ATTEMPTS", "MailAttempt", "mail_entry", "retry_unmailed"]

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LAST_RETRY = timedelta(hours=1)
# 1, 2, 4 … 60 minutes: about half a day of tries before a person has to look.
MAX_ATTEMPTS = 12


class MailAttempt(Base):
    """The mailing of one record that has not gone out yet: how often it was tried and when to try next."""

    __tablename__ = "mail_attempts"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(Integer)
    # While a try is under way this lies a lease ahead, so no other process starts one; after a failure it is
    # when the next try is due.
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"MailAttempt(submission_id={self.submission_id}, attempts={self.attempts})"


async def mail_entry(
    sessions: async_sessionmaker[AsyncSession], *, reference: str, settings: Settings, campaign: Campaign,
    clock: Clock, now: datetime | None = None,
) -> bool:
    """Mail one record now unless it went out already, its next try is not due, or another process is at it.

    True when it went out; never raises for an SMTP failure (that is logged and scheduled again). `now` is the
    real time (not the campaign clock), given by tests that let the retry delays pass.
    """
    if not settings.smtp_host:
        return False
    now = now or utcnow()
    async with sessions() as session:
        submission = await queue.get_submission(session, reference)
        if submission is None or submission.mailed_at is not None:
            return False
        attempt = await _claim(session, submission.id, now=now, lease=_lease(settings))
        if attempt is None:
            log.debug("%s is being mailed elsewhere or not due; skipped", reference)
            return False
        # Read again under the claim: a try that finished since the first look may have mailed it already.
        await session.refresh(submission, attribute_names=["mailed_at"])
        if submission.mailed_at is not None:
            await session.rollback()
            return False
        await session.commit()
    form_path = settings.files_dir / submission.form_file if submission.form_file else None
    sent = await mail.send_submission_async(settings=settings, campaign=campaign, submission=submission,
                                            form_path=form_path, attachments_dir=settings.files_dir)
    async with sessions() as session, session.begin():
        if sent:
            record = await queue.get_submission(session, reference)
            if record is not None:
                record.mailed_at = clock.now()
            await session.execute(delete(MailAttempt).where(MailAttempt.submission_id == submission.id))
            return True
        wait = min(FIRST_RETRY * 2 ** (attempt - 1), LAST_RETRY)
        row = await session.get(MailAttempt, submission.id)
        if row is not None:
            row.next_try_at = now + wait
        if attempt >= MAX_ATTEMPTS:
            log.error("mailing %s failed %d times; giving up: send it to %s by hand (kcxf queue show %s)",
                      reference, attempt, campaign.committee.mailbox, reference)
        else:
            log.warning("mailing %s failed (attempt %d of %d); trying again in %s",
                        reference, attempt, MAX_ATTEMPTS, wait)
    return False


async def retry_unmailed(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, campaign: Campaign, clock: Clock,
    limit: int = 10, now: datetime | None = None,
) -> int:
    """Try again the records whose mailing failed and whose next try is due; returns how many went out."""
    if not settings.smtp_host:
        return 0
    now = now or utcnow()
    async with sessions() as session:
        due = list((await session.scalars(
            select(queue.Submission.reference)
            .join(MailAttempt, MailAttempt.submission_id == queue.Submission.id)
            .where(queue.Submission.mailed_at.is_(None), MailAttempt.attempts < MAX_ATTEMPTS,
                   MailAttempt.next_try_at <= now)
            .order_by(MailAttempt.next_try_at)
            .limit(limit)
        )).all())
    sent = 0
    for reference in due:
        if await mail_entry(sessions, reference=reference, settings=settings, campaign=campaign, clock=clock,
                            now=now):
            sent += 1
    return sent


def _lease(settings: Settings) -> timedelta:
    # Long enough for one SMTP conversation, each step of which may take the timeout; a try still going after
    # that is presumed dead with its process.
    return timedelta(seconds=4 * settings.smtp_timeout_s + 30)


async def _claim(session: AsyncSession, submission_id: int, *, now: datetime, lease: timedelta) -> int | None:
    """The number of the try this process may start now, or None when it is not due or already under way."""
    values = {"submission_id": submission_id, "attempts": 1, "next_try_at": now + lease}
    taken = {"attempts": MailAttempt.attempts + 1, "next_try_at": now + lease}
    return await session.scalar(
        upsert(session, MailAttempt, values, key=["submission_id"], set_=taken,
               where=MailAttempt.next_try_at <= now).returning(MailAttempt.attempts)
    )

