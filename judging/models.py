"""The judging tables: rounds, the assignment of a judge to an entry (with the judge's scorecard), decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime, utcnow

__all__ = [
    "CLOSED",
    "CONFLICT",
    "DECIDED",
    "DRAFT",
    "NO_CONFLICT",
    "OPEN",
    "PENDING",
    "PROPOSED",
    "SUBMITTED",
    "UNDECLARED",
    "Assignment",
    "Decision",
    "Round",
]

# A round's life: judges score while it is open; the committee ranks and decides once it is closed. Where the
# stage asks for the jury chair's sign-off (初审), the committee's decisions wait as proposed until the chair signs.
OPEN, CLOSED, PROPOSED, DECIDED = "open", "closed", "proposed", "decided"
# A judge's scorecard for one entry.
PENDING, DRAFT, SUBMITTED = "pending", "draft", "submitted"
# What the judge declared about a conflict of interest before scoring.
UNDECLARED, NO_CONFLICT, CONFLICT = "undeclared", "none", "conflict"


class Round(Base):
    """A round of judging: one award, one stage (初审 or 终审), its entries and judges."""

    __tablename__ = "judging_rounds"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    award_id: Mapped[str] = mapped_column(String(40), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    # N judges per entry; None: every judge scores every entry.
    per_entry: Mapped[int | None] = mapped_column(Integer, default=None)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The committee member who proposed the decisions, and the jury chair who signed them off (stages with sign-off).
    proposed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    signed_off_by: Mapped[str | None] = mapped_column(String(64), default=None)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    def __repr__(self) -> str:
        return f"Round(id={self.id}, award_id={self.award_id!r}, stage={self.stage!r}, status={self.status!r})"


class Assignment(Base):
    """One judge on one entry in one round, and that judge's scorecard for it (draft or submitted)."""

    __tablename__ = "judging_assignments"
    __table_args__ = (
        UniqueConstraint("round_id", "submission_id", "judge_name"),
        Index("ix_judging_assignments_judge", "judge_id", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("judging_rounds.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    # A removed account leaves its scores in the results under its name (as the audit log keeps names).
    judge_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    judge_name: Mapped[str] = mapped_column(String(64))
    conflict: Mapped[str] = mapped_column(String(16), default=UNDECLARED)
    conflict_note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    # {dimension id: whole-number score}, {dimension id: comment}, {risk id: {"level": "none"|"concern", "note"}}
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    risks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str | None] = mapped_column(String(40), default=None)
    overall: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The draft saved as the judge types and a committee reopening at the same moment: the second write fails.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declarative hook

    def __repr__(self) -> str:
        return f"Assignment(round={self.round_id}, submission={self.submission_id}, judge={self.judge_name!r})"


class Decision(Base):
    """The committee's decision on one entry of a round, with its place in the ranking and the reason."""

    __tablename__ = "judging_decisions"
    __table_args__ = (UniqueConstraint("round_id", "submission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("judging_rounds.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    chosen: Mapped[bool] = mapped_column(Boolean)
    to_status: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int | None] = mapped_column(Integer, default=None)
    total: Mapped[float | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
