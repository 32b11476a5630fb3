"""Scoring: a judge declares any conflict of interest, then fills the scorecard — saved as a draft as they type,
submitted when complete. The same check serves the scoring page and the imported Excel sheet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config import Localized
from console import audit
from db.base import storable
from intake import queue
from judging.models import (
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
from judging.rounds import JudgingError
from judging.scorecards import Scorecard, Scorecards

__all__ = [
    "CONCERN",
    "MAX_COMMENT",
    "NONE",
    "CardInput",
    "Checked",
    "Problem",
    "assignment_for",
    "check_card",
    "declare",
    "missing",
    "save_card",
]

log = logging.getLogger(__name__)

# A risk item is either clear or a concern, which needs a note saying what it is.
NONE, CONCERN = "none", "concern"
MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class Problem:
    """Why part of a scorecard cannot be taken: where (a dimension, a risk id, 'recommendation') and the reason."""

    where: str
    message: Localized


@dataclass(frozen=True, slots=True)
class CardInput:
    """A scorecard as typed (the page's form, a row of the sheet): every value a string, possibly empty."""

    scores: Mapping[str, str] = field(default_factory=dict)
    comments: Mapping[str, str] = field(default_factory=dict)
    risk_levels: Mapping[str, str] = field(default_factory=dict)
    risk_notes: Mapping[str, str] = field(default_factory=dict)
    recommendation: str = ""
    overall: str = ""

    def is_empty(self) -> bool:
        """Nothing typed at all (an untouched row of a sheet)."""
        values = [*self.scores.values(), *self.comments.values(), *self.risk_levels.values(),
                  *self.risk_notes.values(), self.recommendation, self.overall]
        return not any(str(v).strip() for v in values)


@dataclass(frozen=True, slots=True)
class Checked:
    """What can be stored of a CardInput, what is wrong with it, and whether it is complete."""

    scores: dict[str, int]
    comments: dict[str, str]
    risks: dict[str, dict[str, str]]
    recommendation: str | None
    overall: str
    problems: list[Problem]
    complete: bool


def _whole(text: str) -> int | None:
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def check_card(card: CardInput, *, scorecard: Scorecard, scorecards: Scorecards) -> Checked:
    """Check every value against the scorecard; a draft keeps what is valid, a submission needs it all."""
    problems: list[Problem] = []
    scores: dict[str, int] = {}
    comments: dict[str, str] = {}
    for dimension in scorecard.dimensions:
        raw = str(card.scores.get(dimension.id, "") or "").strip()
        comment = storable(str(card.comments.get(dimension.id, "") or "")).strip()
        if len(comment) > MAX_COMMENT:
            problems.append(Problem(dimension.id, Localized(zh=f"{dimension.name.zh}的评语最多 {MAX_COMMENT} 字",
                                                             en=f"The comment on {dimension.name.en} is at most {MAX_COMMENT} characters")))
        elif comment:
            comments[dimension.id] = comment
        if not raw:
            continue
        value = _whole(raw)
        if value is None or not dimension.scale.holds(value):
            problems.append(Problem(dimension.id, Localized(
                zh=f"{dimension.name.zh}：“{raw}”不在评分范围 {dimension.scale} 内（整数）",
                en=f"{dimension.name.en}: {raw!r} is not a whole number from {dimension.scale}")))
            continue
        scores[dimension.id] = value
    risks: dict[str, dict[str, str]] = {}
    for item in scorecards.risks:
        level = str(card.risk_levels.get(item.id, "") or "").strip()
        note = storable(str(card.risk_notes.get(item.id, "") or "")).strip()
        if not level:
            if note:
                risks[item.id] = {"level": "", "note": note[:MAX_COMMENT]}
            continue
        if level not in (NONE, CONCERN):
            problems.append(Problem(item.id, Localized(zh=f"{item.name.zh}：请选择“无”或“有疑虑”",
                                                        en=f"{item.name.en}: choose none or concern")))
            continue
        if level == CONCERN and not note:
            problems.append(Problem(item.id, Localized(zh=f"{item.name.zh}：有疑虑时请写明原因",
                                                        en=f"{item.name.en}: say what the concern is")))
        risks[item.id] = {"level": level, "note": note[:MAX_COMMENT]}
    recommendation = card.recommendation.strip() or None
    if recommendation is not None and scorecards.recommendation(recommendation) is None:
        known = "、".join(f"{r.name.zh}（{r.id}）" for r in scorecards.recommendations)
        problems.append(Problem("recommendation", Localized(zh=f"未知的总体推荐“{recommendation}”，可选：{known}",
                                                             en=f"Unknown recommendation {recommendation!r}")))
        recommendation = None
    overall = storable(card.overall).strip()[:MAX_COMMENT * 2]
    complete = (len(scores) == len(scorecard.dimensions) and recommendation is not None and not problems
                and all(risks.get(i.id, {}).get("level") for i in scorecards.risks))
    return Checked(scores=scores, comments=comments, risks=risks, recommendation=recommendation, overall=overall,
                   problems=problems, complete=complete)


def missing(checked: Checked, *, scorecard: Scorecard, scorecards: Scorecards) -> list[Problem]:
    """What a submission still lacks, one problem per missing part."""
    out = [Problem(d.id, Localized(zh=f"请为{d.name.zh}打分", en=f"Score {d.name.en}"))
           for d in scorecard.dimensions if d.id not in checked.scores]
    out += [Problem(i.id, Localized(zh=f"请填写风险诊断：{i.name.zh}", en=f"Answer the risk item {i.name.en}"))
            for i in scorecards.risks if not checked.risks.get(i.id, {}).get("level")]
    if checked.recommendation is None:
        out.append(Problem("recommendation", Localized(zh="请选择总体推荐", en="Choose an overall recommendation")))
    return out


async def assignment_for(session: AsyncSession, *, assignment_id: int, judge_id: int) -> tuple[Assignment, Round]:
    """The judge's own assignment in an open round; LookupError for anything else (another judge's, a closed round).

    Every judge-facing page reaches an entry only through this, so a judge never sees what is not theirs.
    """
    row = (await session.execute(
        select(Assignment, Round).join(Round, Round.id == Assignment.round_id)
        .where(Assignment.id == assignment_id, Assignment.judge_id == judge_id, Round.status == OPEN)
    )).first()
    if row is None:
        raise LookupError(assignment_id)
    return row[0], row[1]


async def declare(session: AsyncSession, assignment: Assignment, *, conflict: bool, note: str, actor: str,
                  now: datetime, address: str | None = None) -> Assignment:
    """Record the judge's declaration; a conflict takes the entry off their list and shows to the committee."""
    if assignment.conflict != UNDECLARED:
        raise JudgingError(Localized(zh="已声明过利益冲突", en="A declaration was made already"))
    note = storable(note).strip()[:MAX_COMMENT]
    if conflict and not note:
        raise JudgingError(Localized(zh="请简要说明利益冲突（例如：曾任该企业顾问）",
                                     en="Say briefly what the conflict is (e.g. former adviser to the company)"))
    assignment.conflict = CONFLICT if conflict else NO_CONFLICT
    assignment.conflict_note = note
    assignment.updated_at = now
    reference = await _reference(session, assignment)
    await audit.record(session, actor=actor, action="judging.conflict" if conflict else "judging.no_conflict",
                       target=reference, note=note, now=now, address=address,
                       after={"round": assignment.round_id, "judge": assignment.judge_name})
    await session.flush()
    return assignment


async def save_card(session: AsyncSession, assignment: Assignment, card: CardInput, *, scorecards: Scorecards,
                    award_id: str, submit: bool, actor: str, now: datetime, address: str | None = None,
                    via: str = "page") -> Checked:
    """Store what is valid of the card as a draft; with `submit`, only a complete card, which is then locked.

    Returns the check, whose problems say what was not taken (a draft keeps every valid value meanwhile).
    """
    if assignment.conflict != NO_CONFLICT:
        raise JudgingError(Localized(zh="请先声明是否存在利益冲突", en="Declare any conflict of interest first")
                           if assignment.conflict == UNDECLARED else
                           Localized(zh="已声明利益冲突，不能为这份申报打分",
                                     en="You declared a conflict; this entry cannot be scored by you"))
    if assignment.state == SUBMITTED:
        raise JudgingError(Localized(zh="评分已提交；如需修改，请联系组委会退回",
                                     en="The score is submitted; ask the committee to reopen it to change it"))
    scorecard = scorecards.for_award(award_id)
    checked = check_card(card, scorecard=scorecard, scorecards=scorecards)
    if submit and not checked.complete:
        return replace(checked, problems=checked.problems + missing(checked, scorecard=scorecard, scorecards=scorecards))
    assignment.scores = checked.scores
    assignment.comments = checked.comments
    assignment.risks = checked.risks
    assignment.recommendation = checked.recommendation
    assignment.overall = checked.overall
    assignment.updated_at = now
    if submit:
        assignment.state = SUBMITTED
        assignment.submitted_at = now
        await audit.record(session, actor=actor, action="judging.submit", target=await _reference(session, assignment),
                           now=now, address=address, note=via,
                           after={"round": assignment.round_id, "judge": assignment.judge_name,
                                  "scores": checked.scores})
    elif assignment.state == PENDING:
        assignment.state = DRAFT
    await session.flush()
    return checked


async def _reference(session: AsyncSession, assignment: Assignment) -> str:
    return await session.scalar(select(queue.Submission.reference)
                                .where(queue.Submission.id == assignment.submission_id)) or ""
