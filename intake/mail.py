"""Mail through the configured SMTP server: a queued entry to the committee mailbox (subject as the guideline asks,
申报表 and materials attached), and any other messages the committee sends (judges' reminders) over the same path.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from config import Campaign, Settings
from intake.files import StoredFile
from intake.queue import Submission

__all__ = ["DOCX_TYPE", "build_message", "deliver", "deliver_async", "send_submission", "send_submission_async",
           "send_text"]

log = logging.getLogger(__name__)

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The common form's 申报联系人 fields, shown in the body so staff can reach the entrant without opening files.
CONTACT_FIELDS = ("contact_name", "contact_position", "contact_mobile", "contact_email")


def build_message(
    *, settings: Settings, campaign: Campaign, submission: Submission, form_path: Path | None, attachments_dir: Path
) -> EmailMessage:
    """The committee's mail for a record; OSError when the form or an attachment cannot be read."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = campaign.committee.mailbox
    message["Subject"] = submission.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=submission.reference, domain=settings.smtp_from.split("@")[-1])
    message.set_content(_body(settings=settings, campaign=campaign, submission=submission, with_form=form_path))
    if form_path is not None:
        maintype, subtype = DOCX_TYPE.split("/")
        message.add_attachment(
            Path(form_path).read_bytes(), maintype=maintype, subtype=subtype, filename=Path(form_path).name
        )
    root = Path(attachments_dir).resolve()
    for stored in submission.stored_attachments:
        path = (root / stored.path).resolve()
        # Paths come from the database; one pointing outside the files folder is never read.
        if not path.is_relative_to(root):
            raise OSError(f"attachment {stored.path!r} is outside {root}")
        maintype, _, subtype = stored.mime_type.partition("/")
        message.add_attachment(
            path.read_bytes(),
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=stored.name,
        )
    return message


def send_text(*, settings: Settings, to: str, subject: str, body: str) -> bool:
    """Mail a plain-text message (a digest, a notice); False (never an exception) when SMTP is unset or fails."""
    if not settings.smtp_host:
        return False
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.split("@")[-1])
    message.set_content(body)
    try:
        _deliver_one(settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mailing %r to %s via %s:%s failed: %s", subject, to, settings.smtp_host, settings.smtp_port, exc)
        return False
    log.info("mailed %r to %s", subject, to)
    return True


def send_submission(
    *, settings: Settings, campaign: Campaign, submission: Submission, form_path: Path | None, attachments_dir: Path
) -> bool:
    """Mail the record to the committee; False (never an exception) when SMTP is unset or the sending fails."""
    if not settings.smtp_host:
        log.debug("SMTP is not configured; %s is not mailed", submission.reference)
        return False
    try:
        message = build_message(
            settings=settings,
            campaign=campaign,
            submission=submission,
            form_path=form_path,
            attachments_dir=attachments_dir,
        )
        _deliver_one(settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        # The record is queued either way; staff see it unmailed (mailed_at empty) and can resend.
        log.warning(
            "mailing %s to %s via %s:%s failed: %s",
            submission.reference,
            campaign.committee.mailbox,
            settings.smtp_host,
            settings.smtp_port,
            exc,
        )
        return False
    log.info("mailed %s to %s", submission.reference, campaign.committee.mailbox)
    return True


def deliver(settings: Settings, messages: Sequence[EmailMessage]) -> dict[str, str]:
    """Send the messages over one connection (STARTTLS and login as configured); {recipient: why} for each the
    server refused, the others having gone out.

    No server configured, or a connection, TLS or login failure, raises (smtplib.SMTPException or OSError).
    """
    if not settings.smtp_host:
        raise smtplib.SMTPException("SMTP is not configured (KCXF_SMTP_HOST)")
    refused: dict[str, str] = {}
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        for message in messages:
            try:
                smtp.send_message(message)
            except smtplib.SMTPException as exc:
                refused[str(message["To"])] = str(exc)
    return refused


def _deliver_one(settings: Settings, message: EmailMessage) -> None:
    """deliver one message; its refusal raises like a failed connection does."""
    refused = deliver(settings, [message])
    if refused:
        raise smtplib.SMTPException("; ".join(refused.values()))


async def deliver_async(settings: Settings, messages: Sequence[EmailMessage]) -> dict[str, str]:
    """deliver in a worker thread, so the event loop keeps serving meanwhile."""
    return await asyncio.to_thread(deliver, settings, messages)


async def send_submission_async(
    *, settings: Settings, campaign: Campaign, submission: Submission, form_path: Path | None, attachments_dir: Path
) -> bool:
    """send_submission in a worker thread, so the event loop keeps serving other applicants meanwhile."""
    return await asyncio.to_thread(
        send_submission,
        settings=settings,
        campaign=campaign,
        submission=submission,
        form_path=form_path,
        attachments_dir=attachments_dir,
    )


def _body(*, settings: Settings, campaign: Campaign, submission: Submission, with_form: Path | None) -> str:
    answers = submission.answers
    contact = "，".join(str(answers[f]) for f in CONTACT_FIELDS if answers.get(f)) or "（未填写）"
    submitted = submission.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
    files = [StoredFile.from_dict(a).name for a in submission.attachments]
    lines = [
        "组委会：",
        "",
        f"收到一份新的{campaign.name.zh}申报，由申报助手转交。",
        "",
        f"申报编号：{submission.reference}",
        f"参选类别：{campaign.award(submission.award_id).name.zh}",
        f"参选者名称：{submission.entrant_name}",
        f"申报联系人：{contact}",
        f"提交时间：{submitted}（{settings.timezone}）",
        "",
        "附件：" + (f"《申报表》{with_form.name}" if with_form is not None else "（申报表尚未生成）"),
        *(f"  · {name}" for name in files),
    ]
    return "\n".join(lines) + "\n"
