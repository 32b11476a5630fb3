"""Results of a round: weighted totals, per-dimension means, the spread between judges, a z-score per judge, the
ranking with ties.

A card's total is its weighted mean on a 0–100 scale (each score placed on its dimension's scale). A strict judge
and a lenient one weigh the same once each card total is turned into a z-score among that judge's own cards in
the round; an entry's normalised score is the mean of its judges' z-scores. Only submitted cards count.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake import queue
from judging.models import CONFLICT, SUBMITTED, Assignment, Decision, Round
from judging.score import CONCERN
from judging.scorecards import Scorecard, Scorecards

__all__ = ["RANK_BY", "Card", "EntryResult", "JudgeScore", "RoundResults", "card_total", "rank_entries", "results"]

RANK_BY = ("total", "normalised")
RankBy = Literal["total", "normalised"]
# Two entries whose scores agree to this many decimals share a place.
TIE_DECIMALS = 2


@dataclass(frozen=True, slots=True)
class Card:
    """A submitted scorecard, as ranking needs it."""

    entry_id: int
    judge: str
    scores: Mapping[str, int]
    risks: Mapping[str, Mapping[str, str]]
    recommendation: str | None


@dataclass(frozen=True, slots=True)
class JudgeScore:
    """One judge's total for an entry, raw and normalised."""

    judge: str
    total: float
    normalised: float


@dataclass(frozen=True, slots=True)
class EntryResult:
    """An entry's place in the round."""

    entry_id: int
    reference: str
    entrant: str
    rank: int | None
    tied: bool
    total: float | None
    normalised: float | None
    spread: float | None
    dimensions: dict[str, float]
    judges: list[JudgeScore]
    risks: dict[str, int]
    risk_notes: list[tuple[str, str, str]]
    recommendations: dict[str, int]
    conflicts: int
    decision: Decision | None = None

    def as_json(self) -> dict[str, Any]:
        """The object `kcxf judging results --format json` prints."""
        return {
            "reference": self.reference, "rank": self.rank, "tied": self.tied, "total": self.total,
            "normalised": self.normalised, "spread": self.spread, "dimensions": self.dimensions,
            "judges": [{"judge": j.judge, "total": j.total, "normalised": j.normalised} for j in self.judges],
            "risks": self.risks, "recommendations": self.recommendations,
            "decision": None if self.decision is None else {"chosen": self.decision.chosen,
                                                            "status": self.decision.to_status,
                                                            "reason": self.decision.reason},
        }


@dataclass(frozen=True, slots=True)
class RoundResults:
    """Every entry of a round in ranking order, and what the ranking is by."""

    round: Round
    scorecard: Scorecard
    by: str
    entries: list[EntryResult]


def card_total(scores: Mapping[str, int], scorecard: Scorecard) -> float:
    """A card's weighted mean on 0–100: each score placed on its dimension's scale, weighted."""
    weights = sum(d.weight for d in scorecard.dimensions)
    placed = sum(d.weight * (scores[d.id] - d.scale.min) / (d.scale.max - d.scale.min) for d in scorecard.dimensions)
    return 100 * placed / weights


def rank_entries(
    entries: Sequence[tuple[int, str, str]], cards: Sequence[Card], scorecard: Scorecard, *, by: RankBy = "total",
    conflicts: Mapping[int, int] | None = None,
) -> list[EntryResult]:
    """(entry id, reference, entrant) ranked on their cards; entries without a card come last, unranked."""
    conflicts = conflicts or {}
    totals = {(c.entry_id, c.judge): card_total(c.scores, scorecard) for c in cards}
    per_judge: dict[str, list[float]] = defaultdict(list)
    for (_, judge), total in totals.items():
        per_judge[judge].append(total)
    spread_of = {j: (statistics.fmean(v), statistics.pstdev(v)) for j, v in per_judge.items()}

    def z(judge: str, total: float) -> float:
        mean, sd = spread_of[judge]
        # One card, or a judge who gave every entry the same total: nothing to tell apart, so no pull either way.
        return (total - mean) / sd if sd > 0 else 0.0

    by_entry: dict[int, list[Card]] = defaultdict(list)
    for card in cards:
        by_entry[card.entry_id].append(card)
    results = []
    for entry_id, reference, entrant in entries:
        own = by_entry.get(entry_id, [])
        judges = [JudgeScore(c.judge, round(totals[(entry_id, c.judge)], 4), round(z(c.judge, totals[(entry_id, c.judge)]), 4))
                  for c in sorted(own, key=lambda c: c.judge)]
        risks: Counter[str] = Counter()
        notes = []
        for card in own:
            for risk_id, answer in card.risks.items():
                if answer.get("level") == CONCERN:
                    risks[risk_id] += 1
                    notes.append((risk_id, card.judge, str(answer.get("note", ""))))
        raw = [j.total for j in judges]
        results.append(EntryResult(
            entry_id=entry_id, reference=reference, entrant=entrant, rank=None, tied=False,
            total=round(_mean(raw), 2) if raw else None,
            normalised=round(_mean([j.normalised for j in judges]), 3) if judges else None,
            spread=round(max(raw) - min(raw), 2) if raw else None,
            dimensions={d.id: round(_mean([c.scores[d.id] for c in own]), 2)
                        for d in scorecard.dimensions} if own else {},
            judges=judges, risks=dict(risks), risk_notes=notes,
            recommendations=dict(Counter(c.recommendation for c in own if c.recommendation)),
            conflicts=conflicts.get(entry_id, 0),
        ))
    return _place(results, by)


def _mean(values: Sequence[float]) -> float:
    # statistics.fmean's own arithmetic on a list (exact sum, then divide) without its per-call bookkeeping: called
    # 21,000 times per view of a 1,000-entry round's results, it was a sixth of the page (bench/judging.py).
    return math.fsum(values) / len(values)


def _place(results: list[EntryResult], by: RankBy) -> list[EntryResult]:
    def key(r: EntryResult) -> float | None:
        value = r.total if by == "total" else r.normalised
        return None if value is None else round(value, TIE_DECIMALS)

    scored = sorted((r for r in results if key(r) is not None), key=lambda r: (-(key(r) or 0.0), r.reference))
    counts = Counter(key(r) for r in scored)
    placed: list[EntryResult] = []
    previous: float | None = None
    rank = 0
    for n, result in enumerate(scored, start=1):
        value = key(result)
        if value != previous:
            rank, previous = n, value  # competition ranking: 1, 2, 2, 4
        placed.append(_with(result, rank=rank, tied=counts[value] > 1))
    return placed + [r for r in results if key(r) is None]


def _with(result: EntryResult, **changes: Any) -> EntryResult:
    return replace(result, **changes)


async def results(session: AsyncSession, round_: Round, scorecards: Scorecards, *, by: RankBy = "total") -> RoundResults:
    """The round's results from its submitted cards, with the decisions taken so far."""
    scorecard = scorecards.for_award(round_.award_id)
    rows = (await session.execute(
        select(Assignment.submission_id, Assignment.judge_name, Assignment.state, Assignment.conflict,
               Assignment.scores, Assignment.risks, Assignment.recommendation)
        .where(Assignment.round_id == round_.id)
    )).all()
    cards = [Card(entry_id=r.submission_id, judge=r.judge_name, scores=r.scores, risks=r.risks,
                  recommendation=r.recommendation)
             for r in rows if r.state == SUBMITTED and r.conflict != CONFLICT]
    conflicts = Counter(r.submission_id for r in rows if r.conflict == CONFLICT)
    ids = sorted({r.submission_id for r in rows})
    entries = [(r.id, r.reference, r.entrant_name) for r in (await session.execute(
        select(queue.Submission.id, queue.Submission.reference, queue.Submission.entrant_name)
        .where(queue.Submission.id.in_(ids)).order_by(queue.Submission.id)
    )).all()] if ids else []
    ranked = rank_entries(entries, cards, scorecard, by=by, conflicts=conflicts)
    decisions = {d.submission_id: d for d in (await session.scalars(
        select(Decision).where(Decision.round_id == round_.id))).all()}
    ranked = [_with(r, decision=decisions.get(r.entry_id)) for r in ranked]
    return RoundResults(round=round_, scorecard=scorecard, by=by, entries=ranked)
