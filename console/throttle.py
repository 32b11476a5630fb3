"""The login throttle: attempts per account and per address in a sliding window, counted in the database.

Each attempt is written and committed before it is counted, so console processes sharing one database see each
other's attempts: of any number of concurrent tries, the last to commit counts them all, and no more than `limit`
per window ever reach the password check. An attempt made while a key is already over its limit is refused before
anything is written, so a flood of refused tries adds no rows.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime

__all__ = ["ADDRESS_FACTOR", "LoginAttempt", "account_key", "address_key", "clear", "note_attempt", "wait_before_retry"]

# An office behind one NAT address holds several colleagues; the address limit is this many accounts' worth.
ADDRESS_FACTOR = 6


class LoginAttempt(Base):
    """One login attempt under one key (an account name or a client address)."""

    __tablename__ = "staff_login_attempts"
    __table_args__ = (Index("ix_staff_login_attempts_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


def account_key(name: str) -> str:
    """The throttle key of an account name (the same account whatever its case)."""
    return "name:" + name.strip().casefold()[:180]


def address_key(address: str | None) -> str:
    """The throttle key of a client address: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber is given a whole /64 (or more), so keying the full address would give an attacker 2**64
    fresh keys.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "addr:" + (address or "unknown")[:180]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"addr:{ip}"


async def note_attempt(session: AsyncSession, *, keys: Mapping[str, int], now: datetime, window: timedelta) -> None:
    """Write the attempt under every key and drop every attempt (of any key) older than the window; not committed."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - window))
    session.add_all(LoginAttempt(key=key, at=now) for key in keys)
    await session.flush()


async def wait_before_retry(
    session: AsyncSession, *, keys: Mapping[str, int], now: datetime, window: timedelta
) -> int | None:
    """Whole minutes until a key over its limit (key → attempts allowed per window) falls back to it; None: go on."""
    longest: timedelta | None = None
    for key, limit in keys.items():
        times = list((await session.scalars(
            select(LoginAttempt.at).where(LoginAttempt.key == key, LoginAttempt.at > now - window)
            .order_by(LoginAttempt.at)
        )).all())
        if len(times) <= limit:
            continue
        # Once the oldest len - limit attempts leave the window, the key is back at its limit.
        wait = times[len(times) - limit - 1] + window - now
        longest = wait if longest is None else max(longest, wait)
    if longest is None:
        return None
    return max(1, math.ceil(longest.total_seconds() / 60))


async def clear(session: AsyncSession, *, key: str) -> None:
    """Forget a key's attempts (after a successful login to that account); not committed."""
    await session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
