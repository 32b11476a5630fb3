"""An SMTP server that refuses, rejects, hangs up or never answers: the entry stays submitted, the entrant gets
their answer, a warning is logged, and the mail goes out once on a later try (or is given up, loudly)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.housekeeping import keep_house
from bot.replies import DocumentOut, Reply, TextOut
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.base import utcnow
from db.session import make_engine, make_sessionmaker
from intake.flow import DeleteFlow, DraftsFlow, IntakeFlow, PrivacyFlow, StatusFlow
from intake.forms import Form, load_forms
from intake.mailing import FIRST_RETRY, MAX_ATTEMPTS, MailAttempt, mail_entry, retry_unmailed
from intake.queue import Submission
from knowledge.answer import KnowledgeBase
from tests.shipped import shipped_edition
from tests.stubs.tcp import misbehaving_server

from .test_flow import Entrant, _declare_and_submit
from .test_mail import Collector, free_port, serve, smtp_settings

FAULTS = ["connection refused", "message rejected", "hangs up", "never answers"]


class Rejecting(Collector):
    """A server that takes the envelope and then refuses the message."""

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        return "554 5.7.1 Message rejected by policy"


@contextmanager
def faulty_smtp(fault: str) -> Iterator[int]:
    """The port of an SMTP server with the given fault."""
    if fault == "connection refused":
        yield free_port()  # nothing listens there
    elif fault == "message rejected":
        from aiosmtpd.controller import Controller

        port = free_port()
        controller = Controller(Rejecting(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            yield port
        finally:
            controller.stop()
    else:
        with misbehaving_server("hang up" if fault == "hangs up" else "silent") as port:
            yield port


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def _engine(sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
            clock: FixedClock, settings: Settings, forms: dict[str, Form]) -> Engine:
    intake = IntakeFlow(forms)
    return Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=[intake, DraftsFlow(intake), StatusFlow(), PrivacyFlow(), DeleteFlow()])


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, TextOut))


async def _submit(engine: Engine, form: Form, user_id: str) -> list[Reply]:
    entrant = Entrant(engine, form, user_id=user_id)
    await entrant.to_form()
    await entrant.fill()
    return await _declare_and_submit(entrant)


async def _record(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[Submission, MailAttempt | None]:
    async with sessionmaker() as session:
        [record] = (await session.scalars(select(Submission))).all()
        return record, await session.get(MailAttempt, record.id)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_failing_smtp_server_leaves_the_entry_submitted_and_the_mail_goes_out_later(
    fault: str, sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts,
    campaign: Campaign, clock: FixedClock, settings: Settings, forms: dict[str, Form],
    caplog: pytest.LogCaptureFixture,
):
    with faulty_smtp(fault) as port, caplog.at_level(logging.WARNING):
        broken = smtp_settings(settings, port, smtp_timeout_s=1.0)
        replies = await _submit(_engine(sessionmaker, kb, texts, campaign, clock, broken, forms),
                                forms["pioneer_product"], "mail-1")
    # The entrant has their reference and their form, as if nothing had happened.
    assert "KCXF-2024-" in said(replies) and any(isinstance(r, DocumentOut) for r in replies)
    record, attempt = await _record(sessionmaker)
    assert record.status == "submitted" and record.mailed_at is None
    assert attempt is not None and attempt.attempts == 1 and attempt.next_try_at > utcnow()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(record.reference in w and str(port) in w for w in warnings)  # what failed, and where
    assert any(f"mailing {record.reference} failed (attempt 1 of {MAX_ATTEMPTS})" in w for w in warnings)

    for collector, good_port in serve():
        working = smtp_settings(settings, good_port)
        # Not due yet: nothing is tried.
        assert await retry_unmailed(sessionmaker, settings=working, campaign=campaign, clock=clock) == 0
        later = utcnow() + FIRST_RETRY + timedelta(seconds=1)
        assert await retry_unmailed(sessionmaker, settings=working, campaign=campaign, clock=clock,
                                    now=later) == 1
        assert await retry_unmailed(sessionmaker, settings=working, campaign=campaign, clock=clock,
                                    now=later + timedelta(hours=2)) == 0
        [received] = collector.messages
    assert received.message["Subject"] == record.subject
    record, attempt = await _record(sessionmaker)
    assert record.mailed_at is not None and attempt is None


async def test_a_mailing_that_keeps_failing_is_retried_with_growing_waits_then_given_up(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, forms: dict[str, Form], caplog: pytest.LogCaptureFixture,
):
    broken = smtp_settings(settings, free_port(), smtp_timeout_s=1.0)
    await _submit(_engine(sessionmaker, kb, texts, campaign, clock, broken, forms), forms["pioneer_product"], "m2")
    _, attempt = await _record(sessionmaker)
    assert attempt is not None
    now, waits = attempt.next_try_at, []
    with caplog.at_level(logging.WARNING):
        for _ in range(MAX_ATTEMPTS - 1):
            assert await retry_unmailed(sessionmaker, settings=broken, campaign=campaign, clock=clock, now=now) == 0
            _, attempt = await _record(sessionmaker)
            assert attempt is not None
            waits.append(attempt.next_try_at - now)
            now = attempt.next_try_at
    assert waits[:3] == [2 * FIRST_RETRY, 4 * FIRST_RETRY, 8 * FIRST_RETRY]  # doubling…
    assert waits[-1] == timedelta(hours=1)  # …up to an hour
    record, attempt = await _record(sessionmaker)
    assert attempt is not None and attempt.attempts == MAX_ATTEMPTS and record.mailed_at is None
    assert any(r.levelno == logging.ERROR and "giving up" in r.getMessage() and record.reference in r.getMessage()
               for r in caplog.records)
    for collector, good_port in serve():  # given up: not even a working server gets it without a person
        working = smtp_settings(settings, good_port)
        assert await retry_unmailed(sessionmaker, settings=working, campaign=campaign, clock=clock,
                                    now=now + timedelta(days=1)) == 0
        assert collector.messages == []


async def test_two_processes_retrying_at_once_mail_the_record_once(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, forms: dict[str, Form],
):
    broken = smtp_settings(settings, free_port(), smtp_timeout_s=1.0)
    await _submit(_engine(sessionmaker, kb, texts, campaign, clock, broken, forms), forms["pioneer_product"], "m3")
    record, _ = await _record(sessionmaker)
    other = make_engine(settings.db_url)  # a second worker: its own connections to the same database
    try:
        for collector, port in serve():
            working = smtp_settings(settings, port)
            later = utcnow() + FIRST_RETRY + timedelta(seconds=1)
            sent = await asyncio.gather(*(
                mail_entry(pool, reference=record.reference, settings=working, campaign=campaign, clock=clock,
                           now=later)
                for pool in (sessionmaker, make_sessionmaker(other), sessionmaker, make_sessionmaker(other))
            ))
            assert sorted(sent) == [False, False, False, True]
            assert len(collector.messages) == 1
    finally:
        await other.dispose()


async def test_the_bots_housekeeping_retries_the_mail(
    sessionmaker: async_sessionmaker[AsyncSession], kb: KnowledgeBase, texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, forms: dict[str, Form],
):
    with ExitStack() as stack:
        port = stack.enter_context(misbehaving_server("hang up"))
        broken = smtp_settings(settings, port, smtp_timeout_s=1.0)
        await _submit(_engine(sessionmaker, kb, texts, campaign, clock, broken, forms), forms["pioneer_product"],
                      "m4")
    async with sessionmaker() as session, session.begin():  # the first retry's delay has passed
        attempt = await session.scalar(select(MailAttempt))
        assert attempt is not None
        attempt.next_try_at = utcnow() - timedelta(seconds=1)
    for collector, good_port in serve():
        engine = _engine(sessionmaker, kb, texts, campaign, clock, smtp_settings(settings, good_port), forms)
        done = await keep_house(engine)
        assert done.mailed == 1 and len(collector.messages) == 1
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(MailAttempt)) == 0
