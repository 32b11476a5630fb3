"""`kcxf db …`: the configured database's schema: where it is, bring it up or down, write a new revision."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from config.settings import Settings
from db import migrate
from db.models import load_models

__all__ = ["app"]

app = typer.Typer(help="The database schema (Alembic migrations in db/migrations/versions).", no_args_is_help=True)
out = Console(highlight=False)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `head` is the newest.")] = "head",
) -> None:
    """Migrate the configured database (KCXF_DATABASE_URL, or the SQLite file in KCXF_DATA_DIR) forward."""
    url = Settings().db_url
    asyncio.run(migrate.upgrade(url, revision))
    _print_current(url)


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision; `base` drops every table.")]) -> None:
    """Migrate the configured database back to REVISION (its data in the dropped tables and columns is lost)."""
    url = Settings().db_url
    asyncio.run(migrate.downgrade(url, revision))
    _print_current(url)


@app.command()
def current() -> None:
    """The revision the configured database is at, and whether that is the newest."""
    _print_current(Settings().db_url)


@app.command()
def revision(
    message: Annotated[str, typer.Argument(help="What the revision changes, e.g. 'staff and audit tables'.")],
    url: Annotated[str | None, typer.Option(
        help="Compare against this database (at head) instead of a temporary SQLite file.")] = None,
    empty: Annotated[bool, typer.Option("--empty", help="Write an empty revision for a data migration.")] = False,
) -> None:
    """Write a new revision (from a source checkout) with every table and column the models add; read it after."""
    metadata = None if empty else load_models()

    async def generate(target: str) -> Path | None:
        await migrate.upgrade(target)
        return await migrate.revision(target, message=message, metadata=metadata)

    if url is not None:
        path = asyncio.run(generate(url))
    else:
        with tempfile.TemporaryDirectory(prefix="kcxf-revision-") as tmp:
            path = asyncio.run(generate(f"sqlite+aiosqlite:///{Path(tmp) / 'head.db'}"))
    if path is None:
        out.print("The models and the migrations agree: nothing to write.")
        return
    out.print(f"Wrote {path}\nRead it, tidy it, and run the tests on SQLite and PostgreSQL before committing it.")


def _print_current(url: str) -> None:
    at = asyncio.run(migrate.current(url))
    newest = migrate.heads()
    if not at:
        out.print(f"not migrated (newest: {', '.join(newest)})")
    elif set(at) == set(newest):
        out.print(f"{', '.join(at)} (head)")
    else:
        out.print(f"{', '.join(at)} (newest: {', '.join(newest)}; run `kcxf db upgrade`)")
