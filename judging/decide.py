"""Decisions: the committee turns a closed round's ranking into statuses (the stage's `chosen` for the entries it
picks, `others` for the rest), each entrant is told in the chat as for any status change, and the chosen entries
become the list (入围 after 终审) exported in ranking order with the reasons recorded.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from config import Localized
from console import audit
from db.base import storable
from intake import notify, queue
from intake.export import defuse
from judging.models import CLOSED, DECIDED, Decision, Round
from judging.rank import RankBy, results
from judging.rounds import JudgingError
from judging.scorecards import Scorecards
from knowledge.answer import TextSource

__all__ = ["COLUMNS", "MAX_REASON", "Finalist", "decide", "finalists", "finalists_csv"]

log = logging.getLogger(__name__)

MAX_REASON = 2000


async def decide(
    session: AsyncSession, round_: Round, *, scorecards: Scorecards, texts: TextSource, chosen: Collection[str],
    reasons: Mapping[str, str], actor: str, now: datetime, by: RankBy = "total", address: str | None = None,
) -> list[Decision]:
    """Decide every entry of a closed round; StatusError (nothing written) if an entry cannot move as decided."""
    if round_.status != CLOSED:
        raise JudgingError(Localized(zh="请先关闭评审轮次，再作决定", en="Close the round before deciding")
                           if round_.status != DECIDED else
                           Localized(zh="这一轮已经作出决定", en="This round has been decided already"))
    stage = scorecards.stage(round_.stage)
    ranked = await results(session, round_, scorecards, by=by)
    references = {e.reference for e in ranked.entries}
    unknown = sorted(set(chosen) - references)
    if unknown:
        raise JudgingError(Localized(zh="这些申报不在本轮中：" + "、".join(unknown),
                                     en="Not in this round: " + ", ".join(unknown)))
    decisions = []
    for entry in ranked.entries:
        picked = entry.reference in chosen
        to_status = stage.chosen if picked else stage.others
        reason = storable(reasons.get(entry.reference, "")).strip()[:MAX_REASON]
        record = await queue.change_status(session, reference=entry.reference, to_status=to_status,
                                           actor=f"staff:{actor}", now=now)
        await notify.notify_status(session, submission=record, note="", texts=texts)
        decision = Decision(round_id=round_.id, submission_id=entry.entry_id, chosen=picked, to_status=to_status,
                            rank=entry.rank, total=entry.total, reason=reason, decided_by=actor, decided_at=now)
        session.add(decision)
        decisions.append(decision)
        await audit.record(session, actor=actor, action="judging.decide", target=entry.reference, note=reason,
                           now=now, address=address, after={"round": round_.id, "status": to_status,
                                                            "rank": entry.rank})
    round_.status = DECIDED
    round_.decided_at = now
    await session.flush()
    log.info("round %s decided by %s: %d chosen of %d", round_.id, actor, len(chosen), len(decisions))
    return decisions


@dataclass(frozen=True, slots=True)
class Finalist:
    """A chosen entry on the exported list."""

    rank: int | None
    reference: str
    entrant: str
    award: str
    award_en: str
    total: float | None
    normalised: float | None
    status: str
    reason: str

    def row(self) -> dict[str, str]:
        """The row of the CSV and XLSX files."""
        label = queue.status_label(self.status)
        return {"rank": "" if self.rank is None else str(self.rank), "reference": self.reference,
                "entrant_name": self.entrant, "award_name": self.award, "award_name_en": self.award_en,
                "total": "" if self.total is None else f"{self.total:.2f}",
                "normalised": "" if self.normalised is None else f"{self.normalised:.3f}",
                "status": self.status, "status_label": label.zh, "status_label_en": label.en, "reason": self.reason}


async def finalists(session: AsyncSession, round_: Round, scorecards: Scorecards) -> list[Finalist]:
    """The entries the committee chose in a decided round, in ranking order (as decided)."""
    award = scorecards.campaign.award(round_.award_id).name
    ranked = await results(session, round_, scorecards)
    chosen = [e for e in ranked.entries if e.decision is not None and e.decision.chosen]
    chosen.sort(key=lambda e: (e.decision.rank is None, e.decision.rank or 0, e.reference))  # type: ignore[union-attr]
    return [Finalist(rank=e.decision.rank, reference=e.reference, entrant=e.entrant, award=award.zh,  # type: ignore[union-attr]
                     award_en=award.en, total=e.total, normalised=e.normalised,
                     status=e.decision.to_status, reason=e.decision.reason) for e in chosen]  # type: ignore[union-attr]


COLUMNS = ("rank", "reference", "entrant_name", "award_name", "award_name_en", "total", "normalised", "status",
           "status_label", "status_label_en", "reason")


def finalists_csv(rows: list[Finalist]) -> bytes:
    """The list as CSV, UTF-8 with a BOM for Excel, cells an entrant could have made formulas defused."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: defuse(v) for k, v in r.row().items()} for r in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
