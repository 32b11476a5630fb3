"""Login, logout, sessions and CSRF over the ASGI app."""

from __future__ import annotations

import httpx

from tests.console.conftest import PASSWORD, csrf_of, log_in


async def test_anonymous_page_request_is_sent_to_login(client: httpx.AsyncClient):
    response = await client.get("/?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fx%3D1"


async def test_anonymous_script_gets_401(client: httpx.AsyncClient):
    response = await client.get("/", headers={"accept": "application/json"})
    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录。"


async def test_login_logout_round_trip(client: httpx.AsyncClient, make_staff):
    await make_staff("li.ming", "reviewer")
    done = await log_in(client, "li.ming")
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/")
    assert home.status_code == 200 and "li.ming" in home.text
    out = await client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await client.get("/")).status_code == 303


async def test_wrong_password_is_refused(client: httpx.AsyncClient, make_staff):
    await make_staff("li.ming", "reviewer")
    done = await log_in(client, "li.ming", PASSWORD + "x")
    assert done.status_code == 401
    assert "账号或密码不正确" in done.text


async def test_language_switch_is_kept_in_the_profile(client: httpx.AsyncClient, login):
    token = await login("admin")
    switched = await client.post("/lang", data={"lang": "en", "next": "/", "csrf_token": token})
    assert switched.status_code == 303
    client.cookies.delete("kcxf_lang")  # the profile, not the cookie, keeps it
    home = await client.get("/")
    assert "Overview" in home.text and "概览" not in home.text.split("<main>")[1]


async def test_post_without_or_with_a_wrong_csrf_token_is_refused(client: httpx.AsyncClient, login):
    token = await login("reviewer")
    assert (await client.post("/lang", data={"lang": "en"})).status_code == 403
    assert (await client.post("/lang", data={"lang": "en", "csrf_token": token[:-1] + "x"})).status_code == 403
    assert (await client.post("/logout", data={"csrf_token": "nope"})).status_code == 403
    assert (await client.get("/")).status_code == 200  # still logged in
