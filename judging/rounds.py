"""Rounds and assignment: the committee opens a round for an award and a stage, picks entries and judges, assigns
them (everyone to everything, or N judges per entry balanced across judges), follows progress, reminds, closes.

Every function works in the caller's session and never commits; each assignment and each change is written to the
audit log in the same transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from config import Localized
from console import audit
from console.staff import Role, Staff, get_staff
from intake import notify, queue, sealing
from judging.models import (
    CLOSED,
    CONFLICT,
    DRAFT,
    NO_CONFLICT,
    OPEN,
    PENDING,
    SUBMITTED,
    UNDECLARED,
    Assignment,
    Round,
)
from judging.scorecards import Scorecards
from knowledge.answer import TextSource

__all__ = [
    "JUDGING_ROLES",
    "EntryProgress",
    "JudgeProgress",
    "JudgingError",
    "Progress",
    "close_round",
    "answers_of",
    "get_round",
    "judges_behind",
    "list_rounds",
    "open_round",
    "plan_assignments",
    "progress",
    "reopen_score",
    "resolve_judges",
]

log = logging.getLogger(__name__)

# Who may sit on a round: invited experts (judge) and, for 初审 among the committee, the committee's own staff.
JUDGING_ROLES = frozenset({Role.judge, Role.reviewer, Role.admin})


class JudgingError(ValueError):
    """Something judging does not allow; `message` says why in Chinese and English."""

    def __init__(self, message: Localized) -> None:
        self.message = message
        super().__init__(f"{message.zh} / {message.en}")


def _error(zh: str, en: str) -> JudgingError:
    return JudgingError(Localized(zh=zh, en=en))


async def get_round(session: AsyncSession, round_id: int) -> Round | None:
    """The round with this id, or None."""
    return await session.get(Round, round_id)


async def list_rounds(session: AsyncSession) -> list[Round]:
    """Every round, newest first."""
    return list((await session.scalars(select(Round).order_by(Round.id.desc()))).all())


async def resolve_judges(session: AsyncSession, names: Sequence[str]) -> list[Staff]:
    """The accounts of these names, in order; JudgingError names any unknown or not allowed to judge."""
    judges: list[Staff] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        staff = await get_staff(session, name)
        if staff is None:
            raise _error(f"没有账号 {name}", f"There is no account {name}")
        if staff.role not in JUDGING_ROLES:
            raise _error(f"账号 {name}（{staff.role}）不能担任评委", f"The account {name} ({staff.role}) cannot judge")
        judges.append(staff)
    if not judges:
        raise _error("请至少选择一位评委", "Choose at least one judge")
    return judges


def plan_assignments(entries: Sequence[int], judges: Sequence[int], per_entry: int | None) -> list[tuple[int, int]]:
    """(entry, judge) pairs: every judge on every entry, or `per_entry` judges each, the load kept even.

    Each entry takes the judges with the fewest entries so far (ties: the one whose turn it is in rotation), so
    loads differ by at most one and no two entries in a row get the same panel when that can be avoided.
    """
    if per_entry is None:
        return [(e, j) for e in entries for j in judges]
    load = Counter(dict.fromkeys(judges, 0))
    order = {j: n for n, j in enumerate(judges)}
    pairs: list[tuple[int, int]] = []
    for n, entry in enumerate(entries):
        turn = n * per_entry
        chosen = sorted(judges, key=lambda j: (load[j], (order[j] - turn) % len(judges)))[:per_entry]
        for judge in chosen:
            load[judge] += 1
            pairs.append((entry, judge))
    return pairs


async def open_round(
    session: AsyncSession, *, scorecards: Scorecards, texts: TextSource, award_id: str, stage_id: str,
    judges: Sequence[Staff], per_entry: int | None = None, blind: bool = False, actor: str, now: datetime,
    address: str | None = None,
) -> Round:
    """Open a round on the award's entries in the stage's statuses, move them into review, assign the judges.

    Entrants whose entry moves into review (初审中, 终审中) are told, as for any status change.
    """
    try:
        stage = scorecards.stage(stage_id)
    except KeyError:
        known = ", ".join(s.id for s in scorecards.stages)
        raise _error(f"未知评审阶段“{stage_id}”，可选：{known}", f"Unknown stage {stage_id!r}; known: {known}") from None
    try:
        award = scorecards.campaign.award(award_id)
    except KeyError:
        raise _error(f"未知奖项“{award_id}”", f"Unknown award {award_id!r}") from None
    if not judges:
        raise _error("请至少选择一位评委", "Choose at least one judge")
    if per_entry is not None and not 1 <= per_entry <= len(judges):
        raise _error(f"每份申报的评委人数须在 1 到 {len(judges)} 之间",
                     f"Judges per entry must be between 1 and {len(judges)}")
    running = await session.scalar(select(Round.id).where(Round.award_id == award_id, Round.stage == stage.id,
                                                          Round.status == OPEN))
    if running is not None:
        raise _error(f"{award.name.zh}的{stage.name.zh}已有进行中的评审轮次（#{running}）",
                     f"{award.name.en} already has an open {stage.name.en} round (#{running})")
    entries = list((await session.scalars(
        # Only the served edition's entries: last year's records of the same award are not judged again.
        select(queue.Submission).where(queue.Submission.edition == scorecards.campaign.edition,
                                       queue.Submission.award_id == award_id,
                                       queue.Submission.status.in_(stage.entries_from))
        .order_by(queue.Submission.id)
    )).all())
    if not entries:
        statuses = "、".join(queue.status_label(s).zh for s in stage.entries_from)
        raise _error(f"{award.name.zh}没有处于{statuses}状态的申报", f"{award.name.en} has no entries ready for {stage.name.en}")
    round_ = Round(award_id=award_id, stage=stage.id, blind=blind, status=OPEN, per_entry=per_entry,
                   opened_by=actor, opened_at=now)
    session.add(round_)
    await session.flush()
    await audit.record(session, actor=actor, action="judging.open", target=f"round:{round_.id}", now=now,
                       address=address, after={"award": award_id, "stage": stage.id, "blind": blind,
                                               "entries": len(entries), "judges": len(judges),
                                               "per_entry": per_entry or "all"})
    for record in entries:
        if record.status != stage.during:
            await queue.change_status(session, reference=record.reference, to_status=stage.during,
                                      actor=f"staff:{actor}", now=now)
            await notify.notify_status(session, submission=record, note="", texts=texts)
    by_id = {j.id: j for j in judges}
    references = {r.id: r.reference for r in entries}
    for entry_id, judge_id in plan_assignments([r.id for r in entries], [j.id for j in judges], per_entry):
        judge = by_id[judge_id]
        session.add(Assignment(round_id=round_.id, submission_id=entry_id, judge_id=judge.id, judge_name=judge.name,
                               conflict=UNDECLARED, state=PENDING, scores={}, comments={}, risks={},
                               updated_at=now, version=1))
        await audit.record(session, actor=actor, action="judging.assign", target=references[entry_id],
                           note=judge.name, now=now, address=address, after={"round": round_.id})
    await session.flush()
    log.info("round %s opened on %s (%s): %d entries, %d judges", round_.id, award_id, stage.id, len(entries),
             len(judges))
    return round_


async def close_round(session: AsyncSession, round_: Round, *, actor: str, now: datetime,
                      address: str | None = None) -> Round:
    """Stop scoring: drafts stay drafts (left out of the results), and the committee can rank and decide."""
    if round_.status != OPEN:
        raise _error(f"评审轮次 #{round_.id} 已关闭", f"Round #{round_.id} is closed already")
    round_.status = CLOSED
    round_.closed_at = now
    await audit.record(session, actor=actor, action="judging.close", target=f"round:{round_.id}", now=now,
                       address=address, before={"status": OPEN}, after={"status": CLOSED})
    await session.flush()
    return round_


async def reopen_score(session: AsyncSession, assignment: Assignment, *, actor: str, now: datetime,
                       note: str = "", address: str | None = None) -> Assignment:
    """Give a submitted scorecard back to its judge as a draft (committee only); the round must be open."""
    round_ = await session.get(Round, assignment.round_id)
    if round_ is None or round_.status != OPEN:
        raise _error("评审轮次已关闭，不能退回评分", "The round is closed; a score cannot be reopened")
    if assignment.state != SUBMITTED:
        raise _error("这份评分尚未提交", "This scorecard has not been submitted")
    assignment.state = DRAFT
    assignment.submitted_at = None
    assignment.updated_at = now
    reference = await session.scalar(select(queue.Submission.reference)
                                     .where(queue.Submission.id == assignment.submission_id))
    await audit.record(session, actor=actor, action="judging.reopen", target=reference or "", note=note, now=now,
                       address=address, after={"round": round_.id, "judge": assignment.judge_name})
    await session.flush()
    return assignment


async def answers_of(session: AsyncSession, round_: Round, keys: Collection[str]) -> list[
        tuple[int, str, str, dict[str, Any]]]:
    """The round's entries in the order they arrived: (id, reference, entrant, {key: answer}) for these answer keys
    only.

    The database hands over just those answers (a JSON path per key, on SQLite and PostgreSQL alike), not the
    whole snapshot: the comparison of a round of a thousand entries would otherwise parse every long answer and
    open every sealed identity number and phone of every entry on every view. A key whose answer is sealed is
    opened all the same.
    """
    ordered = sorted(set(keys))
    raw = type_coerce(queue.Submission.answers, JSON)  # the stored JSON as it is: nothing opened wholesale
    entries = select(Assignment.submission_id).where(Assignment.round_id == round_.id).distinct()
    rows = (await session.execute(
        select(queue.Submission.id, queue.Submission.reference, queue.Submission.entrant_name,
               *(raw[key].label(f"k{n}") for n, key in enumerate(ordered)))
        .where(queue.Submission.id.in_(entries)).order_by(queue.Submission.id)
    )).all()
    sealer = sealing.installed()
    return [(row[0], row[1], row[2], sealer.open({key: row[3 + n] for n, key in enumerate(ordered)}))
            for row in rows]


@dataclass(frozen=True, slots=True)
class JudgeProgress:
    """One judge's progress in a round."""

    name: str
    judge_id: int | None
    assigned: int
    undeclared: int
    conflicts: int
    drafts: int
    submitted: int

    @property
    def to_score(self) -> int:
        """Entries the judge still has to submit (conflicts are off their list)."""
        return self.assigned - self.conflicts - self.submitted

    @property
    def behind(self) -> bool:
        """Whether the judge has anything left to do."""
        return self.to_score > 0


@dataclass(frozen=True, slots=True)
class EntryProgress:
    """One entry's progress in a round."""

    submission_id: int
    reference: str
    entrant: str
    judges: int
    conflicts: int
    submitted: int
    conflict_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    """Per judge and per entry."""

    judges: list[JudgeProgress]
    entries: list[EntryProgress]

    @property
    def submitted(self) -> int:
        """Scorecards submitted in the round."""
        return sum(j.submitted for j in self.judges)

    @property
    def expected(self) -> int:
        """Scorecards the round expects (conflicts excepted)."""
        return sum(j.assigned - j.conflicts for j in self.judges)


async def progress(session: AsyncSession, round_: Round) -> Progress:
    """Who has scored what: counts per judge and per entry, and which judges declared a conflict on which entry."""
    rows = (await session.execute(
        select(Assignment.judge_name, Assignment.judge_id, Assignment.submission_id, Assignment.conflict,
               Assignment.state).where(Assignment.round_id == round_.id)
    )).all()
    per_judge: dict[str, Counter[str]] = {}
    judge_ids: dict[str, int | None] = {}
    per_entry: dict[int, Counter[str]] = {}
    conflict_names: dict[int, list[str]] = {}
    for name, judge_id, entry, conflict, state in rows:
        counts = per_judge.setdefault(name, Counter())
        judge_ids[name] = judge_id
        entry_counts = per_entry.setdefault(entry, Counter())
        counts["assigned"] += 1
        entry_counts["judges"] += 1
        if conflict == CONFLICT:
            counts["conflicts"] += 1
            entry_counts["conflicts"] += 1
            conflict_names.setdefault(entry, []).append(name)
            continue
        if conflict == UNDECLARED:
            counts["undeclared"] += 1
        if state == SUBMITTED:
            counts["submitted"] += 1
            entry_counts["submitted"] += 1
        elif state == DRAFT:
            counts["drafts"] += 1
    names = {row.id: (row.reference, row.entrant_name) for row in (await session.execute(
        select(queue.Submission.id, queue.Submission.reference, queue.Submission.entrant_name)
        .where(queue.Submission.id.in_(list(per_entry)))
    )).all()} if per_entry else {}
    judges = [JudgeProgress(name=n, judge_id=judge_ids[n], assigned=c["assigned"], undeclared=c["undeclared"],
                            conflicts=c["conflicts"], drafts=c["drafts"], submitted=c["submitted"])
              for n, c in sorted(per_judge.items())]
    entries = []
    for entry, c in sorted(per_entry.items()):
        reference, entrant = names.get(entry, ("", ""))
        entries.append(EntryProgress(submission_id=entry, reference=reference, entrant=entrant, judges=c["judges"],
                                     conflicts=c["conflicts"], submitted=c["submitted"],
                                     conflict_names=tuple(conflict_names.get(entry, ()))))
    return Progress(judges=judges, entries=entries)


async def judges_behind(session: AsyncSession, round_: Round) -> list[tuple[JudgeProgress, Staff | None]]:
    """The judges of an open round with entries left to score, with their accounts (None: account removed)."""
    behind = []
    for judge in (await progress(session, round_)).judges:
        if judge.behind:
            staff = await session.get(Staff, judge.judge_id) if judge.judge_id is not None else None
            behind.append((judge, staff))
    return behind


# Re-exported for the pages and the CLI, which show these states.
STATES = (PENDING, DRAFT, SUBMITTED)
DECLARATIONS = (UNDECLARED, NO_CONFLICT, CONFLICT)
