"""Committee staff accounts: a name, a role and an argon2 password hash."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, CheckConstraint, String, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from config import Localized
from db.base import Base, UTCDateTime, utcnow

__all__ = [
    "CHAIR_ROLES",
    "MIN_PASSWORD",
    "PasswordChecks",
    "Role",
    "Staff",
    "StaffError",
    "add_staff",
    "check_password",
    "count_staff",
    "get_staff",
    "hash_password",
    "list_staff",
    "may_see_identifiers",
    "needs_rehash",
    "prepare_login_checks",
    "remove_staff",
    "set_jury_chair",
]

log = logging.getLogger(__name__)


class Role(StrEnum):
    """What a staff member may do; the role table in docs/guide.md is the reference."""

    reviewer = "reviewer"  # the queue: records, review, masked export
    maintainer = "maintainer"  # the knowledge base; the dashboard
    admin = "admin"  # everything, identity numbers and phones unmasked
    judge = "judge"  # only the entries assigned to them in open judging rounds (judging/)


MIN_PASSWORD = 10
_NAME = re.compile(r"^[\w.-]{2,64}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# argon2id with the library's defaults (RFC 9106's second recommended profile at the time of writing).
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so that a wrong name costs as long as a wrong password.

    Made on first use, not at import: hashing costs a quarter of a second, which every `kcxf` command paid.
    """
    return _hasher.hash("not a password of anyone")


def prepare_login_checks() -> None:
    """Make the unknown-name hash now (once per process), so that the first login with a wrong name is not slower."""
    _dummy_hash()


class Staff(Base):
    """A console account."""

    __tablename__ = "staff"
    __table_args__ = (CheckConstraint("role IN ('reviewer', 'maintainer', 'admin', 'judge')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    # The console's interface language for this person; the switch in the nav bar changes it.
    lang: Mapped[str] = mapped_column(String(2), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Where reminders reach a judge (judging rounds); optional for everyone else.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    # The jury chair (评审团主席), who signs off the committee's 初审 decisions before they take effect (judging/).
    jury_chair: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def role_enum(self) -> Role:
        """The role as a Role."""
        return Role(self.role)

    def __repr__(self) -> str:
        return f"Staff(name={self.name!r}, role={self.role!r})"


class StaffError(ValueError):
    """An account that cannot be created or changed as asked; `message` says why in both languages."""

    def __init__(self, message: Localized) -> None:
        self.message = message
        super().__init__(f"{message.zh} / {message.en}")


def hash_password(password: str) -> str:
    """An argon2id hash of the password, salt and parameters included."""
    return _hasher.hash(password)


def check_password(staff: Staff | None, password: str) -> bool:
    """Whether the password is this account's; an unknown account (None) takes as long and fails."""
    try:
        return _hasher.verify(staff.password_hash if staff else _dummy_hash(), password) and staff is not None
    except (VerificationError, InvalidHashError):
        return False


class PasswordChecks:
    """Argon2 for a server: each hash or check in a worker thread, at most `limit` at once.

    A check costs tens of milliseconds of CPU and 64 MiB; on the event loop it would stall the bot sharing the
    process (`kcxf run`) for every login attempt, and unbounded threads would let a burst of attempts take every
    core and a lot of memory.
    """

    def __init__(self, limit: int = 2) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def check(self, staff: Staff | None, password: str) -> bool:
        """check_password, off the event loop."""
        async with self._slots:
            return await asyncio.to_thread(check_password, staff, password)

    async def hash(self, password: str) -> str:
        """hash_password, off the event loop."""
        async with self._slots:
            return await asyncio.to_thread(hash_password, password)


def needs_rehash(staff: Staff) -> bool:
    """Whether the stored hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(staff.password_hash)


def may_see_identifiers(role: str) -> bool:
    """Whether this role reads identity numbers and phones in full (exports, record pages)."""
    return role == Role.admin


def _valid_name(name: str) -> str:
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise StaffError(Localized(
            zh="账号名须为 2–64 个字母、数字、汉字、点、下划线或连字符，例如 li.ming",
            en="An account name is 2–64 letters, digits, dots, underscores or hyphens, e.g. li.ming",
        ))
    return name


def _valid_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise StaffError(Localized(
            zh=f"密码至少 {MIN_PASSWORD} 个字符", en=f"A password needs at least {MIN_PASSWORD} characters"
        ))
    return password


def _valid_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise StaffError(Localized(zh=f"未知角色“{role}”，可选：{known}", en=f"Unknown role {role!r}; known: {known}")) from None


# Who may be the jury chair: someone who may sit on a judging round (an invited expert, or the committee's staff).
CHAIR_ROLES = frozenset({Role.judge, Role.reviewer, Role.admin})


def _may_chair(name: str, role: Role) -> None:
    if role not in CHAIR_ROLES:
        raise StaffError(Localized(zh=f"账号 {name}（{role.value}）不能担任评审团主席",
                                   en=f"The account {name} ({role.value}) cannot be the jury chair"))


async def add_staff(
    session: AsyncSession, *, name: str, password: str, role: str, lang: str = "zh", email: str | None = None,
    jury_chair: bool = False,
) -> Staff:
    """Create an account (StaffError for a taken name, a short password or an unknown role); not committed."""
    name, role_ = _valid_name(name), _valid_role(role)
    if jury_chair:
        _may_chair(name, role_)
    if email is not None and not _EMAIL.fullmatch(email.strip()):
        raise StaffError(Localized(zh=f"邮箱地址无效：{email}", en=f"Not an e-mail address: {email}"))
    _valid_password(password)
    if await get_staff(session, name) is not None:
        raise StaffError(Localized(zh=f"账号 {name} 已存在", en=f"The account {name} exists already"))
    staff = Staff(name=name, password_hash=hash_password(password), role=role_.value, lang=lang, created_at=utcnow(),
                  email=email.strip() if email else None, jury_chair=jury_chair)
    session.add(staff)
    await session.flush()
    log.info("staff account %s (%s) created", name, role_.value)
    return staff


async def get_staff(session: AsyncSession, name: str) -> Staff | None:
    """The account with this name (case ignored), or None."""
    # lower() rather than ILIKE: an underscore in a name is a LIKE wildcard.
    return await session.scalar(select(Staff).where(func.lower(Staff.name) == name.strip().lower()))


async def list_staff(session: AsyncSession) -> list[Staff]:
    """Every account, by name."""
    return list((await session.scalars(select(Staff).order_by(Staff.name))).all())


async def set_jury_chair(session: AsyncSession, name: str, *, chair: bool) -> Staff:
    """Make the account the jury chair, or no longer (StaffError: no such account, or a role that cannot judge)."""
    staff = await get_staff(session, name)
    if staff is None:
        raise StaffError(Localized(zh=f"没有账号 {name}", en=f"There is no account {name}"))
    if chair:
        _may_chair(staff.name, staff.role_enum)
    staff.jury_chair = chair
    await session.flush()
    log.info("staff account %s: jury chair %s", staff.name, "on" if chair else "off")
    return staff


async def remove_staff(session: AsyncSession, name: str) -> Staff:
    """Delete an account and, through the foreign key, its sessions; StaffError if there is none."""
    staff = await get_staff(session, name)
    if staff is None:
        raise StaffError(Localized(zh=f"没有账号 {name}", en=f"There is no account {name}"))
    await session.delete(staff)
    await session.flush()
    log.info("staff account %s removed", staff.name)
    return staff


async def count_staff(session: AsyncSession) -> int:
    """How many accounts exist (none: the console tells whoever starts it how to create one)."""
    return await session.scalar(select(func.count(Staff.id))) or 0
