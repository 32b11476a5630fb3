"""Reminders: mail every judge of an open round who has entries left to score, in their console language, through
the project's SMTP path (intake.mail.deliver: one connection for all of them)."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.ext.asyncio import AsyncSession

from config import Campaign, Settings
from console import audit
from intake import mail
from judging.models import Round
from judging.rounds import judges_behind
from judging.scorecards import Scorecards
from knowledge.answer import TextSource

__all__ = ["Reminded", "remind"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reminded:
    """Who was mailed, who could not be (no address, or the server refused), and whether mail is configured."""

    sent: list[str]
    failed: list[str]
    configured: bool


def _message(*, settings: Settings, campaign: Campaign, scorecards: Scorecards, texts: TextSource, round_: Round,
             to: str, judge: str, left: int, lang: str) -> EmailMessage:
    values = {"campaign": campaign.name.get(lang), "award": campaign.award(round_.award_id).name.get(lang),
              "stage": scorecards.stage(round_.stage).name.get(lang), "round": round_.id, "left": left,
              "judge": judge, "organizer": campaign.organizer.get(lang)}
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Subject"] = texts.t("judging.reminder.subject", lang, **values)
    message.set_content(texts.t("judging.reminder.body", lang, **values))
    return message


async def remind(session: AsyncSession, round_: Round, *, settings: Settings, campaign: Campaign,
                 scorecards: Scorecards, texts: TextSource, actor: str, now: datetime,
                 address: str | None = None) -> Reminded:
    """Mail each judge who is behind, naming how many entries they have left; the audit log records who was
    reminded and who could not be."""
    messages, names, failed = [], [], []
    for judge, staff in await judges_behind(session, round_):
        if staff is None or not staff.email:
            failed.append(judge.name)
            continue
        messages.append(_message(settings=settings, campaign=campaign, scorecards=scorecards, texts=texts,
                                 round_=round_, to=staff.email, judge=judge.name, left=judge.to_score,
                                 lang=staff.lang))
        names.append(judge.name)
    if not settings.smtp_host:
        return Reminded(sent=[], failed=failed + names, configured=False)
    sent = names
    if messages:
        try:
            refused = await mail.deliver_async(settings, messages)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("reminders for round %s not sent: %s", round_.id, exc)
            refused = {str(m["To"]): str(exc) for m in messages}
        for to, why in refused.items():
            log.warning("reminder for round %s to %s refused: %s", round_.id, to, why)
        sent = [n for n, m in zip(names, messages, strict=True) if str(m["To"]) not in refused]
        failed += [n for n in names if n not in sent]
    await audit.record(session, actor=actor, action="judging.remind", target=f"round:{round_.id}", now=now,
                       address=address, after={"sent": ", ".join(sent) or "-", "failed": ", ".join(failed) or "-"})
    return Reminded(sent=sent, failed=failed, configured=True)
