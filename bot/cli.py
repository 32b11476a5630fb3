"""The `kcxf` command: chat in the terminal, ask a question, maintain the knowledge base."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.runtime import Runtime
from bot.texts import TextsError
from config.campaign import CampaignError
from config.editions import EditionError
from config.settings import Settings
from console.cli import serve as console_serve
from console.cli import staff_app
from console.cli import web as web_serve
from console.sessions import ConsoleSecretError
from db.cli import app as db_app
from editions.cli import app as edition_app
from intake import cli as intake_cli
from intake.cli import app as queue_app
from intake.data_keys import DataKeyError
from intake.forms import FormError
from intake.sensitive import redact_logs
from judging import cli as judging_cli
from knowledge import cli as kb_cli
from knowledge.faq import FaqFileError

# The web console (FastAPI) and the terminal chat are imported by the commands that run them, so that every other
# command starts without them.
if TYPE_CHECKING:
    from console.server import Embedded

app = typer.Typer(help="kcxf-bot: the 科创先锋案例征集 assistant and intake bot.", no_args_is_help=True)
app.add_typer(kb_cli.app, name="kb")
app.add_typer(queue_app, name="queue")
app.add_typer(db_app, name="db")
app.add_typer(edition_app, name="edition")
app.command("ask")(kb_cli.ask)
app.command("purge")(intake_cli.purge)
app.command("rekey")(intake_cli.rekey)
app.command("keygen")(intake_cli.keygen)
app.add_typer(staff_app, name="staff")
app.command("console")(console_serve)
app.command("web")(web_serve)
app.add_typer(judging_cli.app, name="judging")


@app.callback()
def configure(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at INFO level to stderr.")) -> None:
    """Configure logging once, for every subcommand."""
    level = logging.INFO if verbose else getattr(logging, Settings().log_level.upper(), logging.WARNING)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The code logs no answer; this masks an identity number or phone in anything a library logs (e.g.
    # python-telegram-bot's DEBUG lines carry whole updates and messages).
    redact_logs()
    # httpx logs every request's address at INFO, and a Bot API address holds the bot's token: keep them to
    # warnings (the filter above removes a token from whatever is still logged).
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    # bm25s sets its own logger to DEBUG when imported; bring it back under the level chosen here. The commands
    # that need it import it after this runs, so a filter (which its import leaves alone) does it, not a level.
    floor = max(level, logging.INFO)
    logging.getLogger("bm25s").addFilter(lambda record: record.levelno >= floor)


async def _start_console(runtime: Runtime, console: Console) -> Embedded | None:
    """The web console beside the bot or the chat (`kcxf run`), its address printed; None if it cannot listen."""
    from console import server as console_server

    host, port = runtime.settings.console_host, runtime.settings.console_port
    try:
        side = await console_server.start_embedded(runtime, host=host, port=port)
    except OSError as exc:
        console.print(f"[yellow]Console not started: cannot listen on {host}:{port} ({exc.strerror or exc}).[/yellow]",
                      highlight=False)
        return None
    for line in await console_server.address_lines(runtime, side.url):
        console.print(line, highlight=False)
    return side


@app.command()
def chat() -> None:
    """Talk to the bot in this terminal, on the embedded defaults (SQLite, embedded Chroma, no LLM)."""
    _chat(with_console=False)


def _chat(*, with_console: bool) -> None:
    from bot.adapters.terminal import CHANNEL, printer, run_terminal

    console = Console()
    runtime = Runtime.open()
    with console.status("正在准备知识库 Preparing the knowledge base…"):
        runtime.knowledge  # noqa: B018 - build the index before the first question, not during it

    async def session() -> None:
        engine = await runtime.engine()
        side = await _start_console(runtime, console) if with_console else None
        background = runtime.background(engine, channel=CHANNEL, send=printer(engine, console=console))
        try:
            await run_terminal(engine, console=console)
        finally:
            await background.stop()
            if side is not None:
                await side.stop()
            await runtime.close()

    asyncio.run(session())


@app.command()
def bot() -> None:
    """Run the Telegram bot until Ctrl-C or SIGTERM: long polling, or a webhook when KCXF_TELEGRAM_WEBHOOK_URL is set."""
    _bot(with_console=False)


def _bot(*, with_console: bool) -> None:
    settings = Settings()
    if not settings.telegram_token:
        Console(stderr=True).print(
            "[red]KCXF_TELEGRAM_TOKEN is not set.[/red] Put the token @BotFather gave you in the environment "
            "or in .env, e.g. KCXF_TELEGRAM_TOKEN=123456:ABC…", highlight=False,
        )
        raise typer.Exit(2)
    # Imported here so the other commands do not load python-telegram-bot.
    from bot.adapters.telegram import CHANNEL, build_application, webhook_options

    try:
        webhook = webhook_options(settings)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from None
    runtime = Runtime.open(settings)
    runtime.knowledge  # noqa: B018 - build the index before the first question, not during it
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    side = None
    try:
        engine = loop.run_until_complete(runtime.engine())
        if with_console:
            side = loop.run_until_complete(_start_console(runtime, Console()))
        application = build_application(
            engine, settings=settings,
            background=lambda send: runtime.background(engine, channel=CHANNEL, send=send))
        # run_polling / run_webhook own the loop from here: initialize, post_init (the command menu), take
        # updates, and on a stop signal finish the updates in hand, then post_shutdown.
        if webhook is None:
            application.run_polling(close_loop=False)
        else:
            # Plain HTTP on listen:port; the reverse proxy in front terminates TLS for webhook_url.
            application.run_webhook(
                listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                webhook_url=webhook.webhook_url, secret_token=webhook.secret_token, close_loop=False,
            )
    finally:
        if side is not None:
            loop.run_until_complete(side.stop())
        loop.run_until_complete(runtime.close())
        asyncio.set_event_loop(None)
        loop.close()


@app.command()
def remind(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say who would be reminded now, and why."),
) -> None:
    """Queue the deadline reminders owed now (the running bot's housekeeping does it every minute and delivers
    them); with --dry-run, list who would be reminded now and why, and change nothing."""
    from bot.reminders import BEFORE, due_reminders, send_reminders

    console = Console()
    runtime = Runtime.open()
    campaign, schedule, now = runtime.campaign, runtime.campaign.reminders, runtime.clock.now()
    tz = schedule.tz

    def local(instant: datetime) -> str:
        return instant.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    async def work() -> list:  # type: ignore[type-arg]
        try:
            sessions = await runtime.sessionmaker()
            if dry_run:
                return await due_reminders(sessions, campaign=campaign, forms=runtime.forms, now=now)
            return await send_reminders(sessions, campaign=campaign, forms=runtime.forms, texts=runtime.texts,
                                        clock=runtime.clock)
        finally:
            await runtime.close()

    reminders = asyncio.run(work())
    console.print(f"Now {local(now)} ({schedule.time_zone}); deadline {local(campaign.deadline)}.", highlight=False)
    if now >= campaign.deadline:
        console.print("The deadline has passed: no reminders.", highlight=False)
    elif schedule.is_quiet(now):
        console.print(f"Quiet hours ({schedule.quiet_from:%H:%M}–{schedule.quiet_until:%H:%M}): reminders owed now "
                      f"wait until {schedule.quiet_until:%H:%M}.", highlight=False)
    for r in reminders:
        why = (f"{r.slot.days} day(s) before the deadline, due {local(r.slot.due)}" if r.slot.kind == BEFORE
               else f"quiet for {r.slot.days} day(s) (no work nor reminder), due {local(r.slot.due)}")
        console.print(f"{r.channel}:{r.external_id} ({r.lang}) draft {r.draft_id} of "
                      f"{campaign.award(r.award_id).name.zh} ({r.award_id}), {r.slot.key}: {why}; "
                      f"{r.missing} required item(s) missing, {r.days_left} day(s) left", markup=False, highlight=False)
    done = "due now; nothing was changed" if dry_run else "queued; the running bot delivers them"
    console.print(f"{len(reminders)} reminder(s) {done}.", highlight=False)


@app.command()
def run() -> None:
    """`make run`: the Telegram bot when KCXF_TELEGRAM_TOKEN is configured, else the terminal chat; the web
    console beside either, in the same process (KCXF_CONSOLE_HOST:KCXF_CONSOLE_PORT)."""
    if Settings().telegram_token:
        _bot(with_console=True)
    else:
        _chat(with_console=True)


def main() -> None:
    """The console script: a broken configuration file is reported in one line, not as a traceback."""
    try:
        app(prog_name="kcxf")
    except (CampaignError, EditionError, TextsError, FaqFileError, FormError, DataKeyError, ConsoleSecretError) as exc:
        Console(stderr=True).print(f"[red]Configuration error:[/red] {exc}", highlight=False)
        raise SystemExit(2) from None
