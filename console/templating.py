"""Server-rendered pages: one Jinja2 environment (autoescaped), and what every template can use.

Every template gets `t(key, **vars)` (the interface texts of prompts/<lang>.yaml in the reader's language),
`t_or(key, fallback)`, `lang`, `staff` (None before login), `csrf_token` (for the hidden field of every form; `csrf_field()` writes it),
`nav` (the entries of the nav bar this staff member may open) and `path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from console import csrf
from console.staff import Role
from intake.queue import status_label

__all__ = ["TEMPLATES_DIR", "NavItem", "page", "request_lang", "templates"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "kcxf_lang"
LANGS = ("zh", "en")


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the nav bar: where it goes, the text key of its label, who sees it."""

    path: str
    key: str
    roles: frozenset[Role] = frozenset(Role)

    def active(self, path: str) -> bool:
        """Whether the page at `path` belongs to this entry."""
        return path == self.path if self.path == "/" else path == self.path or path.startswith(self.path + "/")


def request_lang(request: Request) -> str:
    """The reader's language: the page's own choice (the web chat's), their profile's, the cookie's, or Chinese."""
    chosen = getattr(request.state, "lang", None)
    if chosen in LANGS:
        return str(chosen)
    staff = getattr(request.state, "staff", None)
    if staff is not None and staff.lang in LANGS:
        return str(staff.lang)
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGS else "zh"


def _context(request: Request) -> dict[str, Any]:
    lang = request_lang(request)
    texts = request.app.state.runtime.texts
    keys = texts.keys()
    staff = getattr(request.state, "staff", None)
    token = getattr(request.state, "csrf_token", None) or csrf.expected_token(request) or ""
    settings = request.app.state.runtime.settings

    def t(key: str, **vars: object) -> str:
        return str(texts.t(key, lang, **vars))

    def t_or(key: str, fallback: str) -> str:
        return str(texts.t(key, lang)) if key in keys else fallback

    def local(instant: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return instant.astimezone(settings.tz).strftime(fmt) if instant else "—"

    def change_of(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
        """An audit entry's before/after as people read it: statuses by their labels, the version left out."""
        return describe_change(before, after, lang=lang, t_or=t_or)

    def actor_name(actor: str) -> str:
        """Who made a status change: the entrant, a staff member by name, or the command line."""
        kind, _, who = actor.partition(":")
        if kind == "user":
            return t("console.record.by_entrant")
        if kind == "staff" and who:
            return who
        return t_or(f"console.record.by_{kind}", actor)

    def csrf_field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(csrf.FIELD, token)

    nav = [item for item in request.app.state.nav if staff is not None and staff.role in item.roles | {Role.admin}]
    return {
        "t": t,
        "t_or": t_or,
        "lang": lang,
        "staff": staff,
        "csrf_token": token,
        "csrf_field": csrf_field,
        "nav": nav,
        "path": request.url.path,
        "local": local,
        "change_of": change_of,
        "actor_name": actor_name,
        "filesize": filesize,
        "campaign": request.app.state.runtime.campaign,
    }


def describe_change(
    before: dict[str, Any] | None, after: dict[str, Any] | None, *, lang: str, t_or: Any
) -> str:
    """'状态：终审中 → 入围 · count: 12', from an audit entry's before and after."""
    before, after = before or {}, after or {}
    parts: list[str] = []
    for key in dict.fromkeys([*before, *after]):
        if key == "version":  # kept for forensics, noise on the page
            continue
        old, new = (_shown(side.get(key), key, lang) if key in side else None for side in (before, after))
        label = t_or(f"console.audit.fields.{key}", key)
        if old is not None and new is not None:
            parts.append(f"{label}: {old} → {new}")
        else:
            parts.append(f"{label}: {new if new is not None else old}")
    return " · ".join(parts)


def _shown(value: Any, key: str, lang: str) -> str:
    if key == "status" and isinstance(value, str):
        return status_label(value).get(lang)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def filesize(size: int) -> str:
    """1.2 MB, 340 KB, 12 B."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        # Everything an entrant typed reaches these pages: escaping is on for every template, not just *.html.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nl2br"] = lambda text: Markup("<br>").join(escape(str(text)).split("\n"))
    return env


templates = Jinja2Templates(env=_environment(), context_processors=[_context])


def page(request: Request, template: str, /, status_code: int = 200, **context: Any) -> Response:
    """Render a template with the shared context."""
    return templates.TemplateResponse(request, template, context, status_code=status_code)
