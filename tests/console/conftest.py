"""Console fixtures: the app on a fresh database, an httpx client speaking ASGI to it, accounts and logins."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
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


# ----------------------------------------------------------------------------------------------- browser tests

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
T = TypeVar("T")


@dataclass
class LiveConsole:
    """The console served by uvicorn on 127.0.0.1 in a background thread, with its own event loop.

    `call(coroutine)` runs a coroutine on the server's loop (the runtime's database engine lives there): seed
    entries, create accounts, read what a page did, or ask the runtime's engine as an entrant would.
    """

    url: str
    runtime: Runtime
    loop: asyncio.AbstractEventLoop

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 120) -> T:
        """Run `coroutine` on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def add_staff(self, name: str, role: str, *, lang: str = "zh") -> str:
        """Create an account with PASSWORD."""

        async def add() -> None:
            sessions = await self.runtime.sessionmaker()
            async with sessions() as session, session.begin():
                await add_staff(session, name=name, password=PASSWORD, role=role, lang=lang)

        self.call(add())
        return name


@contextlib.contextmanager
def serving(settings: Settings, kb_template: Path, **config: Any) -> Iterator[LiveConsole]:
    """A real console (with the web chat) on a free loopback port, on `settings`' data folder with a copy of the
    built knowledge index; stopped afterwards. `config`: more uvicorn.Config options."""
    runtime = Runtime.open(settings)
    copy_index(kb_template, settings.data_dir)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, **config))
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        try:
            await server.serve()
        finally:
            await runtime.close()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), name="live-console", daemon=True)
    thread.start()
    for _ in range(600):
        if server.started or not thread.is_alive():
            break
        time.sleep(0.05)
    assert server.started, "the console did not start"
    try:
        yield LiveConsole(url=f"http://127.0.0.1:{port}", runtime=runtime, loop=loop)
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()


@pytest.fixture
def live_console(tmp_path: Path, kb_template: Path) -> Iterator[LiveConsole]:
    """A real console on a free loopback port, on a fresh data folder; stopped after the test."""
    with serving(Settings(_env_file=None, data_dir=tmp_path / "live"), kb_template) as live:  # type: ignore[call-arg]
        yield live


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by Playwright (its own browser download cannot work here)."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--lang=zh-CN"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies) in Chinese, wide enough for the queue, accepting downloads."""
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1400, "height": 900},
                                   accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()


def browser_login(page: Any, live: LiveConsole, name: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person does."""
    page.goto(live.url + "/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button")
    page.wait_for_url(live.url + "/")


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as tests/artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
