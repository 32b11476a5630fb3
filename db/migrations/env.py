"""Alembic's environment: db.migrate hands it a connection that is locked and inside a transaction."""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.autogenerate.api import AutogenContext
from alembic.operations.ops import MigrationScript
from sqlalchemy.types import TypeDecorator

config = context.config
connection = config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through db.migrate or `kcxf db`, which hold the migration lock")


def _render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    # A revision must not change when an application type does: UTCDateTime is written as the column it is.
    if kind == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _skip_empty(context_: Any, revision: Any, directives: list[MigrationScript]) -> None:
    # Autogenerating when the models and the migrations agree: write nothing rather than an empty revision.
    script = directives[0]
    autogenerating = config.attributes.get("target_metadata") is not None
    if autogenerating and script.upgrade_ops is not None and script.upgrade_ops.is_empty():
        directives.clear()


context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    # SQLite alters most things only by copying the table; batch mode does that there and plain ALTERs
    # elsewhere, so one revision serves both databases.
    render_as_batch=True,
    render_item=_render_item,
    process_revision_directives=_skip_empty,
)
with context.begin_transaction():
    context.run_migrations()
