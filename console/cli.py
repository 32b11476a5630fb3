"""`kcxf console` (serve the web console) and `kcxf staff …` (its accounts)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.runtime import Runtime
from console import audit
from console.staff import Role, StaffError, add_staff, list_staff, remove_staff, set_jury_chair

__all__ = ["serve", "staff_app", "web"]

staff_app = typer.Typer(help="Accounts of the committee's web console.", no_args_is_help=True)
out = Console()
T = TypeVar("T")
err = Console(stderr=True)


HostOption = Annotated[str | None, typer.Option(help="Listen on this address (default KCXF_CONSOLE_HOST, 127.0.0.1).")]
PortOption = Annotated[int | None, typer.Option(help="Listen on this port (default KCXF_CONSOLE_PORT, 8300).")]


def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the committee's web console until Ctrl-C."""
    _serve(host, port, build_knowledge=False)


def web(host: HostOption = None, port: PortOption = None) -> None:
    """Serve the web chat for entrants (/chat, and the widget other sites embed) with the console, until Ctrl-C."""
    _serve(host, port, build_knowledge=True)


def _serve(host: str | None, port: int | None, *, build_knowledge: bool) -> None:
    from console import server  # FastAPI and the pages: only these commands need them

    runtime = Runtime.open()
    host = host or runtime.settings.console_host
    port = port or runtime.settings.console_port
    if build_knowledge:
        with out.status("正在准备知识库 Preparing the knowledge base…"):
            runtime.knowledge  # noqa: B018 - build the index before the first visitor's question, not during it

    async def main() -> None:
        for line in await server.address_lines(runtime, server.url_of(host, port)):
            out.print(line, highlight=False)
        await server.serve(runtime, host=host, port=port)

    try:
        asyncio.run(main())
    except OSError as exc:
        err.print(f"[red]Cannot listen on {host}:{port}:[/red] {exc.strerror or exc}", highlight=False)
        raise typer.Exit(1) from None


def _read_password() -> str:
    """From the terminal (asked twice, not echoed), or the first line of standard input for scripts."""
    if sys.stdin.isatty():
        first = getpass.getpass("密码 Password: ")
        if getpass.getpass("再输入一次 Again: ") != first:
            err.print("两次输入的密码不一致 The passwords differ.", highlight=False)
            raise typer.Exit(1)
        return first
    return sys.stdin.readline().rstrip("\r\n")


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Account name, e.g. li.ming")],
    role: Annotated[Role, typer.Option(help="reviewer, maintainer, admin or judge (see the role table in docs/guide.md).")],
    lang: Annotated[str, typer.Option(help="Interface language: zh or en.")] = "zh",
    email: Annotated[str | None, typer.Option(help="Where judging reminders reach this account.")] = None,
    chair: Annotated[bool, typer.Option("--chair", help="The jury chair, who signs off 初审 decisions.")] = False,
) -> None:
    """Create an account; the password (at least 10 characters) is asked, or read from stdin's first line."""
    password = _read_password()

    async def work(runtime: Runtime) -> None:
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            await add_staff(session, name=name, password=password, role=role.value,
                            lang=lang if lang in ("zh", "en") else "zh", email=email, jury_chair=chair)
            if chair:
                await audit.record(session, actor="cli", action="staff.jury_chair", target=name,
                                   after={"jury_chair": True}, now=runtime.clock.now())

    _run(work)
    out.print(f"已创建 Created: {name} ({role.value}{', 评审团主席 jury chair' if chair else ''})", highlight=False)


@staff_app.command("chair")
def chair_(
    name: Annotated[str, typer.Argument(help="Account name (judge, reviewer or admin).")],
    off: Annotated[bool, typer.Option("--off", help="No longer the jury chair.")] = False,
) -> None:
    """Make an account the jury chair (评审团主席), who signs off 初审 decisions; --off takes it back."""

    async def work(runtime: Runtime) -> None:
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            staff = await set_jury_chair(session, name, chair=not off)
            await audit.record(session, actor="cli", action="staff.jury_chair", target=staff.name,
                               after={"jury_chair": not off}, now=runtime.clock.now())

    _run(work)
    out.print(f"{name}: {'不再是评审团主席 no longer the jury chair' if off else '评审团主席 jury chair'}",
              highlight=False)


@staff_app.command("list")
def list_() -> None:
    """Every account with its role and last login."""

    async def work(runtime: Runtime) -> list[tuple[str, str, str]]:
        sessions = await runtime.sessionmaker()
        async with sessions() as session:
            tz = runtime.settings.tz
            return [(s.name, s.role + (" (chair)" if s.jury_chair else ""), s.last_login_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                     if s.last_login_at else "—") for s in await list_staff(session)]

    table = Table("name", "role", "last login")
    for row in _run(work):
        table.add_row(*row)
    out.print(table)


@staff_app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Account name.")]) -> None:
    """Delete an account; its sessions end at once (the audit log keeps its name)."""

    async def work(runtime: Runtime) -> None:
        sessions = await runtime.sessionmaker()
        async with sessions() as session, session.begin():
            await remove_staff(session, name)

    _run(work)
    out.print(f"已删除 Removed: {name}", highlight=False)


def _run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    runtime = Runtime.open()

    async def main() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except StaffError as exc:
        err.print(f"{exc.message.zh}\n{exc.message.en}", highlight=False)
        raise typer.Exit(1) from None
