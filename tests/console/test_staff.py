"""Staff accounts: argon2 hashes, validation, and `kcxf staff …` run as a real subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher

from bot.runtime import Runtime
from config.settings import Settings
from console import staff as staff_module
from console.app import create_app
from console.staff import (
    PasswordChecks,
    Role,
    Staff,
    StaffError,
    add_staff,
    check_password,
    get_staff,
    hash_password,
    needs_rehash,
)
from tests.console.conftest import BASE_URL, PASSWORD, csrf_of, log_in


def test_passwords_are_argon2id_hashes_with_their_own_salt():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    staff = Staff(name="li.ming", password_hash=first, role="reviewer")
    assert check_password(staff, PASSWORD)
    assert not check_password(staff, PASSWORD + " ")
    assert not check_password(None, PASSWORD)  # an unknown account
    assert not check_password(Staff(name="x", password_hash="not a hash", role="admin"), PASSWORD)


class _WatchedHasher(PasswordHasher):
    """The real argon2id hasher (default parameters), noting for each call whether it ran on an event loop and
    how many ran at once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bool]] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def _note(self, what: str) -> None:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        with self._lock:
            self.calls.append((what, on_loop))
            self.running += 1
            self.most = max(self.most, self.running)

    def _done(self) -> None:
        with self._lock:
            self.running -= 1

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:  # noqa: A002 - the base's name
        self._note("verify")
        try:
            return super().verify(hash, password)
        finally:
            self._done()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._note("hash")
        try:
            return super().hash(password, salt=salt)
        finally:
            self._done()


@pytest.fixture
def watched_hasher(monkeypatch: pytest.MonkeyPatch) -> _WatchedHasher:
    hasher = _WatchedHasher()
    monkeypatch.setattr(staff_module, "_hasher", hasher)
    return hasher


async def test_login_checks_and_rehashes_the_password_off_the_event_loop(
    client: httpx.AsyncClient, make_staff, console_runtime: Runtime, watched_hasher: _WatchedHasher,
):
    await make_staff("li.ming", "reviewer")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    sessions = await console_runtime.sessionmaker()
    async with sessions() as session, session.begin():
        (await get_staff(session, "li.ming")).password_hash = weak  # an older, weaker hash: rehashed at login
    watched_hasher.calls.clear()  # creating the account hashed too (as `kcxf staff add` does)
    assert (await log_in(client, "nobody", "wrong password!")).status_code == 401
    assert (await log_in(client, "li.ming")).status_code == 303
    assert watched_hasher.calls == [("verify", False), ("verify", False), ("hash", False)]
    async with sessions() as session:
        stored = await get_staff(session, "li.ming")
        assert stored is not None and stored.password_hash != weak and not needs_rehash(stored)


async def test_at_most_two_password_checks_run_at_once(watched_hasher: _WatchedHasher):
    staff = Staff(name="li.ming", password_hash=hash_password(PASSWORD), role="reviewer")
    checks = PasswordChecks()
    results = await asyncio.gather(*(checks.check(staff, PASSWORD) for _ in range(6)))
    assert results == [True] * 6
    assert watched_hasher.most <= 2 and all(not on_loop for _, on_loop in watched_hasher.calls[1:])


@pytest.mark.parametrize(("name", "password", "role", "says"), [
    ("a", PASSWORD, "reviewer", "账号名须为 2–64 个"),
    ("li ming", PASSWORD, "reviewer", "账号名须为"),
    ("li.ming", "short", "reviewer", "密码至少 10 个字符"),
    ("li.ming", PASSWORD, "boss", "未知角色“boss”"),
])
async def test_bad_accounts_are_refused_with_a_reason(sessionmaker, name, password, role, says):
    async with sessionmaker() as session:
        with pytest.raises(StaffError) as refused:
            await add_staff(session, name=name, password=password, role=role)
    assert says in refused.value.message.zh and refused.value.message.en


async def test_names_are_unique_whatever_their_case(sessionmaker):
    async with sessionmaker() as session:
        await add_staff(session, name="Li.Ming", password=PASSWORD, role="admin")
        with pytest.raises(StaffError, match="exists already"):
            await add_staff(session, name="li.ming", password=PASSWORD, role="reviewer")
        assert (await get_staff(session, "LI.MING")).role == Role.admin
        assert await get_staff(session, "li_ming") is None  # _ is not a wildcard


def kcxf(data: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCXF_")} | {"KCXF_DATA_DIR": str(data)}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, cwd=data.parent)


async def test_staff_cli_creates_lists_and_removes_accounts(tmp_path: Path):
    data = tmp_path / "var"
    made = kcxf(data, "staff", "add", "wang.fang", "--role", "reviewer", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    assert "wang.fang (reviewer)" in made.stdout
    assert PASSWORD not in made.stdout + made.stderr
    short = kcxf(data, "staff", "add", "zhao.lei", "--role", "admin", stdin="tooshort\n")
    assert short.returncode == 1 and "密码至少 10 个字符" in short.stderr and "at least 10" in short.stderr
    again = kcxf(data, "staff", "add", "WANG.FANG", "--role", "admin", stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "已存在" in again.stderr
    listed = kcxf(data, "staff", "list")
    assert listed.returncode == 0 and "wang.fang" in listed.stdout and "zhao.lei" not in listed.stdout

    # The account works in the console on the same data folder; removing it ends its session at once.
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    try:
        app = create_app(runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
                                     headers={"accept": "text/html"}) as client:
            assert (await log_in(client, "wang.fang")).status_code == 303
            assert (await client.get("/queue")).status_code == 200
            gone = kcxf(data, "staff", "remove", "wang.fang")
            assert gone.returncode == 0, gone.stderr
            assert (await client.get("/queue")).status_code == 303
    finally:
        await runtime.close()


async def test_logout_ends_the_session_for_a_copied_cookie_too(client: httpx.AsyncClient, app, make_staff):
    await make_staff("li.ming", "reviewer")
    await log_in(client, "li.ming")
    copied = dict(client.cookies)
    await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/")).text)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, cookies=copied,
                                 headers={"accept": "text/html"}) as thief:
        assert (await thief.get("/")).status_code == 303


async def test_a_session_in_use_still_ends_after_its_lifetime(client: httpx.AsyncClient, make_staff, console_clock):
    await make_staff("li.ming", "reviewer")
    await log_in(client, "li.ming")
    for _ in range(35):  # a page every 20 minutes: never idle for long
        console_clock.advance(timedelta(minutes=20))
        assert (await client.get("/")).status_code == 200
    console_clock.advance(timedelta(minutes=19))  # 11 h 59 min since the login
    assert (await client.get("/")).status_code == 200
    console_clock.advance(timedelta(minutes=2))
    assert (await client.get("/")).status_code == 303


async def test_a_session_left_idle_ends(client: httpx.AsyncClient, make_staff, console_clock):
    await make_staff("li.ming", "reviewer")
    await log_in(client, "li.ming")
    console_clock.advance(timedelta(minutes=29))
    assert (await client.get("/")).status_code == 200  # in use: the idle clock starts again
    console_clock.advance(timedelta(minutes=29))
    assert (await client.get("/")).status_code == 200
    console_clock.advance(timedelta(minutes=31))  # KCXF_CONSOLE_IDLE_MINUTES is 30 by default
    assert (await client.get("/")).status_code == 303


async def test_a_forged_or_tampered_cookie_opens_nothing(client: httpx.AsyncClient, make_staff):
    await make_staff("li.ming", "reviewer")
    await log_in(client, "li.ming")
    token = client.cookies["kcxf_session"]
    client.cookies.set("kcxf_session", token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert (await client.get("/")).status_code == 303
    client.cookies.set("kcxf_session", "anything")
    assert (await client.get("/")).status_code == 303


async def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client: httpx.AsyncClient, make_staff):
    await make_staff("li.ming", "reviewer")
    sent = await client.get("/queue?award=pioneer_product")
    assert sent.headers["location"] == "/login?next=/queue%3Faward%3Dpioneer_product"
    form = await client.get(sent.headers["location"])
    assert 'name="next" value="/queue?award=pioneer_product"' in form.text
    back = await client.post("/login", data={"name": "li.ming", "password": PASSWORD, "csrf_token": csrf_of(form.text),
                                             "next": "/queue?award=pioneer_product"})
    assert back.headers["location"] == "/queue?award=pioneer_product"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        await client.post("/logout", data={"csrf_token": csrf_of((await client.get("/")).text)})
        form = await client.get("/login")
        done = await client.post("/login", data={"name": "li.ming", "password": PASSWORD, "next": evil,
                                                 "csrf_token": csrf_of(form.text)})
        assert done.headers["location"] == "/", evil


def test_the_session_secret_is_generated_once_and_private(tmp_path: Path):
    from console.sessions import SECRET_FILE, session_secret

    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    first = session_secret(settings)
    assert session_secret(settings) == first and len(first) >= 48
    path = tmp_path / "var" / SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    fixed = Settings(_env_file=None, data_dir=tmp_path / "var", console_secret="from the environment")  # type: ignore[call-arg]
    assert session_secret(fixed) == b"from the environment"
