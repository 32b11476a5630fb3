"""`kcxf edition new | check | list`: prepare next year's call, check it before it goes live, see them all."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from config.campaign import CampaignError
from config.editions import EditionError, Editions, load_editions
from config.settings import Settings
from editions.check import check_edition
from editions.prepare import REVIEW_FILE, prepare_edition

app = typer.Typer(help="Editions of the call: prepare next year's from this year's, check it, list them.",
                  no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@app.command("new")
def new(
    year: Annotated[int, typer.Argument(help="The year of the new edition.")],
    source: Annotated[int, typer.Option("--from", help="The edition to copy.")],
) -> None:
    """Copy an edition into a new year's folder, every date moved by a year, and list what to review."""
    settings = Settings()
    editions = load_editions(settings.editions_dir)
    prepared = prepare_edition(editions.get(source), year, root=settings.editions_dir)
    out.print(f"Edition {year} prepared in {prepared.folder} from {source}. To review "
              f"({prepared.folder / REVIEW_FILE}):")
    for item in prepared.review:
        out.print(f"  - {escape(item)}")
    out.print(f"Then: kcxf edition check {year}")


@app.command("check")
def check(year: Annotated[int, typer.Argument(help="The edition to check.")]) -> None:
    """Validate an edition before it goes live: problems exit with 1, items to review are listed."""
    settings = Settings()
    folder = settings.editions_dir / str(year)
    if not folder.is_dir():
        raise EditionError(f"no edition folder {folder}")
    try:
        editions: Editions | None = load_editions(settings.editions_dir)
    except (CampaignError, EditionError):  # this one (or another) is broken: check it alone, say what is wrong
        editions = None
    findings = check_edition(folder, editions=editions)
    problems = [f for f in findings if f.kind == "problem"]
    for finding in findings:
        style = "red" if finding.kind == "problem" else "yellow"
        out.print(f"[{style}]{finding.kind}[/{style}] {escape(finding.where)}: {escape(finding.what)}")
    if (folder / REVIEW_FILE).exists():
        out.print(f"[yellow]review[/yellow] {folder / REVIEW_FILE} is still there: delete it once reviewed")
    out.print(f"Edition {year}: {len(problems)} problem(s), {len(findings) - len(problems)} item(s) to review.")
    if problems:
        raise typer.Exit(1)


@app.command("list")
def list_() -> None:
    """Every edition with its state now (preparing, open, reviewing, closed) and which one the bot serves."""
    settings = Settings()
    editions = load_editions(settings.editions_dir)
    now = settings.clock().now()
    live = editions.live(now, override=settings.edition)
    table = Table("edition", "name", "state", "opens", "deadline", "served now")
    for edition in editions:
        opens = edition.opens.date().isoformat() if edition.opens else "—"
        table.add_row(str(edition.year), edition.campaign.name.zh, edition.state(now), opens,
                      f"{edition.campaign.deadline:%Y-%m-%d %H:%M %z}", "●" if edition is live else "")
    out.print(table)
