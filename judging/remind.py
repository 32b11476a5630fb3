"""Reminders: mail every judge of an open round who has entries left to score, through the configured SMTP server."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.ext.asyncio import AsyncSession

from config import Campaign, Settings
from console import audit
from judging.models import Round
from judging.rounds import judges_behind
from judging.scorecards import Scorecards

__all__ = ["Reminded", "remind"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reminded:
    """Who was mailed, who could not be (no address, or the server refused), and whether mail is configured."""

    sent: list[str]
    failed: list[str]
    configured: bool


def _message(*, settings: Settings, campaign: Campaign, scorecards: Scorecards, round_: Round, to: str,
             left: int, lang: str) -> EmailMessage:
    award = campaign.award(round_.award_id).name.get(lang)
    stage = scorecards.stage(round_.stage).name.get(lang)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    if lang == "en":
        message["Subject"] = f"{campaign.name.en}: {left} entries are waiting for your score ({award}, {stage})"
        message.set_content(f"Dear judge,\n\n{left} entries assigned to you in round #{round_.id} ({award}, {stage}) "
                            "still need your score. Please log in to the committee's console, or send back your "
                            f"scoring sheet.\n\n{campaign.organizer.en}\n")
    else:
        message["Subject"] = f"{campaign.name.zh}：您还有 {left} 份申报待评分（{award}·{stage}）"
        message.set_content(f"尊敬的评委：\n\n第 {round_.id} 轮评审（{award}·{stage}）中分配给您的申报还有 {left} 份"
                            f"尚未提交评分。请登录组委会后台评分，或回传评分表。\n\n{campaign.organizer.zh}\n")
    return message


def _send(settings: Settings, messages: list[EmailMessage]) -> list[str]:
    """Send over one connection; the addresses that failed."""
    failed = []
    assert settings.smtp_host
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value() if settings.smtp_password else "")
        for message in messages:
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as exc:
                log.warning("reminder to %s refused: %s", message["To"], exc)
                failed.append(str(message["To"]))
    return failed


async def remind(session: AsyncSession, round_: Round, *, settings: Settings, campaign: Campaign,
                 scorecards: Scorecards, actor: str, now: datetime, address: str | None = None) -> Reminded:
    """Mail each judge who is behind (in their console language); the audit log records who was reminded."""
    messages, names, failed = [], [], []
    for judge, staff in await judges_behind(session, round_):
        if staff is None or not staff.email:
            failed.append(judge.name)
            continue
        messages.append(_message(settings=settings, campaign=campaign, scorecards=scorecards, round_=round_,
                                 to=staff.email, left=judge.to_score, lang=staff.lang))
        names.append(judge.name)
    if not settings.smtp_host:
        return Reminded(sent=[], failed=failed + names, configured=False)
    sent = names
    if messages:
        try:
            refused = set(await asyncio.to_thread(_send, settings, messages))
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("reminders for round %s not sent: %s", round_.id, exc)
            return Reminded(sent=[], failed=failed + names, configured=True)
        sent = [n for n, m in zip(names, messages, strict=True) if str(m["To"]) not in refused]
        failed += [n for n in names if n not in sent]
    await audit.record(session, actor=actor, action="judging.remind", target=f"round:{round_.id}", now=now,
                       address=address, after={"sent": ", ".join(sent) or "-", "failed": ", ".join(failed) or "-"})
    return Reminded(sent=sent, failed=failed, configured=True)
