"""Who is on the web chat: an anonymous visitor named by a signed cookie, and an e-mail address they prove.

No password and no third-party login: the visitor asks for a one-time code, which is mailed through the
configured SMTP server together with a sign-in link. Codes expire, allow a few tries, and are throttled per address
and per client address. A proven address is linked to the visitor who first proved it; proving it again in
another browser makes that browser the same visitor, so a draft continues there and /status shows the entry.

Addresses are stored only as a keyed hash (HMAC with the console's secret): enough to recognise one again,
useless for mailing anyone.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import Index, Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from config.settings import Settings
from db.base import Base, UTCDateTime
from intake import mail
from intake.validation import check_email

__all__ = [
    "CODE_LIFETIME", "CODES_PER_ADDRESS", "CODES_PER_IP", "MAX_TRIES", "EmailCode", "Proof", "WebIdentity",
    "is_verified", "new_visitor_id", "prove", "request_code", "sign_in",
]

log = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=15)
MAX_TRIES = 5
# Per hour: an address gets a few codes (a lost mail, a typo), a client address a few visitors' worth.
THROTTLE_WINDOW = timedelta(hours=1)
CODES_PER_ADDRESS = 3
CODES_PER_IP = 10


class WebIdentity(Base):
    """A proven e-mail address (its keyed hash) and the visitor it belongs to."""

    __tablename__ = "web_identities"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), index=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EmailCode(Base):
    """One code mailed to an address: its hash, its sign-in link's hash, and how it has been used."""

    __tablename__ = "web_email_codes"
    __table_args__ = (Index("ix_web_email_codes_email_at", "email_hash", "created_at"),
                      Index("ix_web_email_codes_ip_at", "ip_key", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    ip_key: Mapped[str] = mapped_column(String(200))
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Proof(Enum):
    """What came of a code or a sign-in link."""

    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"  # no live code for the address (never asked, used, out of time or out of tries)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a request or a proof: its kind, the visitor to be from now on, a text key to show."""

    proof: Proof | None
    external_id: str | None = None
    key: str | None = None
    minutes: int = 0


def new_visitor_id() -> str:
    """A fresh visitor's id: random, so knowing one id tells nothing of another."""
    return secrets.token_urlsafe(18)


def email_hash(secret: bytes, address: str) -> str:
    """The keyed hash an address is stored under (the same address in any case gives the same hash)."""
    return hmac.new(secret, address.strip().casefold().encode(), hashlib.sha256).hexdigest()


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def is_verified(session: AsyncSession, external_id: str) -> bool:
    """Whether this visitor has proven an address."""
    found = await session.scalar(select(WebIdentity.email_hash).where(WebIdentity.external_id == external_id)
                                 .limit(1))
    return found is not None


async def request_code(
    session: AsyncSession, *, settings: Settings, secret: bytes, address: str, ip_key: str, lang: str,
    now: datetime, link_base: str, campaign_name: str,
) -> Outcome:
    """Mail a code and a sign-in link to `address` unless throttled; committed. The outcome's key says what to
    show (the refusal, or that the mail went out)."""
    checked = check_email(address, lang=lang)
    if not checked.ok or checked.value is None:
        return Outcome(None, key="webchat.email.invalid")
    address = checked.value
    hashed = email_hash(secret, address)
    since = now - THROTTLE_WINDOW
    for column, value, limit in ((EmailCode.email_hash, hashed, CODES_PER_ADDRESS),
                                 (EmailCode.ip_key, ip_key, CODES_PER_IP)):
        times = list((await session.scalars(select(EmailCode.created_at).where(
            column == value, EmailCode.created_at > since).order_by(EmailCode.created_at))).all())
        if len(times) >= limit:
            wait = times[len(times) - limit] + THROTTLE_WINDOW - now
            return Outcome(None, key="webchat.email.throttled", minutes=max(1, int(wait.total_seconds() // 60) + 1))
    # Codes past both their lifetime and the throttle's window count for nothing: swept here, where codes are written.
    await session.execute(delete(EmailCode).where(EmailCode.created_at <= now - max(THROTTLE_WINDOW, CODE_LIFETIME)))
    code = f"{secrets.randbelow(1_000_000):06d}"
    link = secrets.token_urlsafe(24)
    session.add(EmailCode(email_hash=hashed, ip_key=ip_key, code_hash=_hash(code), link_hash=_hash(link),
                          created_at=now, expires_at=now + CODE_LIFETIME))
    await session.commit()
    body = {
        "zh": (f"您的验证码是 {code}，{int(CODE_LIFETIME.total_seconds() // 60)} 分钟内有效。\n\n"
               f"也可以在要继续的设备上打开以下链接登录：\n{link_base}/chat/signin/{link}\n\n"
               f"如非本人操作，请忽略本邮件。\n{campaign_name}"),
        "en": (f"Your code is {code}; it is valid for {int(CODE_LIFETIME.total_seconds() // 60)} minutes.\n\n"
               f"Or open this link on the device you want to continue on:\n{link_base}/chat/signin/{link}\n\n"
               f"If you did not ask for it, ignore this mail.\n{campaign_name}"),
    }[lang if lang == "en" else "zh"]
    subject = {"zh": f"验证码 {code} · {campaign_name}", "en": f"Your code {code} · {campaign_name}"}[
        lang if lang == "en" else "zh"]
    if not settings.smtp_host:
        if settings.env == "production":
            return Outcome(None, key="webchat.email.unavailable")
        # Development without a mail server: the code is in the log, so the chat can be tried locally.
        log.warning("no SMTP server configured; the web chat's code for this address is %s", code)
        return Outcome(None, key="webchat.email.sent")
    sent = await asyncio.to_thread(mail.send_text, settings=settings, to=address, subject=subject, body=body)
    return Outcome(None, key="webchat.email.sent" if sent else "webchat.email.unavailable")


async def prove(
    session: AsyncSession, *, secret: bytes, address: str, code: str, external_id: str, now: datetime,
) -> Outcome:
    """Check a code typed for `address`; on success the visitor this browser is from now on. Committed."""
    checked = check_email(address)
    hashed = email_hash(secret, checked.value if checked.ok and checked.value else address)
    row = await session.scalar(select(EmailCode).where(
        EmailCode.email_hash == hashed, EmailCode.used_at.is_(None), EmailCode.expires_at > now,
        EmailCode.tries < MAX_TRIES).order_by(EmailCode.created_at.desc()).limit(1).with_for_update())
    if row is None:
        return Outcome(Proof.EXPIRED, key="webchat.email.expired")
    row.tries += 1
    if not hmac.compare_digest(row.code_hash, _hash("".join(code.split()))):
        await session.commit()
        left = MAX_TRIES - row.tries
        return Outcome(Proof.WRONG if left else Proof.EXPIRED,
                       key="webchat.email.wrong" if left else "webchat.email.expired", minutes=left)
    return await _link(session, row, external_id=external_id, now=now)


async def sign_in(session: AsyncSession, *, link: str, external_id: str, now: datetime) -> Outcome:
    """Follow a sign-in link from the mail; on success the visitor this browser is from now on. Committed."""
    row = await session.scalar(select(EmailCode).where(
        EmailCode.link_hash == _hash(link), EmailCode.used_at.is_(None), EmailCode.expires_at > now)
        .with_for_update())
    if row is None:
        return Outcome(Proof.EXPIRED, key="webchat.email.expired")
    return await _link(session, row, external_id=external_id, now=now)


async def _link(session: AsyncSession, row: EmailCode, *, external_id: str, now: datetime) -> Outcome:
    row.used_at = now
    identity = await session.get(WebIdentity, row.email_hash)
    if identity is None:
        identity = WebIdentity(email_hash=row.email_hash, external_id=external_id, verified_at=now)
        session.add(identity)
    await session.commit()
    return Outcome(Proof.OK, external_id=identity.external_id, key="webchat.email.proven")
