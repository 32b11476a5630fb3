"""The committee's queue: complete entries as numbered records with a snapshot, and their review history.

Every function works in the caller's session and never commits: a submission and its first history entry, or a
status change and its history entry, are written together when the caller commits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from config import Campaign, Localized
from db.base import Base, UTCDateTime, storable, utcnow
from db.upsert import upsert
from intake.complete import Problem, completeness
from intake.drafts import OPEN, SUBMITTED, Draft
from intake.files import StoredFile, mime_type_of
from intake.forms import Form
from intake.sealing import SealedAnswers

__all__ = [
    "CREATED",
    "FOUND",
    "INITIAL_STATUS",
    "NEEDS_MORE",
    "RESUBMITTED",
    "STATUSES",
    "TRANSITIONS",
    "IncompleteEntry",
    "Queued",
    "ReferenceCounter",
    "Status",
    "StatusChange",
    "StatusError",
    "Submission",
    "SubmissionNotFound",
    "awaits_more",
    "change_status",
    "get_submission",
    "history_of",
    "list_submissions",
    "make_reference",
    "next_number",
    "next_statuses",
    "set_form_file",
    "status_label",
    "submission_of_draft",
    "submissions_of",
    "submit",
]

log = logging.getLogger(__name__)

FILE_LIST_TYPE = "file_list"


@dataclass(frozen=True, slots=True)
class Status:
    """A review status: a stable ASCII id (stored, exported) and what people read."""

    id: str
    label: Localized
    final: bool = False


# The guideline's two stages: 初审 (pass, not selected, or more materials), then 终审 (入围 or 未入围).
STATUSES: Mapping[str, Status] = {
    s.id: s
    for s in (
        Status("submitted", Localized(zh="已提交", en="Submitted")),
        Status("first_review", Localized(zh="初审中", en="In first review")),
        Status("needs_more", Localized(zh="需补充材料", en="More materials needed")),
        Status("passed_first", Localized(zh="初审通过", en="Passed first review")),
        Status("rejected", Localized(zh="未通过", en="Not passed"), final=True),
        Status("final_review", Localized(zh="终审中", en="In final review")),
        Status("finalist", Localized(zh="入围", en="Finalist"), final=True),
        Status("not_selected", Localized(zh="未入围", en="Not selected"), final=True),
    )
}
INITIAL_STATUS = "submitted"
# 需补充材料: the entrant's draft is reopened; their resubmission brings the record back into 初审.
NEEDS_MORE = "needs_more"
RESUBMITTED_STATUS = "first_review"
# Staff may decide straight from "submitted" in 初审; materials asked for go back into 初审 once they arrive.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    "submitted": frozenset({"first_review", "needs_more", "passed_first", "rejected"}),
    "first_review": frozenset({"needs_more", "passed_first", "rejected"}),
    "needs_more": frozenset({"first_review", "passed_first", "rejected"}),
    "passed_first": frozenset({"final_review", "finalist", "not_selected"}),
    "final_review": frozenset({"finalist", "not_selected"}),
    "rejected": frozenset(),
    "finalist": frozenset(),
    "not_selected": frozenset(),
}


class Submission(Base):
    """A complete entry handed to the committee."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # NULL only between the insert and the flush that numbers the record from its id, inside submit().
    reference: Mapped[str] = mapped_column(String(32), unique=True, nullable=True)
    draft_key: Mapped[str] = mapped_column(String(64), unique=True)
    # A string reference: the queue belongs below the bot package and does not import its User model.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    # The edition it was entered in: its award, form and numbering are that year's.
    edition: Mapped[int] = mapped_column(Integer, index=True)
    award_id: Mapped[str] = mapped_column(String(40), index=True)
    entrant_name: Mapped[str] = mapped_column(String(256))
    subject: Mapped[str] = mapped_column(String(512))
    # The snapshot; identity numbers and phones are encrypted in the row and plain here (intake.sealing).
    answers: Mapped[dict[str, Any]] = mapped_column(SealedAnswers)
    form_file: Mapped[str | None] = mapped_column(String(512), default=None)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(32), default=INITIAL_STATUS, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Two staff members changing the same record at once: the second flush fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    @property
    def stored_attachments(self) -> list[StoredFile]:
        """The attachments as StoredFile objects."""
        return [StoredFile.from_dict(a) for a in self.attachments]

    def __repr__(self) -> str:
        return f"Submission(reference={self.reference!r}, award_id={self.award_id!r}, status={self.status!r})"


class StatusChange(Base):
    """One step of a record's history; the first has no from_status (the entrant submitted it)."""

    __tablename__ = "submission_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"StatusChange({self.from_status!r} -> {self.to_status!r} by {self.actor!r})"


class ReferenceCounter(Base):
    """The last record number given in an edition: references count from 1 each year (KCXF-2025-00001)."""

    __tablename__ = "reference_counters"

    edition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


async def next_number(session: AsyncSession, *, edition: int) -> int:
    """Take the next record number of an edition, in the caller's transaction."""
    # One upsert (INSERT … ON CONFLICT DO UPDATE SET last_number = last_number + 1 RETURNING) is atomic on SQLite
    # and PostgreSQL: two entries queued at once never get one number, and the edition's first creates the row.
    stmt = upsert(session, ReferenceCounter, {"edition": edition, "last_number": 1}, key=["edition"],
                  set_={"last_number": ReferenceCounter.last_number + 1}).returning(ReferenceCounter.last_number)
    return int((await session.execute(stmt)).scalar_one())


CREATED, RESUBMITTED, FOUND = "created", "resubmitted", "found"
Outcome = Literal["created", "resubmitted", "found"]


@dataclass(frozen=True, slots=True)
class Queued:
    """What submit() did: queued a new record, took more materials into one (resubmitted), or only found one."""

    record: Submission
    outcome: Outcome


class IncompleteEntry(ValueError):
    """The entry is not complete; `problems` says what is missing or wrong, in form order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problems: " + ", ".join(p.field_id for p in self.problems[:10]))


class StatusError(ValueError):
    """A status change the review process does not allow; `message` says why in Chinese and English."""

    def __init__(self, message: Localized) -> None:
        self.message = message
        super().__init__(f"{message.zh} / {message.en}")


class SubmissionNotFound(LookupError):
    """No record has this reference."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.message = Localized(zh=f"没有编号为 {reference} 的申报", en=f"There is no entry {reference}")
        super().__init__(f"no submission {reference!r}")


def make_reference(edition: int, number: int) -> str:
    """The reference of a record, e.g. KCXF-2024-00017."""
    return f"KCXF-{edition}-{number:05d}"


def status_label(status: str) -> Localized:
    """What people read for a status id; an unknown id (from a later edition, say) is shown as it is."""
    known = STATUSES.get(status)
    return known.label if known else Localized(zh=status, en=status)


def next_statuses(status: str) -> tuple[Status, ...]:
    """The statuses a record in `status` may move to, in review order."""
    allowed = TRANSITIONS.get(status, frozenset())
    return tuple(s for s in STATUSES.values() if s.id in allowed)


async def submit(
    session: AsyncSession,
    *,
    draft_key: str,
    user_id: int,
    form: Form,
    answers: Mapping[str, Any],
    campaign: Campaign,
    now: datetime,
    attachments: Sequence[StoredFile] | None = None,
) -> Queued:
    """Queue a complete entry (IncompleteEntry if it is not); the same draft_key always yields the same record.

    A record waiting for more materials (needs_more) takes the new answers and goes back into first review
    (RESUBMITTED); any other record of the draft is returned as it is (FOUND): nothing was handed over, so the
    caller renders and tells nothing.
    """
    existing = await _by_draft_key(session, draft_key)
    if existing is not None and existing.status != NEEDS_MORE:
        return Queued(existing, FOUND)
    problems = completeness(form, answers, today=now.date())
    if problems:
        raise IncompleteEntry(problems)
    # Only what the form shows for these answers reaches the committee (and its exports and 申报表). A JSON round
    # trip both detaches the snapshot from the caller's dict and proves it can be stored.
    snapshot: dict[str, Any] = json.loads(json.dumps(form.visible_answers(answers), ensure_ascii=False))
    # 参选者名称, the name the guideline puts in the mail subject: the answer to the award's own subject field.
    entrant = form.entrant_name(snapshot) or ""
    files = list(attachments) if attachments is not None else _attachments_in(form, snapshot)
    if existing is not None:
        return Queued(await _resubmit(session, existing, snapshot=snapshot, entrant=entrant, files=files,
                                      subject=campaign.subject(form.award_id, entrant), user_id=user_id, now=now),
                      RESUBMITTED)
    values = {
        "draft_key": draft_key,
        "user_id": user_id,
        "edition": campaign.edition,
        "award_id": form.award_id,
        "entrant_name": entrant,
        "subject": campaign.subject(form.award_id, entrant),
        "answers": snapshot,
        "attachments": [f.as_dict() for f in files],
        "status": INITIAL_STATUS,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    # Another session may queue the same draft between the look-up above and this insert: the database keeps
    # one row and this insert does nothing (no savepoint needed, which pysqlite's transactions get wrong).
    inserted = await session.scalar(upsert(session, Submission, values, key=["draft_key"]).returning(Submission.id))
    record = await _by_draft_key(session, draft_key)
    if record is None:
        raise RuntimeError(f"submission of draft {draft_key!r} vanished after insert")
    if inserted is None:
        log.info("draft %s was submitted concurrently; returning %s", draft_key, record.reference)
        return Queued(record, FOUND)
    record.reference = make_reference(campaign.edition, await next_number(session, edition=campaign.edition))
    session.add(
        StatusChange(
            submission_id=record.id,
            from_status=None,
            to_status=INITIAL_STATUS,
            note="",
            actor=f"user:{user_id}",
            created_at=now,
        )
    )
    await session.flush()
    log.info("queued %s (%s) for user %s", record.reference, record.award_id, user_id)
    return Queued(record, CREATED)


async def _resubmit(
    session: AsyncSession, record: Submission, *, snapshot: dict[str, Any], entrant: str,
    files: Sequence[StoredFile], subject: str, user_id: int, now: datetime,
) -> Submission:
    session.add(StatusChange(submission_id=record.id, from_status=record.status, to_status=RESUBMITTED_STATUS,
                             note="", actor=f"user:{user_id}", created_at=now))
    record.answers = snapshot
    record.entrant_name = entrant
    record.subject = subject
    record.attachments = [f.as_dict() for f in files]
    record.status = RESUBMITTED_STATUS
    record.updated_at = now
    record.mailed_at = None  # the committee's mailbox gets the completed entry again
    await session.flush()
    log.info("%s resubmitted with more materials by user %s", record.reference, user_id)
    return record


async def set_form_file(session: AsyncSession, submission: Submission, path: str) -> None:
    """Record where the rendered 申报表 is, relative to the files folder."""
    submission.form_file = str(path)
    await session.flush()


async def change_status(
    session: AsyncSession, *, reference: str, to_status: str, note: str = "", actor: str, now: datetime
) -> Submission:
    """Move a record to another status and record it; StatusError for a move the process does not allow.

    Moving to needs_more reopens the entrant's draft, so that they can add what is missing and submit again;
    moving on from needs_more (the committee decided without the materials) closes it again.
    """
    record = await get_submission(session, reference)
    if record is None:
        raise SubmissionNotFound(reference)
    if to_status not in STATUSES:
        known = ", ".join(STATUSES)
        raise StatusError(
            Localized(zh=f"未知状态“{to_status}”，可选：{known}", en=f"Unknown status {to_status!r}; known: {known}")
        )
    allowed = next_statuses(record.status)
    if to_status not in {s.id for s in allowed}:
        raise StatusError(_not_allowed(record, to_status, allowed))
    session.add(
        StatusChange(
            submission_id=record.id,
            from_status=record.status,
            to_status=to_status,
            note=storable(note).strip(),
            actor=actor,
            created_at=now,
        )
    )
    from_status = record.status
    record.status = to_status
    record.updated_at = now
    if to_status == NEEDS_MORE:
        await _reopen_draft(session, record, now=now)
    elif from_status == NEEDS_MORE:
        await _close_draft(session, record)
    await session.flush()
    log.info("%s: %s by %s", record.reference, to_status, actor)
    return record


async def _reopen_draft(session: AsyncSession, record: Submission, *, now: datetime) -> None:
    draft = await session.scalar(select(Draft).where(Draft.key == record.draft_key))
    if draft is None:  # a record queued without a chat draft (an import, say): nothing to reopen
        log.info("%s needs more materials but has no draft to reopen", record.reference)
        return
    draft.status = OPEN
    draft.touch(now)  # the retention period starts again from the committee's request
    if not draft.answers:
        # The entrant erased their copy (/delete); the committee's snapshot is what they are asked to complete.
        draft.set_answers(record.answers)
        groups = [key for key, value in record.answers.items() if isinstance(value, list)]
        draft.set_progress({"history": [], "closed": groups})
    # Back at the summary: the entrant edits what is missing, then confirms and declares again.
    draft.set_progress({**draft.progress, "declaring": False})


async def _close_draft(session: AsyncSession, record: Submission) -> None:
    draft = await session.scalar(select(Draft).where(Draft.key == record.draft_key))
    if draft is None or draft.status != OPEN:
        return
    # Submitted again, the draft would re-render the committee's 申报表 from answers its record never took.
    # Its version moves too, so an entrant's step on it that is under way conflicts and finds it closed.
    draft.status = SUBMITTED
    if draft.answers:  # the entrant's copy is what the committee holds again (empty: they erased it, /delete)
        draft.set_answers(record.answers)
    draft.set_progress({**draft.progress, "declaring": False})
    log.info("%s left needs_more; draft %s closed", record.reference, draft.id)


async def awaits_more(session: AsyncSession, draft_key: str) -> bool:
    """Whether the draft's record is waiting for more materials (its draft is open again for them)."""
    record = await _by_draft_key(session, draft_key)
    return record is not None and record.status == NEEDS_MORE


async def submission_of_draft(session: AsyncSession, draft_key: str) -> Submission | None:
    """The record a draft was submitted as, if any."""
    return await _by_draft_key(session, draft_key)


async def get_submission(session: AsyncSession, reference: str) -> Submission | None:
    """The record with this reference (case and surrounding spaces ignored), or None."""
    return await session.scalar(select(Submission).where(Submission.reference == reference.strip().upper()))


async def list_submissions(
    session: AsyncSession, *, status: str | None = None, award_id: str | None = None
) -> list[Submission]:
    """Records in the order they arrived, optionally of one status and/or award."""
    query = select(Submission).order_by(Submission.id)
    if status is not None:
        query = query.where(Submission.status == status)
    if award_id is not None:
        query = query.where(Submission.award_id == award_id)
    return list((await session.scalars(query)).all())


async def submissions_of(session: AsyncSession, user_id: int) -> list[Submission]:
    """A user's records, newest first."""
    query = select(Submission).where(Submission.user_id == user_id).order_by(Submission.id.desc())
    return list((await session.scalars(query)).all())


async def history_of(session: AsyncSession, submission: Submission) -> list[StatusChange]:
    """A record's status changes, oldest first."""
    query = (
        select(StatusChange)
        .where(StatusChange.submission_id == submission.id)
        .order_by(StatusChange.created_at, StatusChange.id)
    )
    return list((await session.scalars(query)).all())


async def _by_draft_key(session: AsyncSession, draft_key: str) -> Submission | None:
    return await session.scalar(select(Submission).where(Submission.draft_key == draft_key))


def _attachments_in(form: Form, answers: Mapping[str, Any]) -> list[StoredFile]:
    """The stored files listed in the answers' file fields (entries the bot did not store are left out)."""
    files: list[StoredFile] = []
    for slot in form.fields():
        if slot.field.type != FILE_LIST_TYPE or slot.group is not None:
            continue
        for item in answers.get(slot.field.id) or []:
            stored = _stored(item)
            if stored is None:
                log.info("attachment %r of field %s has no stored file; not queued", item, slot.field.id)
            else:
                files.append(stored)
    return files


def _stored(item: Any) -> StoredFile | None:
    if not isinstance(item, Mapping):
        return None
    # The chat flow may keep the stored path under file_id, where Telegram's own id would otherwise be.
    path = item.get("path") or item.get("file_id")
    if not isinstance(path, str) or not path.startswith("uploads/") or not item.get("sha256"):
        return None
    name = str(item.get("name") or path.rsplit("/", 1)[-1])
    return StoredFile(
        name=name,
        path=path,
        size=int(item.get("size") or 0),
        sha256=str(item["sha256"]),
        mime_type=str(item.get("mime_type") or mime_type_of(name)),
    )


def _not_allowed(record: Submission, to_status: str, allowed: Sequence[Status]) -> Localized:
    current, target = status_label(record.status), status_label(to_status)
    if not allowed:
        return Localized(
            zh=f"{record.reference} 已是最终状态“{current.zh}”，不能再改为“{target.zh}”",
            en=f"{record.reference} is final ({current.en}); it cannot become {target.en}",
        )
    return Localized(
        zh=f"{record.reference} 当前为“{current.zh}”，不能改为“{target.zh}”；可改为："
        + "、".join(f"{s.label.zh}（{s.id}）" for s in allowed),
        en=f"{record.reference} is {current.en}; it cannot become {target.en}. Allowed: "
        + ", ".join(f"{s.label.en} ({s.id})" for s in allowed),
    )
