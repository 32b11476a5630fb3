"""KCXF_ENV=production: Secure, __Host- cookies, HSTS, a configured console secret, one login per person; and, in
every environment, the earlier session ends at login, invalid requests are logged without their values, and the
review notice names only real statuses."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.runtime import Runtime
from config.clock import FixedClock
from config.settings import Settings
from console.app import create_app
from console.sessions import ConsoleSecretError
from console.staff import add_staff
from tests.conftest import copy_index
from tests.console.conftest import PASSWORD, csrf_of, log_in
from tests.processes import child_env

SECRET = "d4c1f0e8b7a69584736251403f2e1d0c"  # 32 bytes
HTTPS = "https://console.example.org"


@pytest.fixture
async def production(tmp_path: Path, database_url: str | None, kb_template: Path) -> AsyncIterator[Runtime]:
    """A runtime as a deployment has it: KCXF_ENV=production with a 32-byte console secret (the data key is in
    the environment, as tests/conftest.py sets it)."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=database_url,  # type: ignore[call-arg]
                        env="production", console_secret=SECRET)
    runtime = Runtime.open(settings)
    copy_index(kb_template, settings.data_dir)
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await add_staff(session, name="li.ming", password=PASSWORD, role="reviewer")
    yield runtime
    await runtime.close()


def _browser(app: FastAPI, base_url: str = HTTPS) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)),
                             base_url=base_url, headers={"accept": "text/html"})


async def test_production_cookies_are_secure_and_host_bound_and_hsts_is_sent(
    production: Runtime, console_clock: FixedClock,
):
    app = create_app(production, clock=console_clock)
    async with _browser(app) as browser:
        form = await browser.get("/login")
        assert form.headers["strict-transport-security"] == "max-age=31536000"
        [csrf_cookie] = form.headers.get_list("set-cookie")
        assert csrf_cookie.startswith("__Host-kcxf_csrf=")
        assert "; Secure" in csrf_cookie and "; Path=/" in csrf_cookie and "Domain" not in csrf_cookie
        done = await log_in(browser, "li.ming")
        assert done.status_code == 303
        [session_cookie] = done.headers.get_list("set-cookie")
        assert session_cookie.startswith("__Host-kcxf_session=")
        assert all(flag in session_cookie for flag in ("; Secure", "; HttpOnly", "; Path=/"))
        assert "Domain" not in session_cookie
        assert (await browser.get("/")).status_code == 200  # the browser sends them back over HTTPS
        await browser.post("/logout", data={"csrf_token": csrf_of((await browser.get("/")).text)})
        assert (await browser.get("/")).status_code == 303


async def test_development_sends_no_hsts(client: httpx.AsyncClient):
    page = await client.get("/login")
    assert "strict-transport-security" not in page.headers
    assert page.headers.get_list("set-cookie")[0].startswith("kcxf_csrf=")


@pytest.mark.parametrize("secret", [None, "x" * 31])
async def test_production_refuses_a_missing_or_short_console_secret(
    tmp_path: Path, database_url: str | None, secret: str | None,
):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=database_url,  # type: ignore[call-arg]
                        env="production", console_secret=secret)
    runtime = Runtime.open(settings)
    try:
        with pytest.raises(ConsoleSecretError, match="KCXF_CONSOLE_SECRET of at least 32 bytes"):
            create_app(runtime)
    finally:
        await runtime.close()


def test_kcxf_console_in_production_with_a_short_secret_stops_with_one_line(tmp_path: Path):
    env = child_env() | {"KCXF_DATA_DIR": str(tmp_path / "var"), "KCXF_ENV": "production",
                         "KCXF_CONSOLE_SECRET": "too short", "KCXF_CONSOLE_PORT": "1"}
    done = subprocess.run([sys.executable, "-m", "bot", "console"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "KCXF_CONSOLE_SECRET of at least 32 bytes (it has 9)" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


async def test_in_production_a_new_login_ends_the_earlier_one(production: Runtime, console_clock: FixedClock):
    app = create_app(production, clock=console_clock)
    async with _browser(app) as office, _browser(app) as laptop:
        assert (await log_in(office, "li.ming")).status_code == 303
        assert (await office.get("/")).status_code == 200
        assert (await log_in(laptop, "li.ming")).status_code == 303
        assert (await laptop.get("/")).status_code == 200
        assert (await office.get("/")).status_code == 303  # ended by the second login


async def test_logging_in_again_ends_the_session_the_browser_had(client: httpx.AsyncClient, make_staff, app):
    await make_staff("li.ming", "reviewer")
    await make_staff("zhao.lei", "reviewer")
    assert (await log_in(client, "li.ming")).status_code == 303
    before = dict(client.cookies)
    # The login form posted again over the first login (from a tab opened before it), without logging out.
    again = await client.post("/login", data={"name": "zhao.lei", "password": PASSWORD, "next": "/",
                                              "csrf_token": csrf_of((await client.get("/")).text)})
    assert again.status_code == 303
    async with _browser(app, str(client.base_url)) as copy:
        copy.cookies.update(before)
        assert (await copy.get("/")).status_code == 303  # li.ming's session is gone, not merely replaced


async def test_an_invalid_request_is_logged_without_what_was_sent(
    client: httpx.AsyncClient, login, seeded, caplog: pytest.LogCaptureFixture,
):
    token = await login("reviewer")
    caplog.set_level(logging.INFO, logger="console.app")
    secret = "E12345678-secret-answer-13812345678"  # over the field's 32 characters
    refused = await client.post(f"/records/{seeded[0].reference}/status",
                                data={"to": secret, "seen": "x", "csrf_token": token})
    assert refused.status_code == 400
    [line] = [r.getMessage() for r in caplog.records if r.name == "console.app"]
    assert f"invalid request to /records/{seeded[0].reference}/status: body.to (string_too_long)" == line
    assert secret not in caplog.text


async def test_the_review_notice_names_only_real_statuses(client: httpx.AsyncClient, login, seeded):
    await login("reviewer")
    address = f"/records/{seeded[0].reference}"
    known = await client.get(address, params={"changed": "first_review"})
    assert 'class="flash ok"' in known.text
    crafted = await client.get(address, params={"changed": "已退回，请致电 400-123-4567 补交材料"})
    assert crafted.status_code == 200
    assert 'class="flash ok"' not in crafted.text
    assert "请致电 400-123-4567" not in crafted.text  # (the address itself is in the language switch, encoded)
