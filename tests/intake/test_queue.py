"""The committee queue: numbered records with a snapshot, idempotent submission, review history."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.users import User
from config import Campaign, FixedClock
from intake import queue
from intake.files import StoredFile
from intake.forms import Form, load_forms
from intake.queue import IncompleteEntry, StatusChange, StatusError, Submission, SubmissionNotFound
from tests.intake.factories import answers_for, overseas_english
from tests.shipped import shipped_edition

REFERENCE = re.compile(r"^KCXF-2024-\d{5}$")


@pytest.fixture(scope="module")
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


@pytest.fixture
async def user_id(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        user = User(channel="test", external_id="1", display_name="tester")
        session.add(user)
        await session.commit()
        return user.id


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_every_award_queues_a_complete_entry(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    for n, award in enumerate(campaign.awards, start=1):
        form = forms[award.id]
        answers = answers_for(form)
        async with sessionmaker() as session:
            record = (await queue.submit(session, draft_key=f"draft-{award.id}", user_id=user_id, form=form,
                                         answers=answers, campaign=campaign, now=clock.now())).record
            await session.commit()
        assert REFERENCE.match(record.reference)
        assert record.reference == f"KCXF-2024-{record.id:05d}" and record.id == n
        entrant = answers[form.entrant_field.id]  # the award's own subject field names the entrant
        assert record.entrant_name == entrant
        assert record.subject == f"参选类别（{award.name.zh}）+ {entrant}" == campaign.subject(award.id, entrant)
        assert record.status == "submitted" and record.form_file is None and record.mailed_at is None
        assert record.created_at == clock.now() and record.created_at.tzinfo is not None

        async with sessionmaker() as session:
            stored = await queue.get_submission(session, record.reference.lower())
            assert stored is not None
            assert stored.answers == answers
            assert stored.award_id == award.id and stored.user_id == user_id
            [change] = await queue.history_of(session, stored)
            assert (change.from_status, change.to_status, change.actor) == (None, "submitted", f"user:{user_id}")


async def test_snapshot_is_detached_from_the_callers_answers(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["pioneer_product"]
    answers = overseas_english(form)
    async with sessionmaker() as session:
        record = (await queue.submit(session, draft_key="d1", user_id=user_id, form=form, answers=answers,
                                     campaign=campaign, now=clock.now())).record
        await session.commit()
    answers["product_name"] = "changed later"
    answers["projects"][0]["project_name"] = "changed later"
    async with sessionmaker() as session:
        stored = await queue.get_submission(session, record.reference)
        assert stored is not None
        assert stored.answers["product_name"] == "PioneerEye Inspection Camera" == stored.entrant_name
        assert stored.answers["projects"][0]["project_name"] != "changed later"
        assert stored.subject == "参选类别（年度科创先锋产品）+ PioneerEye Inspection Camera"


async def test_incomplete_entry_is_refused_with_its_problems(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["enterprise_npf"]
    answers = answers_for(form)
    answers["decl_truthful"] = False
    del answers["contact_email"]
    answers["credit_code"] = "91350100M000100Y44"  # checksum broken
    async with sessionmaker() as session:
        with pytest.raises(IncompleteEntry) as refused:
            await queue.submit(session, draft_key="d1", user_id=user_id, form=form, answers=answers,
                               campaign=campaign, now=clock.now())
        await session.commit()
        assert await count(session, Submission) == 0 and await count(session, StatusChange) == 0
    fields = [p.field_id for p in refused.value.problems]
    assert set(fields) == {"decl_truthful", "contact_email", "credit_code"}
    assert all(p.reason.zh and p.reason.en for p in refused.value.problems)


async def test_the_same_draft_submitted_twice_is_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["pioneer_person"]
    answers = answers_for(form)
    async with sessionmaker() as session:
        first = (await queue.submit(session, draft_key="same", user_id=user_id, form=form, answers=answers,
                                    campaign=campaign, now=clock.now())).record
        again = (await queue.submit(session, draft_key="same", user_id=user_id, form=form, answers=answers,
                                    campaign=campaign, now=clock.now())).record
        assert again is first
        await session.commit()
    # A retry after a lost reply, even with answers edited meanwhile, returns what was submitted.
    async with sessionmaker() as session:
        later = (await queue.submit(session, draft_key="same", user_id=user_id, form=form,
                                    answers={**answers, "person_name": "李四海"}, campaign=campaign,
                                    now=clock.advance(timedelta(hours=1)))).record
        await session.commit()
        assert later.reference == first.reference and later.entrant_name == first.entrant_name
        assert await count(session, Submission) == 1 and await count(session, StatusChange) == 1


async def test_concurrent_submits_of_one_draft_leave_one_record(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock, caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="intake.queue")
    form = forms["innovation_park"]
    answers = answers_for(form)
    first_flushed = asyncio.Event()
    may_commit = asyncio.Event()

    async def first() -> str:
        async with sessionmaker() as session:
            record = (await queue.submit(session, draft_key="race", user_id=user_id, form=form, answers=answers,
                                         campaign=campaign, now=clock.now())).record
            first_flushed.set()
            await may_commit.wait()
            await session.commit()
            return record.reference

    async def second() -> str:
        await first_flushed.wait()
        async with sessionmaker() as session:
            # Its look-up sees nothing yet (the first is uncommitted), so it reaches the insert and waits there.
            pending = asyncio.create_task(
                queue.submit(session, draft_key="race", user_id=user_id, form=form, answers=answers,
                             campaign=campaign, now=clock.now())
            )
            await asyncio.sleep(0.2)
            may_commit.set()
            record = (await pending).record
            await session.commit()
            return record.reference

    refs = await asyncio.wait_for(asyncio.gather(first(), second()), timeout=30)
    assert refs[0] == refs[1]
    assert "submitted concurrently" in caplog.text  # the second really reached the insert
    async with sessionmaker() as session:
        assert await count(session, Submission) == 1 and await count(session, StatusChange) == 1


async def test_many_concurrent_submits_of_one_draft(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["rising_potential"]
    answers = answers_for(form)

    async def one() -> str:
        async with sessionmaker() as session:
            record = (await queue.submit(session, draft_key="burst", user_id=user_id, form=form, answers=answers,
                                         campaign=campaign, now=clock.now())).record
            await session.commit()
            return record.reference

    refs = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(8))), timeout=60)
    assert len(set(refs)) == 1
    async with sessionmaker() as session:
        assert await count(session, Submission) == 1


async def test_nothing_is_written_when_the_caller_rolls_back(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["pioneer_engine"]
    async with sessionmaker() as session:
        await queue.submit(session, draft_key="d1", user_id=user_id, form=form, answers=answers_for(form),
                           campaign=campaign, now=clock.now())
        await session.rollback()
    async with sessionmaker() as session:
        assert await count(session, Submission) == 0 and await count(session, StatusChange) == 0


async def submitted(sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, form: Form, user_id: int,
                    clock: FixedClock, key: str = "d1") -> str:
    async with sessionmaker() as session:
        record = (await queue.submit(session, draft_key=key, user_id=user_id, form=form, answers=answers_for(form),
                                     campaign=campaign, now=clock.now())).record
        await session.commit()
        return record.reference


async def test_review_moves_through_both_stages_with_history(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    ref = await submitted(sessionmaker, campaign, forms["pioneer_product"], user_id, clock)
    steps = [
        ("first_review", "", "staff:li"),
        ("needs_more", "请补充近三年审计报告", "staff:li"),
        ("first_review", "材料已补齐", "staff:li"),
        ("passed_first", "", "staff:wang"),
        ("final_review", "", "cli"),
        ("finalist", "评委会一致通过", "cli"),
    ]
    for to_status, note, actor in steps:
        async with sessionmaker() as session:
            record = await queue.change_status(session, reference=ref, to_status=to_status, note=note,
                                               actor=actor, now=clock.advance(timedelta(days=1)))
            await session.commit()
            assert record.status == to_status and record.updated_at == clock.now()
    async with sessionmaker() as session:
        record = await queue.get_submission(session, ref)
        assert record is not None and record.status == "finalist"
        history = await queue.history_of(session, record)
    assert [(h.from_status, h.to_status, h.note, h.actor) for h in history] == [
        (None, "submitted", "", f"user:{user_id}"),
        ("submitted", "first_review", "", "staff:li"),
        ("first_review", "needs_more", "请补充近三年审计报告", "staff:li"),
        ("needs_more", "first_review", "材料已补齐", "staff:li"),
        ("first_review", "passed_first", "", "staff:wang"),
        ("passed_first", "final_review", "", "cli"),
        ("final_review", "finalist", "评委会一致通过", "cli"),
    ]
    assert [h.created_at for h in history] == sorted(h.created_at for h in history)


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "finalist"),  # 终审 comes after 初审
        ([], "final_review"),
        (["first_review", "rejected"], "first_review"),  # 未通过 is final
        (["first_review", "passed_first", "final_review", "not_selected"], "finalist"),
        (["first_review"], "submitted"),
        (["first_review"], "first_review"),
    ],
)
async def test_invalid_transitions_are_refused_in_both_languages(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock, path: list[str], refused: str,
):
    ref = await submitted(sessionmaker, campaign, forms["pioneer_person"], user_id, clock)
    async with sessionmaker() as session:
        for step in path:
            await queue.change_status(session, reference=ref, to_status=step, note="", actor="t", now=clock.now())
        await session.commit()
    async with sessionmaker() as session:
        with pytest.raises(StatusError) as error:
            await queue.change_status(session, reference=ref, to_status=refused, note="", actor="t",
                                      now=clock.now())
        await session.commit()
        assert ref in error.value.message.zh and ref in error.value.message.en
        assert queue.status_label(refused).zh in error.value.message.zh
        record = await queue.get_submission(session, ref)
        assert record is not None and record.status == (path[-1] if path else "submitted")
        assert len(await queue.history_of(session, record)) == 1 + len(path)


async def test_unknown_status_and_reference(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    ref = await submitted(sessionmaker, campaign, forms["pioneer_person"], user_id, clock)
    async with sessionmaker() as session:
        with pytest.raises(StatusError, match="approved"):
            await queue.change_status(session, reference=ref, to_status="approved", note="", actor="t",
                                      now=clock.now())
        with pytest.raises(SubmissionNotFound):
            await queue.change_status(session, reference="KCXF-2024-99999", to_status="first_review", note="",
                                      actor="t", now=clock.now())


def test_status_table_is_consistent():
    ids = set(queue.STATUSES)
    assert ids == {"submitted", "first_review", "passed_first", "rejected", "needs_more", "final_review",
                   "finalist", "not_selected"}
    assert set(queue.TRANSITIONS) == ids
    assert all(targets <= ids for targets in queue.TRANSITIONS.values())
    assert all(all(c.isascii() for c in s) for s in ids)
    labels = {s.id: s.label.zh for s in queue.STATUSES.values()}
    assert labels["first_review"] == "初审中" and labels["finalist"] == "入围" and labels["not_selected"] == "未入围"
    assert {s for s, t in queue.TRANSITIONS.items() if not t} == {s.id for s in queue.STATUSES.values() if s.final}
    # Every status is reachable from a new record.
    seen, todo = {"submitted"}, ["submitted"]
    while todo:
        for nxt in queue.TRANSITIONS[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert seen == ids


async def test_listing_filters_and_each_users_records(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    async with sessionmaker() as session:
        other = User(channel="test", external_id="2")
        session.add(other)
        await session.commit()
        other_id = other.id
    a = await submitted(sessionmaker, campaign, forms["pioneer_product"], user_id, clock, key="a")
    b = await submitted(sessionmaker, campaign, forms["pioneer_person"], user_id, clock, key="b")
    c = await submitted(sessionmaker, campaign, forms["pioneer_product"], other_id, clock, key="c")
    async with sessionmaker() as session:
        await queue.change_status(session, reference=b, to_status="first_review", note="", actor="t",
                                  now=clock.now())
        await session.commit()
    async with sessionmaker() as session:
        assert [r.reference for r in await queue.list_submissions(session)] == [a, b, c]
        assert [r.reference for r in await queue.list_submissions(session, award_id="pioneer_product")] == [a, c]
        assert [r.reference for r in await queue.list_submissions(session, status="first_review")] == [b]
        assert await queue.list_submissions(session, status="submitted", award_id="pioneer_person") == []
        assert [r.reference for r in await queue.submissions_of(session, user_id)] == [b, a]
        assert [r.reference for r in await queue.submissions_of(session, other_id)] == [c]
        assert await queue.get_submission(session, "KCXF-2024-99999") is None


async def test_attachments_come_from_stored_files_in_the_answers(
    sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign, forms: dict[str, Form], user_id: int,
    clock: FixedClock,
):
    form = forms["pioneer_product"]
    stored = StoredFile(name="产品手册.pdf", path="uploads/1/abcdef012345-产品手册.pdf", size=2048,
                        sha256="ab" * 32, mime_type="application/pdf")
    telegram_only = {"name": "deck.pdf", "size": 10, "file_id": "BQACAgUAAxkBAAIB"}  # never stored by the bot
    answers = {**answers_for(form), "attachments": [stored.as_dict(), telegram_only]}
    async with sessionmaker() as session:
        record = (await queue.submit(session, draft_key="files", user_id=user_id, form=form, answers=answers,
                                     campaign=campaign, now=clock.now())).record
        await queue.set_form_file(session, record, f"forms/{record.reference}/申报表.docx")
        await session.commit()
    async with sessionmaker() as session:
        again = await queue.get_submission(session, record.reference)
        assert again is not None
        assert again.stored_attachments == [stored]
        assert again.form_file == f"forms/{record.reference}/申报表.docx"
