"""Decisions: the committee turns a closed round's ranking into statuses (the stage's `chosen` for the entries it
picks, `others` for the rest), each entrant is told in the chat as for any status change, and the chosen entries
become the list (入围 after 终审) exported in ranking order with the reasons recorded. Where the stage asks for it
(初审), the committee proposes and the jury chair signs off (or sends the proposal back) before anything moves.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from config import Localized
from console import audit
from console.staff import Staff
from db.base import storable
from intake import notify, queue
from intake.export import defuse
from judging.models import CLOSED, DECIDED, PROPOSED, Decision, Round
from judging.rank import RankBy, results
from judging.rounds import JudgingError
from judging.scorecards import Scorecards
from knowledge.answer import TextSource

__all__ = ["COLUMNS", "MAX_REASON", "Finalist", "decide", "finalists", "finalists_csv", "send_back", "sign_off"]

log = logging.getLogger(__name__)

MAX_REASON = 2000


async def decide(
    session: AsyncSession, round_: Round, *, scorecards: Scorecards, texts: TextSource, chosen: Collection[str],
    reasons: Mapping[str, str], actor: str, now: datetime, by: RankBy = "total", address: str | None = None,
) -> list[Decision]:
    """Decide every entry of a closed round; StatusError (nothing written) if an entry cannot move as decided.

    Where the stage asks for the jury chair's sign-off (初审), the decisions are only proposed: nothing moves and
    no entrant is told until the chair signs them off (`sign_off`).
    """
    if round_.status != CLOSED:
        raise JudgingError({
            PROPOSED: Localized(zh="这一轮的决定正等待评审团主席签核", en="This round's decisions await the jury chair's sign-off"),
            DECIDED: Localized(zh="这一轮已经作出决定", en="This round has been decided already"),
        }.get(round_.status, Localized(zh="请先关闭评审轮次，再作决定", en="Close the round before deciding")))
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
        decision = Decision(round_id=round_.id, submission_id=entry.entry_id, chosen=picked,
                            to_status=stage.chosen if picked else stage.others, rank=entry.rank, total=entry.total,
                            reason=storable(reasons.get(entry.reference, "")).strip()[:MAX_REASON],
                            decided_by=actor, decided_at=now)
        session.add(decision)
        decisions.append((entry.reference, decision))
    if stage.sign_off:
        for reference, decision in decisions:
            await audit.record(session, actor=actor, action="judging.propose", target=reference, note=decision.reason,
                               now=now, address=address, after={"round": round_.id, "status": decision.to_status,
                                                                "rank": decision.rank})
        round_.status, round_.proposed_by, round_.proposed_at = PROPOSED, actor, now
        await session.flush()
        log.info("round %s: %s proposed %d chosen of %d, for the chair's sign-off", round_.id, actor, len(chosen),
                 len(decisions))
        return [d for _, d in decisions]
    await _apply(session, round_, decisions, texts=texts, actor=actor, now=now, address=address)
    log.info("round %s decided by %s: %d chosen of %d", round_.id, actor, len(chosen), len(decisions))
    return [d for _, d in decisions]


async def _apply(session: AsyncSession, round_: Round, decisions: list[tuple[str, Decision]], *, texts: TextSource,
                 actor: str, now: datetime, address: str | None) -> None:
    """Move every entry as decided, tell each entrant, and mark the round decided."""
    for reference, decision in decisions:
        record = await queue.change_status(session, reference=reference, to_status=decision.to_status,
                                           actor=f"staff:{actor}", now=now)
        await notify.notify_status(session, submission=record, note="", texts=texts)
        await audit.record(session, actor=actor, action="judging.decide", target=reference, note=decision.reason,
                           now=now, address=address, after={"round": round_.id, "status": decision.to_status,
                                                            "rank": decision.rank, "by": decision.decided_by})
    round_.status = DECIDED
    round_.decided_at = now
    await session.flush()


async def _proposal(session: AsyncSession, round_: Round, chair: Staff) -> list[tuple[str, Decision]]:
    if not chair.jury_chair:
        raise JudgingError(Localized(zh="只有评审团主席可以签核初审决定", en="Only the jury chair can sign off these decisions"))
    if round_.status != PROPOSED:
        raise JudgingError(Localized(zh="这一轮没有等待签核的决定", en="This round has no decisions awaiting sign-off"))
    rows = (await session.execute(
        select(queue.Submission.reference, Decision).join(Decision, Decision.submission_id == queue.Submission.id)
        .where(Decision.round_id == round_.id).order_by(Decision.rank.is_(None), Decision.rank, queue.Submission.id)
    )).all()
    return [(reference, decision) for reference, decision in rows]


async def sign_off(session: AsyncSession, round_: Round, *, chair: Staff, texts: TextSource, now: datetime,
                   address: str | None = None) -> list[Decision]:
    """The jury chair signs off the committee's proposed decisions: the entries move and the entrants are told.

    Refused (JudgingError) to anyone but the jury chair, to the chair on a proposal of their own (the sign-off is a
    second pair of eyes), and on a round with nothing proposed; StatusError (nothing written) if an entry can no
    longer move as proposed.
    """
    proposal = await _proposal(session, round_, chair)
    if round_.proposed_by is not None and chair.name.lower() == round_.proposed_by.lower():
        raise JudgingError(Localized(zh="提出决定的人不能自己签核；请另一位组委会成员提出，或由其他主席签核",
                                     en="The chair cannot sign off decisions they proposed themselves"))
    await audit.record(session, actor=chair.name, action="judging.sign_off", target=f"round:{round_.id}", now=now,
                       address=address, before={"status": PROPOSED, "proposed_by": round_.proposed_by},
                       after={"status": DECIDED, "chosen": [r for r, d in proposal if d.chosen],
                              "entries": len(proposal)})
    round_.signed_off_by, round_.signed_off_at = chair.name, now
    await _apply(session, round_, proposal, texts=texts, actor=chair.name, now=now, address=address)
    log.info("round %s signed off by %s", round_.id, chair.name)
    return [d for _, d in proposal]


async def send_back(session: AsyncSession, round_: Round, *, chair: Staff, note: str, now: datetime,
                    address: str | None = None) -> Round:
    """The jury chair returns the proposal to the committee with a note: the decisions are dropped, the round is
    closed again (ready to be decided anew); nothing has moved and no entrant was told."""
    proposal = await _proposal(session, round_, chair)
    note = storable(note).strip()[:MAX_REASON]
    if not note:
        raise JudgingError(Localized(zh="请写明退回的理由", en="Say why the decisions go back to the committee"))
    await audit.record(session, actor=chair.name, action="judging.send_back", target=f"round:{round_.id}", note=note,
                       now=now, address=address, before={"status": PROPOSED, "proposed_by": round_.proposed_by,
                                                         "chosen": [r for r, d in proposal if d.chosen]},
                       after={"status": CLOSED})
    await session.execute(delete(Decision).where(Decision.round_id == round_.id))
    round_.status, round_.proposed_by, round_.proposed_at = CLOSED, None, None
    await session.flush()
    return round_


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
    """The entries the committee chose in a decided round, in ranking order (as decided); none before that (a
    proposal waiting for the chair's sign-off is not a list yet)."""
    if round_.status != DECIDED:
        return []
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
