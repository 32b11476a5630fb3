"""Every route of the console: refused without login, refused to the wrong role, refused without the CSRF token.

EXPECTED lists every route with the roles it admits; a route added to the app without a line here fails
`test_every_route_has_an_expectation`, so no page is ever left unchecked.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from bot.runtime import Runtime
from console.staff import CHAIR_ROLES, Role, set_jury_chair
from tests.console.conftest import csrf_of, log_in
from tests.console.factories import Seeded

ALL = frozenset(Role)
REVIEW = frozenset({Role.reviewer, Role.admin})
ADMIN = frozenset({Role.admin})
MAINTAIN = frozenset({Role.maintainer, Role.admin})
JUDGE = frozenset({Role.judge, Role.reviewer, Role.admin})
# No role by itself: only an account marked as the jury chair (a judge, reviewer or admin) signs off.
CHAIR: frozenset[Role] = frozenset()
PUBLIC = None

# (method, path template) → roles admitted (None: public). Form data for POSTs that need fields to get past
# validation is in FORMS.
EXPECTED: dict[tuple[str, str], frozenset[Role] | None] = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): ALL,
    ("POST", "/lang"): PUBLIC,
    ("GET", "/"): ALL,
    ("GET", "/queue"): REVIEW,
    ("GET", "/queue/export.csv"): REVIEW,
    ("GET", "/queue/export.xlsx"): REVIEW,
    ("GET", "/records/{reference}"): REVIEW,
    ("GET", "/records/{reference}/form"): REVIEW,
    ("GET", "/records/{reference}/attachments/{index}"): REVIEW,
    ("POST", "/records/{reference}/status"): REVIEW,
    ("GET", "/audit"): ADMIN,
    ("GET", "/knowledge"): MAINTAIN,
    ("GET", "/knowledge/faq"): MAINTAIN,
    ("GET", "/knowledge/faq/new"): MAINTAIN,
    ("POST", "/knowledge/faq/new"): MAINTAIN,
    ("GET", "/knowledge/faq/{faq_id}"): MAINTAIN,
    ("POST", "/knowledge/faq/{faq_id}"): MAINTAIN,
    ("POST", "/knowledge/faq/{faq_id}/delete"): MAINTAIN,
    ("GET", "/knowledge/unanswered"): MAINTAIN,
    ("POST", "/knowledge/unanswered/{anchor}/answer"): MAINTAIN,
    ("POST", "/knowledge/unanswered/{anchor}/ignore"): MAINTAIN,
    ("GET", "/knowledge/test"): MAINTAIN,
    ("GET", "/knowledge/documents"): MAINTAIN,
    ("POST", "/knowledge/documents"): MAINTAIN,
    ("POST", "/knowledge/documents/{doc}/delete"): MAINTAIN,
    ("GET", "/judging"): REVIEW,
    ("POST", "/judging/rounds"): REVIEW,
    ("GET", "/judging/rounds/{round_id}"): REVIEW,
    ("POST", "/judging/rounds/{round_id}/close"): REVIEW,
    ("POST", "/judging/rounds/{round_id}/remind"): REVIEW,
    ("POST", "/judging/assignments/{assignment_id}/reopen"): REVIEW,
    ("GET", "/judging/rounds/{round_id}/compare"): REVIEW,
    ("GET", "/judging/rounds/{round_id}/results"): REVIEW,
    ("POST", "/judging/rounds/{round_id}/decide"): REVIEW,
    ("GET", "/judging/rounds/{round_id}/finalists.csv"): REVIEW,
    ("GET", "/judging/rounds/{round_id}/finalists.xlsx"): REVIEW,
    ("GET", "/judge"): JUDGE,
    ("POST", "/judge/assignments/{assignment_id}/declare"): JUDGE,
    ("GET", "/judge/assignments/{assignment_id}"): JUDGE,
    ("POST", "/judge/assignments/{assignment_id}"): JUDGE,
    ("POST", "/judge/assignments/{assignment_id}/draft"): JUDGE,
    ("GET", "/judge/assignments/{assignment_id}/form"): JUDGE,
    ("GET", "/judge/assignments/{assignment_id}/attachments/{index}"): JUDGE,
    ("GET", "/judge/rounds/{round_id}/sheet.xlsx"): JUDGE,
    ("POST", "/judge/rounds/{round_id}/sheet"): JUDGE,
    ("GET", "/judge/rounds/{round_id}/results"): JUDGE,
    ("GET", "/judging/rounds/{round_id}/sign-off"): CHAIR,
    ("POST", "/judging/rounds/{round_id}/sign-off"): CHAIR,
    ("POST", "/judging/rounds/{round_id}/send-back"): CHAIR,
    # The web chat, for entrants: no staff login; its calls check a CSRF token bound to the visitor cookie
    # (tests/console/test_webchat.py), not the console's.
    ("GET", "/chat"): PUBLIC,
    ("POST", "/chat/lang"): PUBLIC,
    ("POST", "/chat/api/messages"): PUBLIC,
    ("POST", "/chat/api/upload"): PUBLIC,
    ("GET", "/chat/api/files/{token}"): PUBLIC,
    ("GET", "/chat/api/stream"): PUBLIC,
    ("POST", "/chat/api/email"): PUBLIC,
    ("POST", "/chat/api/email/verify"): PUBLIC,
    ("GET", "/chat/signin/{link}"): PUBLIC,
    ("POST", "/chat/signin/{link}"): PUBLIC,
}
FORMS: dict[str, dict[str, str]] = {
    "/records/{reference}/status": {"to": "first_review", "seen": "", "note": ""},
    "/lang": {"lang": "en", "next": "/"},
    "/login": {"name": "nobody", "password": "x" * 12},
    "/knowledge/faq/new": {"section": "", "questions_zh": "", "answer_zh": ""},
    "/knowledge/faq/{faq_id}": {"digest": "0", "section": "五", "questions_zh": "截止时间是什么时候？", "answer_zh": "x"},
    "/judging/rounds": {"award": "pioneer_product", "stage": "first"},
    "/knowledge/unanswered/{anchor}/answer": {"faq_id": "deadline", "seen": ""},
    "/judging/rounds/{round_id}/send-back": {"note": "x"},
}


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, through included routers (FastAPI keeps them nested)."""
    found: set[tuple[str, str]] = set()

    def walk(items: list) -> None:
        for route in items:
            if isinstance(route, APIRoute):
                found.update((method, route.path) for method in route.methods - {"HEAD"})
            elif (included := getattr(route, "original_router", None)) is not None:
                walk(included.routes)

    walk(app.routes)
    return found


def concrete(path: str, seeded: list[Seeded]) -> str:
    # The first seeded record; attachment 0 may not exist, which is fine: the check comes before the look-up.
    return (path.replace("{reference}", seeded[0].reference).replace("{index}", "0")
            .replace("{faq_id}", "deadline").replace("{anchor}", "1").replace("{doc}", "guideline-2024")
            .replace("{round_id}", "1").replace("{assignment_id}", "1"))


def test_every_route_has_an_expectation(app: FastAPI):
    assert routes(app) == set(EXPECTED)


@pytest.mark.parametrize(("method", "path"), [k for k, v in EXPECTED.items() if v is not None])
async def test_anonymous_requests_are_refused(client: httpx.AsyncClient, seeded, method: str, path: str):
    url = concrete(path, seeded)
    page = await client.request(method, url, data=FORMS.get(path))
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    script = await client.request(method, url, data=FORMS.get(path), headers={"accept": "application/json"})
    assert script.status_code == 401


async def make_chair(runtime: Runtime, name: str) -> None:
    sessions = await runtime.sessionmaker()
    async with sessions() as session, session.begin():
        await set_jury_chair(session, name, chair=True)


@pytest.mark.parametrize(("role", "chair"), [(r, False) for r in Role] + [(r, True) for r in sorted(CHAIR_ROLES)])
async def test_each_role_reaches_exactly_its_routes(client: httpx.AsyncClient, console_runtime: Runtime, make_staff,
                                                    seeded, role: Role, chair: bool):
    name = await make_staff(f"{role.value}1", role.value)
    if chair:  # the jury chair: the role's routes, and the sign-off
        await make_chair(console_runtime, name)
    assert (await log_in(client, name)).status_code == 303
    token = csrf_of((await client.get("/")).text)
    for (method, path), roles in EXPECTED.items():
        if roles is None or path == "/logout":
            continue
        data = {**FORMS.get(path, {}), "csrf_token": token} if method == "POST" else None
        response = await client.request(method, concrete(path, seeded), data=data)
        if role in roles or (chair and roles is CHAIR):
            assert response.status_code not in (401, 403), (role, chair, method, path, response.status_code)
        else:
            assert response.status_code == 403, (role, chair, method, path, response.status_code)
            assert "无权" in response.text
            if roles is CHAIR and role in CHAIR_ROLES:  # may judge, but is not the chair: told who may sign off
                assert "只有评审团主席" in response.text


@pytest.mark.parametrize(("method", "path"), [k for k in EXPECTED if k[0] == "POST" and not k[1].startswith("/chat")])
async def test_posts_without_or_with_a_wrong_csrf_token_are_refused(
    client: httpx.AsyncClient, console_runtime: Runtime, make_staff, seeded, method: str, path: str
):
    await make_staff("admin1", "admin")
    await make_chair(console_runtime, "admin1")  # past the role check of the chair's routes, to the token's
    if path != "/login":
        assert (await log_in(client, "admin1")).status_code == 303
    token = csrf_of((await client.get("/login" if path == "/login" else "/")).text)
    url = concrete(path, seeded)
    missing = await client.post(url, data=FORMS.get(path, {}))
    wrong = await client.post(url, data={**FORMS.get(path, {}), "csrf_token": token[::-1]})
    header_wrong = await client.post(url, data=FORMS.get(path, {}), headers={"x-csrf-token": "forged"})
    assert (missing.status_code, wrong.status_code, header_wrong.status_code) == (403, 403, 403)
    assert "表单已过期" in missing.text
    right = await client.post(url, data={**FORMS.get(path, {}), "csrf_token": token})
    assert right.status_code != 403


async def test_the_anonymous_token_of_one_browser_does_not_work_in_another(app: FastAPI, make_staff):
    await make_staff("li.ming", "reviewer")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console.test") as victim, \
            httpx.AsyncClient(transport=transport, base_url="http://console.test") as attacker:
        token = csrf_of((await attacker.get("/login")).text)
        await victim.get("/login")  # the victim has a token cookie of its own
        forged = await victim.post("/login", data={"name": "li.ming", "password": "x" * 12, "csrf_token": token})
        assert forged.status_code == 403


async def test_security_headers_on_every_page(client: httpx.AsyncClient):
    page = await client.get("/login")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
