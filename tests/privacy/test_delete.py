"""/delete and /privacy: what is erased (for good), what the committee keeps and says it keeps."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.engine import Engine
from bot.events import CommandIn, FileIn
from bot.users import User
from config import Campaign, FixedClock, Settings
from intake import queue, sealing
from intake.drafts import OPEN, SUBMITTED, WITHDRAWN, Draft
from intake.flow import PREFIX, DeleteFlow, DraftsFlow, IntakeFlow, PrivacyFlow, StatusFlow
from intake.forms import Form
from tests.intake.factories import ID_NUMBER, typed_answer
from tests.intake.test_flow import Entrant, _declare_and_submit, _text, forms  # noqa: F401 - a fixture


def engine_with_privacy(sessionmaker, kb, texts, campaign, clock, settings, forms) -> Engine:  # type: ignore[no-untyped-def]  # noqa: F811
    intake = IntakeFlow(forms)
    return Engine(sessionmaker=sessionmaker, answerer=kb, texts=texts, campaign=campaign, clock=clock,
                  settings=settings, flows=[intake, DraftsFlow(intake), StatusFlow(), PrivacyFlow(), DeleteFlow()])


async def drafts_of(engine: Engine, user_id: int) -> list[Draft]:
    async with engine.sessionmaker() as session:
        return list(await session.scalars(select(Draft).where(Draft.user_id == user_id).order_by(Draft.id)))


async def stored_user(engine: Engine, external_id: str) -> User:
    async with engine.sessionmaker() as session:
        user = await session.scalar(select(User).where(User.external_id == external_id))
        assert user is not None
        return user


async def test_delete_erases_the_entrants_copies_and_display_name_for_good_and_the_record_stays(
    sessionmaker, kb, texts, campaign: Campaign, clock: FixedClock, settings: Settings,
    forms: dict[str, Form],  # noqa: F811
    tmp_path: Path,
):
    engine = engine_with_privacy(sessionmaker, kb, texts, campaign, clock, settings, forms)
    form = forms["pioneer_person"]
    entrant = Entrant(engine, form, user_id="erase")
    await entrant.to_form()
    await entrant.fill()
    await _declare_and_submit(entrant)
    # A second application in progress, with an attachment.
    await entrant.to_form()
    first = (await entrant.state())[2]["position"]
    pdf = tmp_path / "简历.pdf"
    pdf.write_bytes(b"%PDF-1.4 cv")
    await entrant.send(FileIn(file_name="简历.pdf", mime_type="application/pdf", size=11, path=pdf))
    await entrant.say(typed_answer(form, form.field(first), typed={}, long_text=None))
    user = await stored_user(engine, "erase")
    assert user.display_name == "小王 🚀" and user.erased_at is None
    submitted, open_draft = await drafts_of(engine, user.id)
    [upload] = [a["file_id"] for a in open_draft.answers["attachments"]]
    assert (settings.files_dir / upload).is_file()

    await entrant.send(CommandIn("delete"))
    done = _text(await entrant.press("delete:confirm"))
    assert "1 份草稿" in done and "不再保存" in done
    assert sealing.installed().remembered == 0  # nor do the plain values the bot remembered from opening them

    submitted, open_draft = await drafts_of(engine, user.id)
    assert open_draft.status == WITHDRAWN and open_draft.answers == {} and open_draft.progress == {}
    assert submitted.status == SUBMITTED and submitted.answers == {}  # the entrant's own copy
    assert not (settings.files_dir / upload).exists()
    async with sessionmaker() as session:
        record = await session.scalar(select(queue.Submission))
        assert record is not None and record.answers["id_number"] == ID_NUMBER  # the committee's copy
    user = await stored_user(engine, "erase")
    assert user.display_name == "" and user.erased_at == clock.now()
    # The next messages still carry the display name; it is not stored again.
    await entrant.send(CommandIn("start"))
    await entrant.send(CommandIn("status"))
    assert (await stored_user(engine, "erase")).display_name == ""

    notice = _text(await entrant.send(CommandIn("privacy")))
    assert texts.t("privacy.submitted", "zh", mailbox=campaign.committee.mailbox) in notice
    assert f"超过 {settings.draft_retention_days} 天" in notice and "加密" in notice

    # The committee asks for more materials: the draft comes back filled from the committee's snapshot.
    async with sessionmaker() as session, session.begin():
        await queue.change_status(session, reference=record.reference, to_status=queue.NEEDS_MORE,
                                  note="请补充身份证明", actor="staff:li", now=clock.now())
    submitted, _ = await drafts_of(engine, user.id)
    assert submitted.status == OPEN and submitted.answers == record.answers
    offer = await entrant.send(CommandIn("drafts"))
    [button] = [c.value for r in offer for c in getattr(r, "choices", ()) if c.value.endswith(f":{submitted.id}")]
    resumed = _text(await entrant.press(button))
    assert (await entrant.state())[1] == "summary" and ID_NUMBER in resumed


async def test_delete_in_english_and_nothing_kept_when_nothing_was_submitted(
    sessionmaker, kb, texts, campaign: Campaign, clock: FixedClock, settings: Settings,
    forms: dict[str, Form],  # noqa: F811
):
    engine = engine_with_privacy(sessionmaker, kb, texts, campaign, clock, settings, forms)
    entrant = Entrant(engine, forms["pioneer_product"], user_id="erase-en")
    await entrant.send(CommandIn("lang", "en"))
    await entrant.send(CommandIn("apply"))
    await entrant.press(f"{PREFIX}group:product")
    await entrant.press(f"{PREFIX}yes")
    await entrant.press(f"{PREFIX}no")
    await entrant.press(f"{PREFIX}award:pioneer_product")
    await entrant.press(f"{PREFIX}agree")
    await entrant.send(CommandIn("delete"))
    replies = await entrant.press("delete:confirm")
    assert len(replies) == 1 and "will not be stored again" in _text(replies)
    assert "no longer exists" not in _text(await entrant.send(CommandIn("drafts")))
    assert "no drafts" in _text(await entrant.send(CommandIn("drafts")))
    notice = _text(await entrant.send(CommandIn("privacy")))
    assert "encrypted" in notice and f"{settings.draft_retention_days} days" in notice
