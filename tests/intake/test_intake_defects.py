"""Defects a review found in the intake (issue 18), each replayed the way an entrant or the committee meets it."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.events import CommandIn, FileIn
from bot.replies import DocumentOut, TextOut
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from intake import queue, render_worker
from intake.drafts import OPEN, SUBMITTED, Draft
from intake.files import STAGED_PREFIX
from intake.flow import PREFIX
from intake.forms import Form
from intake.notify import Notification
from intake.retention import purge_abandoned

from .factories import typed_answer
from .test_flow import Entrant, _declare_and_submit, _engine, _text, engine, forms  # noqa: F401 - fixtures
from .test_queue_cli import kcxf

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_THE_DEADLINE = datetime(2024, 10, 21, 0, 0, 1, tzinfo=SHANGHAI)
PRODUCT = "pioneer_product"


def _summary_number(replies, form: Form, field_id: str) -> str:  # type: ignore[no-untyped-def]
    label = form.field(field_id).label.zh
    line = next(line for line in _text(replies).splitlines() if f". {label}" in line or f"{label}：" in line)
    return line.split(".")[0].strip()


async def _records(sessionmaker: async_sessionmaker[AsyncSession]) -> list[queue.Submission]:
    async with sessionmaker() as session:
        return await queue.list_submissions(session)


# -- item 2: 上一步 at the first declaration -------------------------------------------------------------------
async def test_back_at_the_first_declaration_returns_to_the_summary_and_deletes_nothing(
    engine, forms: dict[str, Form],  # noqa: F811
):
    entrant = Entrant(engine, forms[PRODUCT], user_id="back-decl")
    await entrant.to_form()
    await entrant.fill()
    answered = dict((await entrant.draft()).answers)
    replies = await entrant.press(f"{PREFIX}confirm")
    assert "声明" in _text(replies)
    first_declaration = (await entrant.state())[2]["position"]
    for press in (lambda: entrant.press(f"{PREFIX}back"), lambda: entrant.say("上一步")):
        replies = await press()
        assert (await entrant.state())[1] == "summary", _text(replies)
        assert "请核对您的申报信息" in _text(replies)
        assert (await entrant.draft()).answers == answered
        await entrant.press(f"{PREFIX}confirm")
        assert (await entrant.state())[2]["position"] == first_declaration
    # Within the declarations, back withdraws the declaration just given, and only that.
    await entrant.press(f"{PREFIX}yes")
    assert (await entrant.state())[2]["position"] != first_declaration
    await entrant.press(f"{PREFIX}back")
    assert (await entrant.state())[2]["position"] == first_declaration
    assert (await entrant.draft()).answers == answered
    replies = await _declare_and_submit_from_declarations(entrant)
    assert "KCXF-2024-" in _text(replies)
    [record] = await _records(entrant.engine.sessionmaker)
    assert {k: v for k, v in record.answers.items() if not k.startswith("decl_")} == answered


async def _declare_and_submit_from_declarations(entrant: Entrant):  # type: ignore[no-untyped-def]
    replies = []
    for _ in range(10):
        if (await entrant.state())[0] is None:
            return replies
        replies = await entrant.press(f"{PREFIX}yes")
    raise AssertionError("declarations never ended")


# -- item 3: the deadline when a draft is resumed and at submit --------------------------------------------------
async def test_a_draft_cannot_be_resumed_after_the_deadline(engine, forms: dict[str, Form], clock: FixedClock):  # noqa: F811
    entrant = Entrant(engine, forms[PRODUCT], user_id="late-resume")
    await entrant.to_form()
    await entrant.send(CommandIn("cancel"))
    clock.set(AFTER_THE_DEADLINE)
    replies = await entrant.send(CommandIn("drafts"))
    [offer] = [r for r in replies if isinstance(r, TextOut) and r.choices]
    replies = await entrant.press(next(c.value for c in offer.choices if c.value[-1].isdigit()))
    assert "截止" in _text(replies) and "第 1/" not in _text(replies), _text(replies)
    assert (await entrant.state())[0] is None


async def test_a_form_begun_before_the_deadline_is_not_submitted_after_it(
    engine, forms: dict[str, Form], clock: FixedClock,  # noqa: F811
):
    entrant = Entrant(engine, forms[PRODUCT], user_id="late-submit")
    await entrant.to_form()
    await entrant.fill()
    await entrant.press(f"{PREFIX}confirm")
    clock.set(AFTER_THE_DEADLINE)  # the call closes while the entrant reads the declarations
    replies = await _declare_and_submit_from_declarations(entrant)
    assert "截止" in _text(replies) and "KCXF-2024-" not in _text(replies), _text(replies)
    assert not any(isinstance(r, DocumentOut) for r in replies)
    assert await _records(entrant.engine.sessionmaker) == []
    # Confirming the summary after the deadline says so at once, before any declaration.
    entrant2 = Entrant(engine, forms[PRODUCT], user_id="late-confirm")
    clock.set(AFTER_THE_DEADLINE - timedelta(days=1))
    await entrant2.to_form()
    await entrant2.fill()
    clock.set(AFTER_THE_DEADLINE)
    replies = await entrant2.press(f"{PREFIX}confirm")
    assert "截止" in _text(replies) and "声明" not in _text(replies), _text(replies)


async def test_a_draft_reopened_for_more_materials_is_resubmitted_after_the_deadline(
    engine, forms: dict[str, Form], clock: FixedClock, sessionmaker,  # noqa: F811
):
    entrant = Entrant(engine, forms[PRODUCT], user_id="late-more")
    await entrant.to_form()
    await entrant.fill()
    await _declare_and_submit(entrant)
    clock.set(AFTER_THE_DEADLINE + timedelta(days=2))  # 初审 happens after the call has closed
    async with sessionmaker() as session, session.begin():
        await queue.change_status(session, reference="KCXF-2024-00001", to_status=queue.NEEDS_MORE,
                                  note="请补充检测报告", actor="staff:li", now=clock.now())
    replies = await entrant.send(CommandIn("drafts"))
    [offer] = [r for r in replies if isinstance(r, TextOut) and r.choices]
    replies = await entrant.press(next(c.value for c in offer.choices if c.value[-1].isdigit()))
    assert (await entrant.state())[1] == "summary", _text(replies)
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-00001" in _text(replies)
    [record] = await _records(sessionmaker)
    assert record.status == "first_review"


# -- item 4: a reopened draft after the committee moved the record on --------------------------------------------
async def test_a_reopened_draft_closes_when_the_committee_moves_the_record_on(
    engine, forms: dict[str, Form], clock: FixedClock, sessionmaker, settings: Settings,  # noqa: F811
):
    form = forms[PRODUCT]
    entrant = Entrant(engine, form, user_id="moved-on")
    await entrant.to_form()
    await entrant.fill()
    await _declare_and_submit(entrant)
    async with sessionmaker() as session, session.begin():
        await queue.change_status(session, reference="KCXF-2024-00001", to_status=queue.NEEDS_MORE,
                                  note="请补充检测报告", actor="staff:li", now=clock.now())
    replies = await entrant.send(CommandIn("drafts"))
    [offer] = [r for r in replies if isinstance(r, TextOut) and r.choices]
    replies = await entrant.press(next(c.value for c in offer.choices if c.value[-1].isdigit()))
    await entrant.say(f"修改 {_summary_number(replies, form, 'contact_position')}")
    await entrant.say("首席技术官")  # an edit the committee never receives
    [before] = await _records(sessionmaker)
    form_file = settings.files_dir / before.form_file
    rendered = form_file.read_bytes()
    # Staff decide without waiting for the materials, from the command line.
    done = await asyncio.to_thread(kcxf, settings, "status", "KCXF-2024-00001", "passed_first")
    assert done.returncode == 0, done.stderr
    draft = await entrant.draft()
    assert draft.status == SUBMITTED and draft.answers["contact_position"] == before.answers["contact_position"]
    replies = await entrant.press(f"{PREFIX}confirm")
    text = _text(replies)
    assert "KCXF-2024-00001" in text and "初审通过" in text, text
    assert not any(isinstance(r, DocumentOut) for r in replies)
    assert (await entrant.state())[0] is None
    [after] = await _records(sessionmaker)
    assert after.status == "passed_first" and after.answers == before.answers
    assert form_file.read_bytes() == rendered
    async with sessionmaker() as session:
        staff = list(await session.scalars(select(Notification.text).where(Notification.text.like("补充材料%"))))
    assert staff == []
    assert (await entrant.draft()).status == SUBMITTED
    replies = await entrant.send(CommandIn("drafts"))
    assert "没有" in _text(replies), _text(replies)


async def test_submit_says_whether_it_created_resubmitted_or_found_the_record(
    sessionmaker, forms: dict[str, Form], campaign: Campaign, clock: FixedClock,  # noqa: F811
):
    from bot.users import User

    from .factories import answers_for

    form = forms[PRODUCT]
    answers = answers_for(form)
    async with sessionmaker() as session, session.begin():
        user = User(channel="test", external_id="outcome")
        session.add(user)
        await session.flush()
        first = await queue.submit(session, draft_key="k", user_id=user.id, form=form, answers=answers,
                                   campaign=campaign, now=clock.now())
        again = await queue.submit(session, draft_key="k", user_id=user.id, form=form, answers=answers,
                                   campaign=campaign, now=clock.now())
        assert (first.outcome, again.outcome) == (queue.CREATED, queue.FOUND)
        assert first.record.id == again.record.id
        await queue.change_status(session, reference=first.record.reference, to_status=queue.NEEDS_MORE,
                                  actor="t", now=clock.now())
        more = await queue.submit(session, draft_key="k", user_id=user.id, form=form, answers=answers,
                                  campaign=campaign, now=clock.now())
        assert more.outcome == queue.RESUBMITTED and more.record.status == "first_review"


# -- item 6: answers to fields that are no longer shown ----------------------------------------------------------
async def test_answers_to_fields_no_longer_shown_are_not_submitted_nor_exported(
    engine, forms: dict[str, Form], settings: Settings, sessionmaker,  # noqa: F811
):
    form = forms[PRODUCT]
    entrant = Entrant(engine, form, user_id="switched")
    await entrant.to_form()
    await entrant.fill(typed={"nomination": "专家推荐"})
    assert (await entrant.draft()).answers["recommender_name"] == "李明华"
    summary = entrant.log[-1:]
    await entrant.say(f"修改 {_summary_number(summary, form, 'nomination')}")
    replies = await entrant.say("自荐")  # the entrant nominates themselves after all
    assert (await entrant.state())[1] == "summary" and "李明华" not in _text(replies)
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-" in _text(replies)
    [record] = await _records(sessionmaker)
    assert record.answers["nomination"] == "self"
    assert not {k for k in record.answers if k.startswith("recommender_")}, record.answers
    exported = await asyncio.to_thread(kcxf, settings, "export", "--format", "json", "--unmasked")
    assert exported.returncode == 0, exported.stderr
    [row] = json.loads(exported.stdout)
    assert "李明华" not in exported.stdout and "13912345678" not in exported.stdout.replace(" ", "")
    assert not {k for k in row["answers"] if k.startswith("recommender_")}
    [document] = [r for r in replies if isinstance(r, DocumentOut)]
    from docx import Document as Docx

    doc = await asyncio.to_thread(Docx, str(document.path))
    cells = " ".join(c.text for t in doc.tables for row_ in t.rows for c in row_.cells)
    assert "李明华" not in cells and "李明华" not in " ".join(p.text for p in doc.paragraphs)


# -- item 10: one list of yes and no words; the attachment limit when a file arrives -----------------------------
@pytest.mark.parametrize("word", ["好的", "OK", "确认", "可以", "是的"])
async def test_every_yes_word_of_the_declarations_also_answers_another_project(
    engine, forms: dict[str, Form], word: str,  # noqa: F811
):
    form = forms["pioneer_person"]
    entrant = Entrant(engine, form, user_id=f"yes-{word}")
    await entrant.to_form()
    for _ in range(200):
        _, step, data = await entrant.state()
        if step == "more":
            break
        field = form.field(data["position"].split(".")[-1])
        if field.type == "file_list":
            await entrant.press(f"{PREFIX}skip")
        else:
            await entrant.say(typed_answer(form, field, typed={}, long_text=None))
    assert form.check(form.field("decl_truthful"), word).value is True  # what a declaration takes as yes
    replies = await entrant.say(word)
    assert "项目 2" in _text(replies), _text(replies)
    assert (await entrant.state())[1] == "ask"


async def test_an_attachment_over_the_limit_is_refused_when_it_arrives_and_nothing_is_lost(
    engine, forms: dict[str, Form], tmp_path: Path, sessionmaker,  # noqa: F811
):
    form = forms[PRODUCT]
    limit = form.field("attachments").limits["max_files"]
    entrant = Entrant(engine, form, user_id="many-files")
    await entrant.to_form()
    for n in range(limit + 1):
        path = tmp_path / f"材料{n}.pdf"
        path.write_bytes(b"%PDF-1.4 " + str(n).encode())
        replies = await entrant.send(FileIn(file_name=path.name, mime_type="application/pdf", size=None, path=path))
    assert f"最多上传 {limit} 个附件" in _text(replies), _text(replies)
    names = [a["name"] for a in (await entrant.draft()).answers["attachments"]]
    assert names == [f"材料{n}.pdf" for n in range(limit)]
    await entrant.fill()
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-" in _text(replies), _text(replies)
    [record] = await _records(sessionmaker)
    assert [a["name"] for a in record.attachments] == names


# -- item 5: files written inside the event's transaction -----------------------------------------------------
async def test_the_form_is_rendered_after_the_submission_has_committed(
    engine, forms: dict[str, Form], sessionmaker, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
):
    seen: list[list[str]] = []
    real = render_worker.render

    async def looking(**kwargs):  # type: ignore[no-untyped-def]
        # Another connection, as another entrant's step would be: it must see the record already.
        async with sessionmaker() as session:
            seen.append(list(await session.scalars(select(queue.Submission.reference))))
        return await real(**kwargs)

    monkeypatch.setattr(render_worker, "render", looking)
    entrant = Entrant(engine, forms[PRODUCT], user_id="render-late")
    await entrant.to_form()
    await entrant.fill()
    replies = await _declare_and_submit(entrant)
    assert seen == [["KCXF-2024-00001"]]
    [document] = [r for r in replies if isinstance(r, DocumentOut)]
    assert await asyncio.to_thread(Path(document.path).is_file)
    [record] = await _records(sessionmaker)
    assert record.form_file and Path(document.path).name == Path(record.form_file).name


async def test_a_form_that_cannot_be_rendered_loses_no_submission(
    engine, forms: dict[str, Form], sessionmaker, settings: Settings,  # noqa: F811
):
    entrant = Entrant(engine, forms[PRODUCT], user_id="render-broken")
    await entrant.to_form()
    await entrant.fill()
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    (settings.files_dir / "forms").write_text("not a folder")  # nowhere to write the 申报表
    replies = await _declare_and_submit(entrant)
    assert "KCXF-2024-00001" in _text(replies), _text(replies)
    assert not any(isinstance(r, DocumentOut) for r in replies)
    [record] = await _records(sessionmaker)
    assert record.status == "submitted" and record.form_file is None
    assert (await entrant.state())[0] is None and (await entrant.draft()).status == SUBMITTED


async def test_an_upload_whose_step_rolled_back_is_named_by_no_draft_and_purged(
    engine, forms: dict[str, Form], sessionmaker, kb, texts, campaign, clock, settings: Settings,  # noqa: F811
    tmp_path: Path,
):
    """A file arrives slowly while the entrant's /cancel, handled by another worker, ends the form."""
    entrant = Entrant(engine, forms[PRODUCT], user_id="rolled-back")
    await entrant.to_form()
    other = _engine(sessionmaker, kb, texts, campaign, clock, settings, forms)
    user_id = (await entrant.draft()).user_id
    pipe = tmp_path / "slow.pdf"
    os.mkfifo(pipe)
    sending = asyncio.create_task(entrant.send(FileIn(file_name="检测报告.pdf", mime_type="application/pdf",
                                                      size=None, path=pipe)))
    writer = None
    for _ in range(500):  # until the upload is being read: the step has read the conversation
        try:
            writer = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            await asyncio.sleep(0.01)
    assert writer is not None, "the upload was never read"
    await other.handle(entrant.user, CommandIn("cancel"))
    os.set_blocking(writer, True)
    await asyncio.to_thread(os.write, writer, b"%PDF-1.4 arrived while the form ended")
    os.close(writer)
    replies = await sending
    assert "检测报告.pdf" not in _text(replies), _text(replies)  # not kept: the form had ended
    draft = await entrant.draft()
    assert draft.status == OPEN and not draft.answers.get("attachments")
    folder = settings.files_dir / "uploads" / str(user_id)
    placed = [p for p in folder.glob("*") if not p.name.startswith(".")] if folder.is_dir() else []
    assert placed == [], placed  # nothing in place that no draft names
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=settings.draft_retention_days,
                                   files_dir=settings.files_dir)
    assert report.orphans == 0  # within the grace period a file may belong to a step still under way
    past = time.time() - 2 * 24 * 3600
    for path in folder.rglob("*") if folder.is_dir() else []:
        os.utime(path, (past, past))
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=settings.draft_retention_days,
                                   files_dir=settings.files_dir)
    assert not folder.is_dir() or list(folder.iterdir()) == []


async def test_the_purge_removes_only_old_files_no_row_names(
    engine, forms: dict[str, Form], sessionmaker, settings: Settings, clock: FixedClock, tmp_path: Path,  # noqa: F811
):
    form = forms[PRODUCT]
    entrant = Entrant(engine, form, user_id="purge-orphans")
    await entrant.to_form()
    kept = tmp_path / "手册.pdf"
    kept.write_bytes(b"%PDF-1.4 kept")
    await entrant.send(FileIn(file_name=kept.name, mime_type="application/pdf", size=None, path=kept))
    [named] = [a["file_id"] for a in (await entrant.draft()).answers["attachments"]]
    folder = (settings.files_dir / named).parent
    old_orphan, new_orphan = folder / "0123456789ab-旧.pdf", folder / "ba9876543210-新.pdf"
    old_orphan.write_bytes(b"left by a step that rolled back")
    new_orphan.write_bytes(b"a step under way")
    # The process stopped between committing a draft and moving its upload into place: the purge finishes it.
    unplaced = tmp_path / "证书.pdf"
    unplaced.write_bytes(b"%PDF-1.4 committed, never placed")
    await entrant.send(FileIn(file_name=unplaced.name, mime_type="application/pdf", size=None, path=unplaced))
    [_, second] = [a["file_id"] for a in (await entrant.draft()).answers["attachments"]]
    second_path = settings.files_dir / second
    second_path.rename(second_path.with_name(STAGED_PREFIX + second_path.name))
    stray = settings.files_dir / "uploads" / "999" / "aaaaaaaaaaaa-x.pdf"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"no user, no row")
    past = time.time() - 2 * 24 * 3600
    for path in (settings.files_dir / named, old_orphan, stray):
        os.utime(path, (past, past))
    dry = await purge_abandoned(sessionmaker, now=clock.now(), days=settings.draft_retention_days,
                                files_dir=settings.files_dir, dry_run=True)
    assert dry.orphans == 2 and old_orphan.exists()
    report = await purge_abandoned(sessionmaker, now=clock.now(), days=settings.draft_retention_days,
                                   files_dir=settings.files_dir)
    assert report.orphans == 2
    assert (settings.files_dir / named).is_file() and new_orphan.is_file()
    assert second_path.read_bytes() == b"%PDF-1.4 committed, never placed"
    assert sorted(p.name for p in folder.iterdir()) == sorted([Path(named).name, new_orphan.name, second_path.name])
    assert not old_orphan.exists() and not stray.exists() and not stray.parent.exists()
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Draft)) == 1

