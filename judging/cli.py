"""`kcxf judging …`: rounds, opening and closing them, judges' Excel sheets, results, decisions, the finalists list."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from config import Localized
from console.staff import StaffError, get_staff
from intake.queue import StatusError
from judging import rank, rounds
from judging.decide import decide, finalists, finalists_csv, send_back, sign_off
from judging.models import PROPOSED, Round
from judging.remind import remind
from judging.rounds import JudgingError

__all__ = ["app"]

app = typer.Typer(help="Judging: rounds, judges' sheets, results and decisions.", no_args_is_help=True)
# Lines a script reads (import results, counts) are never folded at the terminal width.
out = Console(soft_wrap=True)
err = Console(stderr=True)
T = TypeVar("T")
ACTOR = "cli"
# judging.sheets (and openpyxl, a fifth of a second) is imported by the commands that use it: every `kcxf`
# command, `kcxf staff add` as much as `kcxf judging sheet`, imports this module to register its commands.


class Stage(StrEnum):
    """The stages of the shipped scorecards (the served edition's scorecards.yaml)."""

    first = "first"
    final = "final"


class Format(StrEnum):
    """Output formats of `results`."""

    csv = "csv"
    json = "json"


def _run(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    from judging.sheets import SheetRefused

    runtime = Runtime.open()

    async def main() -> T:
        try:
            sessions = await runtime.sessionmaker()
            async with sessions() as session, session.begin():
                return await work(runtime, session)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except (JudgingError, StaffError, StatusError) as exc:
        err.print(f"{exc.message.zh}\n{exc.message.en}", highlight=False)
        raise typer.Exit(1) from None
    except SheetRefused as exc:
        err.print("评分表未导入，没有任何更改 The sheet was not imported; nothing changed:", highlight=False)
        for line in exc.lines:
            err.print(f"  {line.zh}\n  {line.en}", highlight=False)
        raise typer.Exit(1) from None


async def _round(session: AsyncSession, round_id: int) -> Round:
    found = await rounds.get_round(session, round_id)
    if found is None:
        raise JudgingError(Localized(zh=f"没有第 {round_id} 轮评审", en=f"There is no round {round_id}"))
    return found


@app.command("rounds")
def list_rounds() -> None:
    """Every round: award, stage, status, progress."""

    async def work(runtime: Runtime, session: AsyncSession) -> list[list[str]]:
        table = []
        for r in await rounds.list_rounds(session):
            p = await rounds.progress(session, r)
            table.append([str(r.id), r.award_id, r.stage, r.status, "blind" if r.blind else "",
                          str(r.per_entry or "all"), f"{p.submitted}/{p.expected}", str(len(p.judges))])
        return table

    table = Table("round", "award", "stage", "status", "blind", "per entry", "scored", "judges")
    for row in _run(work):
        table.add_row(*row)
    out.print(table)


@app.command("open")
def open_(
    award: Annotated[str, typer.Option(help="Award id, e.g. pioneer_product.")],
    stage: Annotated[Stage, typer.Option(help="first (初审) or final (终审).")],
    judges: Annotated[str, typer.Option(help="Judges' account names, comma-separated.")],
    blind: Annotated[bool, typer.Option(help="Hide the entrant's name, organisation and contacts from judges.")] = False,
    per_entry: Annotated[int | None, typer.Option(help="Judges per entry (default: every judge on every entry).")] = None,
) -> None:
    """Open a round on the award's entries ready for the stage, and assign the judges."""

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[int, int]:
        staff = await rounds.resolve_judges(session, judges.split(","))
        round_ = await rounds.open_round(session, scorecards=runtime.scorecards, texts=runtime.texts,
                                         award_id=award, stage_id=stage.value, judges=staff, per_entry=per_entry,
                                         blind=blind, actor=ACTOR, now=runtime.clock.now())
        return round_.id, len((await rounds.progress(session, round_)).entries)

    round_id, count = _run(work)
    out.print(f"已开启第 {round_id} 轮，{count} 份申报 Opened round {round_id} with {count} entries", highlight=False)


@app.command("close")
def close(round_id: Annotated[int, typer.Option("--round", help="Round id.")]) -> None:
    """Stop scoring in a round (drafts are left out of the results)."""

    async def work(runtime: Runtime, session: AsyncSession) -> None:
        await rounds.close_round(session, await _round(session, round_id), actor=ACTOR, now=runtime.clock.now())

    _run(work)
    out.print(f"已关闭第 {round_id} 轮 Closed round {round_id}", highlight=False)


@app.command("sheet")
def sheet(
    round_id: Annotated[int, typer.Option("--round", help="Round id.")],
    judge: Annotated[str, typer.Option(help="The judge's account name.")],
    output: Annotated[Path, typer.Option(help="Where to write the .xlsx file.")],
) -> None:
    """Write a judge's scoring sheet (their entries, the dimensions and scale, validation on the score cells)."""
    from judging.sheets import write_sheet

    async def work(runtime: Runtime, session: AsyncSession) -> bytes:
        staff = await get_staff(session, judge)
        if staff is None:
            raise JudgingError(Localized(zh=f"没有账号 {judge}", en=f"There is no account {judge}"))
        return await write_sheet(session, await _round(session, round_id), staff, scorecards=runtime.scorecards)

    output.write_bytes(_run(work))
    out.print(f"已写入 Written: {output}", highlight=False)


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A filled scoring sheet (.xlsx).")]) -> None:
    """Read a filled sheet back: all of it, or (with every problem listed line by line) nothing."""
    from judging.sheets import import_sheet
    data = path.read_bytes()

    async def work(runtime: Runtime, session: AsyncSession) -> Any:
        return await import_sheet(session, data, scorecards=runtime.scorecards, now=runtime.clock.now())

    done = _run(work)
    out.print(f"第 {done.round_id} 轮 · {done.judge}：提交 {done.submitted}，草稿 {done.drafts}，利益冲突 {done.conflicts} / "
              f"round {done.round_id}, {done.judge}: {done.submitted} submitted, {done.drafts} drafts, "
              f"{done.conflicts} conflicts", highlight=False)


@app.command("results")
def results(
    round_id: Annotated[int, typer.Option("--round", help="Round id.")],
    format: Annotated[Format, typer.Option(help="csv or json.")] = Format.json,  # noqa: A002 - the option's name
    by: Annotated[str, typer.Option(help="Rank by total (raw weighted mean) or normalised (z-score per judge).")] = "total",
) -> None:
    """The ranking with totals, normalised scores, per-dimension means, judges and risks, to standard output."""
    if by not in rank.RANK_BY:
        err.print(f"--by: {' | '.join(rank.RANK_BY)}")
        raise typer.Exit(2)

    async def work(runtime: Runtime, session: AsyncSession) -> rank.RoundResults:
        return await rank.results(session, await _round(session, round_id), runtime.scorecards, by=by)  # type: ignore[arg-type]

    found = _run(work)
    objects = [e.as_json() for e in found.entries]
    if format == Format.json:
        sys.stdout.write(json.dumps(objects, ensure_ascii=False, indent=2) + "\n")
        return
    dims = [d.id for d in found.scorecard.dimensions]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["rank", "tied", "reference", "total", "normalised", "spread", "judges", *dims, "risks"])
    for e in found.entries:
        writer.writerow([e.rank or "", "yes" if e.tied else "", e.reference, e.total or "", e.normalised or "",
                         e.spread or "", len(e.judges), *(e.dimensions.get(d, "") for d in dims),
                         "; ".join(f"{k}={v}" for k, v in e.risks.items())])


@app.command("decide")
def decide_(
    round_id: Annotated[int, typer.Option("--round", help="Round id (closed).")],
    chosen: Annotated[str, typer.Option(help="References chosen, comma-separated; every other entry is not.")],
    reason: Annotated[list[str] | None, typer.Option(help="REF=reason, repeatable.")] = None,
) -> None:
    """Move the chosen entries on and the others out (the stage says where); entrants are told in the chat."""
    reasons = dict(item.split("=", 1) for item in (reason or []) if "=" in item)
    picked = [c.strip().upper() for c in chosen.split(",") if c.strip()]

    async def work(runtime: Runtime, session: AsyncSession) -> tuple[int, bool]:
        round_ = await _round(session, round_id)
        done = await decide(session, round_, scorecards=runtime.scorecards,
                            texts=runtime.texts, chosen=picked, reasons={k.upper(): v for k, v in reasons.items()},
                            actor=ACTOR, now=runtime.clock.now())
        return len(done), round_.status == PROPOSED

    count, proposed = _run(work)
    if proposed:
        out.print(f"已提出 {count} 份申报的决定，等待评审团主席签核（kcxf judging sign-off）"
                  f" Proposed decisions on {count} entries; they await the jury chair's sign-off", highlight=False)
    else:
        out.print(f"已决定 {count} 份申报 Decided {count} entries", highlight=False)


@app.command("sign-off")
def sign_off_(
    round_id: Annotated[int, typer.Option("--round", help="Round id (decisions proposed).")],
    chair: Annotated[str, typer.Option(help="The jury chair's account name; it must be marked as the chair.")],
    send_back_note: Annotated[str | None, typer.Option("--send-back", help="Send the decisions back, saying why.")] = None,
) -> None:
    """The jury chair signs off the committee's proposed decisions (they take effect, entrants are told), or sends
    them back with a reason."""

    async def work(runtime: Runtime, session: AsyncSession) -> int:
        staff = await get_staff(session, chair)
        if staff is None:
            raise JudgingError(Localized(zh=f"没有账号 {chair}", en=f"There is no account {chair}"))
        round_ = await _round(session, round_id)
        if send_back_note is not None:
            await send_back(session, round_, chair=staff, note=send_back_note, now=runtime.clock.now())
            return 0
        return len(await sign_off(session, round_, chair=staff, texts=runtime.texts, now=runtime.clock.now()))

    count = _run(work)
    if send_back_note is not None:
        out.print(f"已退回第 {round_id} 轮的决定 Sent round {round_id}'s decisions back", highlight=False)
    else:
        out.print(f"已签核，{count} 份申报的决定生效 Signed off; decisions on {count} entries took effect",
                  highlight=False)


@app.command("finalists")
def finalists_(
    round_id: Annotated[int, typer.Option("--round", help="Round id (decided).")],
    output: Annotated[Path, typer.Option(help="A .csv or .xlsx file.")],
) -> None:
    """The chosen entries in ranking order with the committee's reasons."""
    from judging.sheets import finalists_xlsx

    async def work(runtime: Runtime, session: AsyncSession) -> list:
        return await finalists(session, await _round(session, round_id), runtime.scorecards)

    rows = _run(work)
    output.write_bytes(finalists_xlsx(rows) if output.suffix.lower() == ".xlsx" else finalists_csv(rows))
    out.print(f"已写入 {len(rows)} 项 Written {len(rows)}: {output}", highlight=False)


@app.command("remind")
def remind_(round_id: Annotated[int, typer.Option("--round", help="Round id (open).")]) -> None:
    """Mail every judge who still has entries to score (KCXF_SMTP_*)."""

    async def work(runtime: Runtime, session: AsyncSession) -> Any:
        return await remind(session, await _round(session, round_id), settings=runtime.settings,
                            campaign=runtime.campaign, scorecards=runtime.scorecards, texts=runtime.texts,
                            actor=ACTOR, now=runtime.clock.now())

    done = _run(work)
    if not done.configured:
        err.print("未配置 SMTP，未发送 SMTP is not configured; nothing sent", highlight=False)
        raise typer.Exit(1)
    out.print(f"已提醒 Reminded: {', '.join(done.sent) or '-'}; 未送达 not reached: {', '.join(done.failed) or '-'}",
              highlight=False)
