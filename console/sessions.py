"""Logins kept on the server: the browser holds a signed random token, the database its hash and expiry.

Keeping the session in the database (rather than everything in the cookie) is what makes logout, account removal
and expiry take effect at once, in every console process sharing the database.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, Signer
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from config.settings import Settings
from console.staff import Staff
from db.base import Base, UTCDateTime

__all__ = [
    "COOKIE",
    "SECRET_FILE",
    "Login",
    "LoginSession",
    "CookieSigner",
    "end_session",
    "load_session",
    "session_secret",
    "start_session",
]

log = logging.getLogger(__name__)

COOKIE = "kcxf_session"
SECRET_FILE = "console-secret"


class LoginSession(Base):
    """One staff member logged in in one browser."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # SHA-256 of the cookie's token: a copy of the database does not let anyone log in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    # The CSRF token of every form this session submits.
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True, slots=True)
class Login:
    """A valid session and whose it is."""

    session: LoginSession
    staff: Staff


class CookieSigner:
    """Signs and checks cookie values with the console's secret (itsdangerous), one salt per cookie."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, value: str, *, salt: str) -> str:
        """`value` with its signature."""
        return Signer(self._secret, salt=salt).sign(value).decode()

    def unsign(self, signed: str | None, *, salt: str) -> str | None:
        """The value of a signed cookie, or None when it is missing or was not signed with this secret."""
        if not signed:
            return None
        try:
            return Signer(self._secret, salt=salt).unsign(signed).decode()
        except (BadSignature, UnicodeDecodeError):
            return None


def session_secret(settings: Settings) -> bytes:
    """KCXF_CONSOLE_SECRET, or a secret generated once into data_dir/console-secret (mode 0600) and reused."""
    if settings.console_secret is not None and settings.console_secret.get_secret_value():
        return settings.console_secret.get_secret_value().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting together, one writes the secret and the other reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if secret:
            return secret.encode()
        raise RuntimeError(f"{path} is empty; delete it or set KCXF_CONSOLE_SECRET") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48))
    log.info("generated the console's session secret in %s", path)
    return path.read_text(encoding="ascii").strip().encode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(session: AsyncSession, *, staff: Staff, now: datetime, lifetime: timedelta) -> str:
    """Open a session for `staff` and return the token for the cookie (to be signed); not committed."""
    token = secrets.token_urlsafe(32)
    session.add(LoginSession(token_hash=_hash(token), staff_id=staff.id, csrf=secrets.token_urlsafe(32),
                             created_at=now, expires_at=now + lifetime))
    # Expired sessions of anyone are swept here, the one moment sessions are written anyway.
    await session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    await session.flush()
    return token


async def load_session(session: AsyncSession, *, token: str | None, now: datetime) -> Login | None:
    """The login behind a cookie's token, or None if there is none or it expired."""
    if not token:
        return None
    row = (await session.execute(
        select(LoginSession, Staff).join(Staff, Staff.id == LoginSession.staff_id)
        .where(LoginSession.token_hash == _hash(token))
    )).first()
    if row is None or row[0].expires_at <= now:
        return None
    return Login(session=row[0], staff=row[1])


async def end_session(session: AsyncSession, *, token: str) -> None:
    """Log out: the token no longer opens anything; not committed."""
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))
