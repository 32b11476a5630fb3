"""`kcxf queue …`: the committee's queue from the command line: list, show, export, change status.

Also the data-protection commands the top-level `kcxf` registers: purge (retention) and rekey (key rotation).
Identity numbers and phones are masked in what show and export print unless --unmasked is given.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.runtime import Runtime
from config import Campaign
from db.base import utcnow
from intake import notify, queue
from intake.data_keys import new_key
from intake.export import record_json, to_csv
from intake.forms import Field, FieldGroup, Form, is_empty
from intake.rekey import reseal_all
from intake.retention import PurgeReport, purge_abandoned
from intake.sensitive import AnswerMask

__all__ = ["app", "keygen", "purge", "rekey"]

app = typer.Typer(help="The committee's queue of submitted entries.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ACTOR = "cli"
_UNMASKED_HELP = (
    "Show identity numbers and phone numbers in full. For authorised committee staff only; "
    "keep what is printed or written as confidential as the database."
)
Unmasked = Annotated[bool, typer.Option("--unmasked", help=_UNMASKED_HELP)]


class Format(StrEnum):
    """Export formats."""

    csv = "csv"
    json = "json"


def _run(runtime: Runtime, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one piece of database work and release the runtime's connections afterwards."""

    async def main() -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


def _local(runtime: Runtime, instant: datetime | None) -> str:
    return instant.astimezone(runtime.settings.tz).strftime("%Y-%m-%d %H:%M") if instant else "—"


def _award_name(campaign: Campaign, award_id: str) -> str:
    try:
        return campaign.award(award_id).name.zh
    except KeyError:
        return award_id


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option(help="Only this status (id or label, e.g. first_review).")] = None,
    award: Annotated[str | None, typer.Option(help="Only this award id, e.g. pioneer_product.")] = None,
) -> None:
    """The submitted entries, oldest first, with their status and submission time."""

    async def work(runtime: Runtime) -> list[queue.Submission]:
        async with (await runtime.sessionmaker())() as session:
            return await queue.list_submissions(session, status=_status_id(status) if status else None, award_id=award)

    runtime = Runtime.open()
    records = _run(runtime, work)
    table = Table("reference", "award", "entrant", "status", f"submitted ({runtime.settings.timezone})")
    for r in records:
        table.add_row(
            r.reference,
            escape(_award_name(runtime.campaign_of(r.edition), r.award_id)),
            escape(r.entrant_name),
            queue.status_label(r.status).zh,
            _local(runtime, r.created_at),
        )
    out.print(table)
    out.print(f"{len(records)} entries", highlight=False)


@app.command()
def show(
    reference: Annotated[str, typer.Argument(help="Reference, e.g. KCXF-2024-00017.")],
    unmasked: Unmasked = False,
) -> None:
    """One entry: its record, every answer grouped by form section, its attachments and its history."""

    async def work(runtime: Runtime) -> tuple[queue.Submission, list[queue.StatusChange]] | None:
        async with (await runtime.sessionmaker())() as session:
            record = await queue.get_submission(session, reference)
            if record is None:
                return None
            return record, await queue.history_of(session, record)

    runtime = Runtime.open()
    found = _run(runtime, work)
    if found is None:
        err.print(f"No entry {reference!r}.", highlight=False)
        raise typer.Exit(1)
    record, history = found
    head = Table.grid(padding=(0, 2))
    for label, value in (
        ("编号 reference", record.reference),
        ("邮件标题 subject", record.subject),
        ("参选类别 award", f"{_award_name(runtime.campaign_of(record.edition), record.award_id)} ({record.award_id})"),
        ("参选者 entrant", record.entrant_name),
        ("状态 status", f"{queue.status_label(record.status).zh} ({record.status})"),
        ("提交 submitted", _local(runtime, record.created_at)),
        ("更新 updated", _local(runtime, record.updated_at)),
        ("已发邮件 mailed", _local(runtime, record.mailed_at)),
        ("申报表 form file", record.form_file or "—"),
        ("用户 user id", str(record.user_id)),
    ):
        head.add_row(f"[bold]{label}[/bold]", _escape(value))
    out.print(head)
    form = runtime.forms_of(record.edition).get(record.award_id)
    for title, rows in _sections(form, _shown(runtime, record.answers, unmasked=unmasked)):
        table = Table(title=title, title_justify="left", show_header=False, expand=False)
        table.add_column("field", style="bold")
        table.add_column("answer", overflow="fold")
        for label, value in rows:
            table.add_row(label, value)
        out.print(table)
    files = Table("attachment", "size", "type", "path", title="附件 attachments", title_justify="left")
    for stored in record.stored_attachments:
        files.add_row(escape(stored.name), f"{stored.size:,}", stored.mime_type, escape(stored.path))
    out.print(files)
    changes = Table("when", "from", "to", "actor", "note", title="历史 history", title_justify="left")
    for change in history:
        changes.add_row(
            _local(runtime, change.created_at),
            queue.status_label(change.from_status).zh if change.from_status else "—",
            queue.status_label(change.to_status).zh,
            escape(change.actor),
            escape(change.note),
        )
    out.print(changes)


@app.command()
def export(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="json: every field; csv: one row per entry.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (CSV with a BOM, for Excel); default stdout.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    award: Annotated[str | None, typer.Option(help="Only this award id.")] = None,
    unmasked: Unmasked = False,
) -> None:
    """Every entry with all its fields and answers, as a JSON array or a CSV table."""

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with (await runtime.sessionmaker())() as session:
            records = await queue.list_submissions(session, status=_status_id(status) if status else None, award_id=award)
            masking = None if unmasked else AnswerMask.of(runtime.forms.values())
            return [
                record_json(runtime.campaign_of(r.edition), r, await queue.history_of(session, r), masking=masking)
                for r in records
            ]

    objects = _run(Runtime.open(), work)
    if unmasked:
        err.print("Identity numbers and phone numbers are exported in full: authorised staff only.", highlight=False)
    if fmt is Format.json:
        text = json.dumps(objects, ensure_ascii=False, indent=2) + "\n"
        encoding = "utf-8"
    else:
        text = to_csv(objects)
        encoding = "utf-8-sig"  # Excel reads a CSV without a BOM in the local code page and garbles Chinese
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding=encoding, newline="")
    err.print(f"{len(objects)} entries written to {output}", highlight=False)


@app.command("status")
def status_(
    reference: Annotated[str, typer.Argument(help="Reference, e.g. KCXF-2024-00017.")],
    new_status: Annotated[str, typer.Argument(help="Status id (first_review, passed_first, …) or its label.")],
    note: Annotated[str, typer.Option(help="Why, for the history (and the applicant).")] = "",
) -> None:
    """Move an entry to another review status; the change and the note are kept and sent to the entrant.

    needs_more reopens the entrant's draft: say in the note what is missing.
    """
    target = _status_id(new_status)

    async def work(runtime: Runtime) -> tuple[str, str]:
        async with (await runtime.sessionmaker())() as session, session.begin():
            record = await queue.get_submission(session, reference)
            before = record.status if record is not None else ""
            record = await queue.change_status(
                session, reference=reference, to_status=target, note=note, actor=ACTOR, now=utcnow()
            )
            # Written with the change: the running bot delivers it to the entrant in their language.
            await notify.notify_status(session, submission=record, note=note, texts=runtime.texts)
            return before, record.reference

    try:
        before, ref = _run(Runtime.open(), work)
    except (queue.StatusError, queue.SubmissionNotFound) as exc:
        message = exc.message
        err.print(f"{message.zh}\n{message.en}", highlight=False)
        raise typer.Exit(1) from None
    out.print(
        f"{ref}: {queue.status_label(before).zh} → {queue.status_label(target).zh} ({before} → {target})",
        highlight=False,
    )


def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be purged.")] = False,
    days: Annotated[
        int | None, typer.Option(min=1, help="Untouched for more than this many days; default KCXF_DRAFT_RETENTION_DAYS.")
    ] = None,
) -> None:
    """Delete drafts nobody has worked on for the retention period, with their uploaded files, uploaded files
    no draft or entry names (older than a day), and answers kept for a 👍 / 👎 that nobody rated in that period.

    Submitted entries are the committee's records and are never purged. The running bot does this once a day.
    """
    runtime = Runtime.open()
    settings = runtime.settings
    keep_days = days or settings.draft_retention_days

    async def work(runtime: Runtime) -> PurgeReport:
        return await purge_abandoned(await runtime.sessionmaker(), now=runtime.clock.now(), days=keep_days,
                                     files_dir=settings.files_dir, dry_run=dry_run)

    report = _run(runtime, work)
    since = _local(runtime, report.cutoff)
    if dry_run:
        out.print(f"Would purge {report.drafts} drafts of {report.users} users untouched since {since} "
                  f"({keep_days} days) and {report.files} uploaded files, {report.orphans} uploaded files no "
                  f"draft or entry names, and {report.answers} answers nobody rated. Nothing was changed.",
                  highlight=False)
    else:
        out.print(f"Purged {report.drafts} drafts of {report.users} users untouched since {since} "
                  f"({keep_days} days); {report.files} uploaded files removed, and {report.orphans} no draft or "
                  f"entry named; {report.answers} answers nobody rated forgotten.", highlight=False)


def rekey() -> None:
    """Encrypt every stored identity number and phone again with the first key of KCXF_DATA_KEY.

    The last step of a key rotation: with KCXF_DATA_KEY=NEW,OLD, run this, then remove OLD.
    """
    count = _run(Runtime.open(), _reseal)
    out.print(f"{count} drafts and entries sealed again with the first data key.", highlight=False)


async def _reseal(runtime: Runtime) -> int:
    return await reseal_all(await runtime.sessionmaker())


def keygen() -> None:
    """Print a new random data key for KCXF_DATA_KEY (keep it secret, and keep it: without it the data is lost)."""
    out.print(new_key(), highlight=False)


def _shown(runtime: Runtime, answers: Mapping[str, Any], *, unmasked: bool) -> dict[str, Any]:
    """The answers as staff see them: identity numbers and phones masked unless asked for in full."""
    if unmasked:
        return dict(answers)
    return AnswerMask.of(runtime.forms.values()).answers(answers)


def _status_id(text: str) -> str:
    """A status id from its id or either label, so staff may type 初审通过 as well as passed_first."""
    wanted = text.strip()
    for status in queue.STATUSES.values():
        if wanted.lower() in {status.id, status.label.zh, status.label.en.lower()}:
            return status.id
    return wanted


def _sections(form: Form | None, answers: Mapping[str, Any]) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(label, value)]) for every answer, in form order; answers the form does not know last."""
    shown: set[str] = set()
    if form is not None:
        for section in form.sections:
            rows: list[tuple[str, str]] = []
            for entry in section.fields:
                if isinstance(entry, FieldGroup):
                    shown.add(entry.id)
                    items = answers.get(entry.id)
                    for n, item in enumerate(items if isinstance(items, list) else [], start=1):
                        for field in entry.fields:
                            value = item.get(field.id) if isinstance(item, Mapping) else None
                            label = f"{entry.label.zh} {n} · {field.label.zh}"
                            rows.append((_escape(label), _escape(_display(field, value))))
                elif entry.id in answers or form.visible(entry, answers):
                    shown.add(entry.id)
                    rows.append((_escape(entry.label.zh), _escape(_display(entry, answers.get(entry.id)))))
            if rows:
                yield f"{section.title.zh} {section.title.en}", rows
    rest = [(k, v) for k, v in answers.items() if k not in shown]
    if rest:
        yield "其他 other", [(_escape(k), _escape(json.dumps(v, ensure_ascii=False))) for k, v in rest]


def _display(field: Field, value: Any) -> str:
    if is_empty(value):
        return "—"
    names = {c.id: c.zh for c in field.choices}
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(
            names.get(v, v) if isinstance(v, str) else str(v.get("name", v)) if isinstance(v, Mapping) else str(v)
            for v in value
        )
    if isinstance(value, Mapping) and "start" in value:
        return f"{value['start']} — {value.get('end') or '至今'}"
    if field.type == "money" and isinstance(value, int):
        return f"{value:,} 元"
    if field.type == "percentage":
        return f"{value}%"
    if isinstance(value, str):
        return names.get(value, value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, Mapping) else str(value)


def _escape(text: str) -> str:
    # Answers are the applicant's text: a "[red]" in it is content, not rich markup.
    return escape(text)
