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
    "MIN_SECRET_BYTES",
    "SECRET_FILE",
    "ConsoleSecretError",
    "CookiePolicy",
    "CookieSigner",
    "Login",
    "LoginSession",
    "end_session",
    "end_sessions_of",
    "keep_alive",
    "load_session",
    "session_secret",
    "start_session",
]

log = logging.getLogger(__name__)

COOKIE = "kcxf_session"
SECRET_FILE = "console-secret"
# HMAC-SHA1 (itsdangerous's signer) gains nothing from a longer key; a shorter one can be guessed offline.
MIN_SECRET_BYTES = 32
# In production a cookie's name carries this prefix: the browser then accepts it only with Secure, Path=/ and no
# Domain, so neither a sibling subdomain nor a plain-HTTP page can plant or overwrite it.
HOST_PREFIX = "__Host-"
# The idle timeout is extended at most this often (a database write), not at every request.
KEEP_ALIVE_STEP = timedelta(minutes=1)


class ConsoleSecretError(RuntimeError):
    """The console's secret is missing or too short for production; the message says what to set."""


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    """The console's cookie names and flags: in production (KCXF_ENV=production) always Secure and __Host- named."""

    session: str
    csrf: str
    secure: bool

    @classmethod
    def of(cls, settings: Settings) -> CookiePolicy:
        """The policy these settings ask for."""
        production = settings.env == "production"
        prefix = HOST_PREFIX if production else ""
        return cls(session=prefix + COOKIE, csrf=prefix + "kcxf_csrf",
                   secure=production or settings.console_secure_cookies)


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
    """KCXF_CONSOLE_SECRET, or a secret generated once into data_dir/console-secret (mode 0600) and reused.

    In production the secret must be configured, at least MIN_SECRET_BYTES long (ConsoleSecretError otherwise):
    every process of a deployment then signs with the same one, and none is made up on a server's disk.
    """
    given = settings.console_secret.get_secret_value().encode() if settings.console_secret is not None else b""
    if settings.env == "production" and len(given) < MIN_SECRET_BYTES:
        raise ConsoleSecretError(
            f"KCXF_ENV=production needs KCXF_CONSOLE_SECRET of at least {MIN_SECRET_BYTES} bytes "
            f"({'it is unset' if not given else f'it has {len(given)}'}); make one with `openssl rand -hex 32`"
        )
    if given:
        return given
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


async def start_session(session: AsyncSession, *, staff: Staff, now: datetime, lifetime: timedelta,
                        idle: timedelta | None = None) -> str:
    """Open a session for `staff` that ends after `idle` unused (keep_alive extends it) or `lifetime` in all, and
    return the token for the cookie (to be signed); not committed."""
    token = secrets.token_urlsafe(32)
    ends = now + min(lifetime, idle) if idle is not None else now + lifetime
    session.add(LoginSession(token_hash=_hash(token), staff_id=staff.id, csrf=secrets.token_urlsafe(32),
                             created_at=now, expires_at=ends))
    # Expired sessions of anyone are swept here, the one moment sessions are written anyway.
    await session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    await session.flush()
    return token


async def end_sessions_of(session: AsyncSession, *, staff: Staff) -> None:
    """End every session of this account (a new login in production replaces the earlier one); not committed."""
    await session.execute(delete(LoginSession).where(LoginSession.staff_id == staff.id))


def keep_alive(login: Login, *, now: datetime, idle: timedelta, lifetime: timedelta) -> bool:
    """Move the session's end to `idle` from now (never past `lifetime` from the login); whether it moved.

    The end is extended in steps of KEEP_ALIVE_STEP, so a busy reviewer costs one write a minute, not one a page.
    """
    end = min(login.session.created_at + lifetime, now + idle)
    if end - login.session.expires_at < KEEP_ALIVE_STEP:
        return False
    login.session.expires_at = end
    return True


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
