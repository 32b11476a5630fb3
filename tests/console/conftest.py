"""Console fixtures: the app on a fresh database, an httpx client speaking ASGI to it, accounts and logins."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from bot.runtime import Runtime
from config.clock import FixedClock
from config.settings import Settings
from console.app import create_app
from console.staff import add_staff
from tests.conftest import copy_index
from tests.console.factories import Seeded, seed

PASSWORD = "correct horse battery"
BASE_URL = "http://console.test"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console_clock() -> FixedClock:
    """The console's clock: sessions, the login throttle and review times read it."""
    return FixedClock(datetime(2024, 10, 22, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")))


@pytest.fixture
async def console_runtime(settings: Settings, kb_template: Path) -> AsyncIterator[Runtime]:
    """A runtime on the test settings (fresh SQLite file under tmp_path, a copy of the built knowledge index),
    closed afterwards."""
    runtime = Runtime.open(settings)
    copy_index(kb_template, settings.data_dir)
    yield runtime
    await runtime.close()


@pytest.fixture
def app(console_runtime: Runtime, console_clock: FixedClock) -> FastAPI:
    """The console application."""
    return create_app(console_runtime, clock=console_clock)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client (asks for HTML, keeps cookies, does not follow redirects) talking ASGI to the app."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers={"accept": "text/html"}) as c:
        yield c


@pytest.fixture
def make_staff(console_runtime: Runtime) -> Callable[..., Awaitable[str]]:
    """Create an account (name, role) with PASSWORD; returns the name."""

    async def make(name: str, role: str, *, lang: str = "zh") -> str:
        sessions = await console_runtime.sessionmaker()
        async with sessions() as session, session.begin():
            await add_staff(session, name=name, password=PASSWORD, role=role, lang=lang)
        return name

    return make


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = CSRF_INPUT.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def log_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    """Log in through the real form: fetch it (for its CSRF cookie and token), then post it."""
    form = await client.get("/login")
    return await client.post("/login", data={"name": name, "password": password, "next": "/",
                                              "csrf_token": csrf_of(form.text)})


@pytest.fixture
def login(client: httpx.AsyncClient, make_staff: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """Create an account of a role and log the client in with it; returns the CSRF token of the session."""

    async def do(role: str, name: str | None = None, *, lang: str = "zh") -> str:
        name = await make_staff(name or f"{role}1", role, lang=lang)
        done = await log_in(client, name)
        assert done.status_code == 303, done.text
        page = await client.get("/")
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    return do


@pytest.fixture
async def seeded(console_runtime: Runtime) -> list[Seeded]:
    """Twelve entries (every award; every fourth from abroad, in English), three a day from 16 September."""
    return await seed(console_runtime, 12, per_day=3)
