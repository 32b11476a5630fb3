"""Telegram through python-telegram-bot: updates in as engine events, engine replies out. Translation only."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, FileSizeLimit, MessageLimit
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import rate_limit, receipts
from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.outbox import Send, queue_replies
from bot.replies import Choice, DocumentOut, EditOut, Reply, StaleOut, TextOut
from bot.stamps import unstamped
from bot.users import UserRef
from db.base import utcnow
from db.retry import attempts

if TYPE_CHECKING:
    from telegram import Bot, Chat, User

    from bot.engine import Engine
    from bot.runtime import Background
    from config.settings import Settings

__all__ = ["CHANNEL", "COMMANDS", "PRIVATE_ONLY", "WebhookOptions", "build_application", "webhook_options"]

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# The menu shown by Telegram clients, in this order; each is passed to the engine as CommandIn.
COMMANDS = ("start", "help", "apply", "drafts", "status", "cancel", "lang", "privacy", "delete")
# Commands that act on the sender's own application: in a group they would show it to everyone.
PRIVATE_ONLY = frozenset({"apply", "drafts", "status", "cancel", "delete"})
MENU_LANGS = ("zh", "en")
INCOMING = "incoming"
# What the Bot API accepts as a webhook secret token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

Context = ContextTypes.DEFAULT_TYPE

# Calls to the Bot API in flight at once. python-telegram-bot's 256 made httpcore's pool bookkeeping, which
# looks at every connection for every idle one, take most of the bot's time when hundreds of entrants wrote at
# once; a call beyond these waits for a connection (up to the wait below) instead of failing after 1 s.
BOT_API_CONNECTIONS = 16
BOT_API_POOL_WAIT_S = 10.0


@dataclass(frozen=True)
class WebhookOptions:
    """The keyword arguments of Application.run_webhook / Updater.start_webhook for a bot behind a proxy."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str


def webhook_options(settings: Settings) -> WebhookOptions | None:
    """The webhook to serve when KCXF_TELEGRAM_WEBHOOK_URL is set (None: long polling); ValueError if unsafe."""
    if not settings.telegram_webhook_url:
        return None
    if not settings.telegram_webhook_url.startswith("https://"):
        raise ValueError("KCXF_TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram posts only over TLS)")
    if settings.telegram_webhook_secret is None:
        raise ValueError("KCXF_TELEGRAM_WEBHOOK_SECRET is not set; without it anyone could post updates to the bot")
    secret = settings.telegram_webhook_secret.get_secret_value()
    if not SECRET_TOKEN.fullmatch(secret):
        raise ValueError("KCXF_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    # A path derived from the secret is as hard to guess, without writing the secret into proxy access logs.
    path = "telegram-" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return WebhookOptions(
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        url_path=path,
        webhook_url=f"{settings.telegram_webhook_url.rstrip('/')}/{path}",
        secret_token=secret,
    )


def build_application(
    engine: Engine, *, settings: Settings, background: Callable[[Send], Background] | None = None,
) -> Application:
    """The python-telegram-bot Application for `engine`, its handlers registered; not yet started.

    `background` (Runtime.background) is started with this channel's way of sending once the bot runs, and
    stopped when it has: the outbox delivery, housekeeping and purge every bot process runs.
    """
    if not settings.telegram_token:
        raise ValueError("KCXF_TELEGRAM_TOKEN is not set")
    webhook_options(settings)  # refuse an unsafe webhook configuration before anything starts
    adapter = _Adapter(
        engine, incoming_dir=settings.data_dir / INCOMING, rate_per_minute=settings.telegram_rate_per_minute,
        background=background,
    )
    application = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .connection_pool_size(BOT_API_CONNECTIONS)
        .pool_timeout(BOT_API_POOL_WAIT_S)
        # Different users run side by side; one user's updates are kept in order by _Adapter's locks.
        .concurrent_updates(True)
        .post_init(adapter.on_started)
        # run_polling / run_webhook stop on SIGINT/SIGTERM only after the updates in hand have been handled
        # (Application.stop awaits them); what the adapter itself holds is released after that.
        .post_shutdown(adapter.release)
        .build()
    )
    # New messages only: an edited message would otherwise be answered (or taken as a form answer) twice.
    new = filters.UpdateType.MESSAGE
    private = new & filters.ChatType.PRIVATE
    groups = new & filters.ChatType.GROUPS
    application.add_handlers([
        CommandHandler(COMMANDS, adapter.on_command, filters=new),
        MessageHandler(filters.COMMAND & private, adapter.on_command),  # unknown ones: the engine says so
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, adapter.on_text),
        MessageHandler(filters.TEXT & ~filters.COMMAND & groups, adapter.on_group_text),
        MessageHandler((filters.Document.ALL | filters.PHOTO) & private, adapter.on_file),
        CallbackQueryHandler(adapter.on_press),
    ])
    application.add_error_handler(adapter.on_error)
    return application


class _Adapter:
    """The handler callbacks, bound to one engine."""

    def __init__(
        self, engine: Engine, *, incoming_dir: Path, rate_per_minute: int = 30,
        background: Callable[[Send], Background] | None = None,
    ) -> None:
        self.engine = engine
        self.incoming_dir = incoming_dir
        self.rate_per_minute = rate_per_minute
        self._start_background = background
        self._background: Background | None = None
        # Downloads in progress, removed by post_shutdown if a handler was cut off before its own cleanup.
        self._temp_files: set[Path] = set()
        # One lock per user, alive while one of their updates is being handled.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def t(self, key: str, user: UserRef, **vars: object) -> str:
        return self.engine.texts.t(key, user.lang_hint or "zh", **vars)

    # -- setup ---------------------------------------------------------------------------------------------
    async def set_commands(self, application: Application) -> None:
        """Publish the command menu in Chinese (the default) and English."""
        texts = self.engine.texts
        for lang in MENU_LANGS:
            commands = [BotCommand(name, texts.t(f"telegram.commands.{name}", lang)) for name in COMMANDS]
            await application.bot.set_my_commands(commands, language_code=lang)
        await application.bot.set_my_commands(
            [BotCommand(name, texts.t(f"telegram.commands.{name}", "zh")) for name in COMMANDS]
        )

    async def on_started(self, application: Application) -> None:
        """Publish the menus; start what runs beside the bot (the outbox delivered through this bot)."""
        await self.set_commands(application)
        if self._start_background is not None:
            bot = application.bot

            async def send(external_id: str, reply: Reply) -> None:
                # A group member's id is "user@chat"; a notice about their entry goes to them privately.
                await _send_one(bot, int(external_id.split("@")[0]), reply)

            self._background = self._start_background(send)

    async def release(self, application: Application) -> None:
        """Stop what runs beside the bot, and remove what the adapter still holds: unfinished downloads."""
        if self._background is not None:
            await self._background.stop()
            self._background = None
        for path in list(self._temp_files):
            await asyncio.to_thread(path.unlink, missing_ok=True)
        self._temp_files.clear()

    # -- updates in ----------------------------------------------------------------------------------------
    # Shared by every worker on the database: an update Telegram delivers twice (after a crash, or to a second
    # webhook worker) is handled once, through the receipts the engine records with the event; and the rate
    # limit counts a user's updates whichever worker takes them.
    async def _over_limit(
        self, context: Context, user: User, ref: UserRef, *, chat_id: int | None,
        query: CallbackQuery | None = None,
    ) -> bool:
        """Whether `user` has sent too much this minute; the first refused update gets one polite answer."""
        async for attempt in attempts():  # a locked or deadlocked database waits, as for the engine
            with attempt:
                async with self.engine.sessionmaker() as session, session.begin():
                    verdict = await rate_limit.admit(session, f"{CHANNEL}:{user.id}", limit=self.rate_per_minute,
                                                     now=utcnow())
        if verdict is rate_limit.Verdict.ADMIT:
            return False
        text = self.t("telegram.rate_limited", ref, per_minute=self.rate_per_minute)
        if verdict is rate_limit.Verdict.WARN:
            log.info("user %s is over %s updates a minute", user.id, self.rate_per_minute)
        if query is not None:  # a press is always answered, or the client shows it loading
            await _answer(query, text if verdict is rate_limit.Verdict.WARN else None)
        elif verdict is rate_limit.Verdict.WARN and chat_id is not None:
            await context.bot.send_message(chat_id, text)
        return True

    async def _seen(self, once: Sequence[str]) -> bool:
        """Whether an update with one of these keys was handled already (checked before anything is sent)."""
        async with self.engine.sessionmaker() as session:
            return await receipts.seen(session, once)

    async def _first_time(self, once: Sequence[str]) -> bool:
        """Record the keys of an update answered without the engine; False when it was answered before."""
        async for attempt in attempts():
            with attempt:
                async with self.engine.sessionmaker() as session, session.begin():
                    return await receipts.record_once(session, once, now=utcnow())
        raise AssertionError("unreachable: the last attempt's error is raised")

    async def on_command(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        name, _, args = message.text.strip()[1:].partition(" ")
        name = name.split("@", 1)[0].lower()
        ref = _user_ref(user, message.chat)
        once = (_update_key(update),)
        async with self._turn(ref):
            if await self._over_limit(context, user, ref, chat_id=message.chat.id):
                return
            if message.chat.type != ChatType.PRIVATE and name in PRIVATE_ONLY:
                if await self._first_time(once):
                    text = self.t("telegram.private_only", ref, bot=context.bot.username)
                    await self._send(context, message, [TextOut(text)])
                return
            await self._handle(context, message, ref, CommandIn(name, args.strip()), once=once, seq=update.update_id)

    async def on_text(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        ref = _user_ref(user, message.chat)
        async with self._turn(ref):
            if await self._over_limit(context, user, ref, chat_id=message.chat.id):
                return
            await self._handle(context, message, ref, TextIn(message.text), once=(_update_key(update),),
                               seq=update.update_id)

    async def on_group_text(self, update: Update, context: Context) -> None:
        """In a group, only a message that mentions the bot or replies to it is a question for it."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        mention = f"@{context.bot.username}".lower()
        mentioned = any(
            text.lower() == mention for text in message.parse_entities([MessageEntity.MENTION]).values()
        )
        replied = message.reply_to_message is not None and (
            message.reply_to_message.from_user is not None
            and message.reply_to_message.from_user.id == context.bot.id
        )
        if not (mentioned or replied):
            return
        question = _strip_mention(message.text, mention).strip()
        ref = _user_ref(user, message.chat)
        async with self._turn(ref):
            if await self._over_limit(context, user, ref, chat_id=message.chat.id):
                return
            await self._handle(context, message, ref, TextIn(question), once=(_update_key(update),),
                               seq=update.update_id)

    async def on_file(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        ref = _user_ref(user, message.chat)
        if message.document is not None:
            doc = message.document
            file_id, size = doc.file_id, doc.file_size or 0
            name = doc.file_name or f"document-{doc.file_unique_id}"
            mime = doc.mime_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        else:
            photo = message.photo[-1]  # the largest size Telegram made of it
            file_id, size = photo.file_id, photo.file_size or 0
            name, mime = f"photo-{photo.file_unique_id}.jpg", "image/jpeg"

        async def with_download() -> list[Reply]:
            path = await asyncio.to_thread(_temp_file, self.incoming_dir, suffix=Path(name).suffix)
            self._temp_files.add(path)
            try:
                file = await context.bot.get_file(file_id)
                await file.download_to_drive(path)
                size_on_disk = (await asyncio.to_thread(path.stat)).st_size
                event = FileIn(file_name=name, mime_type=mime, size=size_on_disk, path=path)
                return await self.engine.handle(ref, event, once=once, seq=update.update_id)
            finally:  # the engine keeps its own copy of what it accepts
                await asyncio.to_thread(path.unlink, missing_ok=True)
                self._temp_files.discard(path)

        once = (_update_key(update),)
        async with self._turn(ref):
            if await self._over_limit(context, user, ref, chat_id=message.chat.id):
                return
            if size > FileSizeLimit.FILESIZE_DOWNLOAD:
                # The Bot API will not hand a bot anything larger, so it is refused before getFile is tried.
                if await self._first_time(once):
                    text = self.t("telegram.file_too_large", ref, name=name, size=f"{size / 1_000_000:.1f} MB")
                    await self._send(context, message, [TextOut(text)])
                return
            await self._run(context, message, with_download, once=once)

    async def on_press(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        ref = _user_ref(user, message.chat if message is not None else None)
        async with self._turn(ref):
            if await self._over_limit(context, user, ref, chat_id=None, query=query):
                return
            await self._press(context, update, query, message, ref)

    async def _press(
        self, context: Context, update: Update, query: CallbackQuery, message: Message | None, ref: UserRef,
    ) -> None:
        data = query.data or ""
        if message is None:  # too old for Telegram to show: nothing to reply under, nothing to edit
            await _answer(query)
            if await self._first_time((_update_key(update),)):
                await context.bot.send_message(query.from_user.id, self.t("telegram.stale_button", ref))
            return
        # A keyboard answers its question once: a second press of it (a double tap, the other button of a 👍 / 👎
        # pair, or the same button pressed again before the first press's edit arrived) is dropped like a repeated
        # update, with a word on the button's spinner so it does not look ignored. A keyboard is its message and
        # the stamp its buttons carry: a toggle's press puts a keyboard of a new stamp in the same message.
        mark = unstamped(data)[1]
        keyboard = f"{CHANNEL}:keyboard:{message.chat.id}:{message.message_id}" + (f":{mark}" if mark else "")
        once = (_update_key(update), keyboard)
        if await self._seen(once):
            await _answer(query, self.t("telegram.already_pressed", ref))
            return
        await _answer(query)
        label = _label_of(message, data)

        async def choose() -> list[Reply]:
            replies = await self.engine.handle(ref, ChoiceIn(data), once=once, seq=update.update_id)
            edit = next((r for r in replies if isinstance(r, EditOut)), None)
            if edit is not None:  # a toggle, or 完成: the pressed message shows what the engine says it now is
                return [r for r in replies if r is not edit] if await _edit(message, edit) else replies
            # Once the engine took the press (not a repeat, not a button of an earlier question): the keyboard
            # goes and the choice shows, so the same question is not offered again.
            if replies and not any(isinstance(r, StaleOut) for r in replies) and label is not None and message.text:
                try:
                    await message.edit_text(f"{message.text}\n\n{self.t('telegram.chosen', ref, label=label)}")
                except TelegramError as exc:  # the choice counts all the same; the edit is cosmetic
                    log.info("could not mark the choice on message %s: %s", message.message_id, exc)
            return replies

        await self._run(context, message, choose, once=once)

    async def on_error(self, update: object, context: Context) -> None:
        """Log the failure with the update, and tell the user something went wrong."""
        # The update id only: the update itself carries what the user typed (an identity number, say).
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        ref = _user_ref(user, update.effective_chat) if user else UserRef(CHANNEL, "")
        try:
            await context.bot.send_message(update.effective_chat.id, self.t("engine.error", ref))
        except Exception:  # the network may be what failed; the log above already has the cause
            log.exception("could not tell chat %s about the error", update.effective_chat.id)

    # -- engine and replies out ----------------------------------------------------------------------------
    async def _handle(
        self, context: Context, message: Message, ref: UserRef, event: Event, *, once: Sequence[str], seq: int,
    ) -> None:
        await self._run(context, message, lambda: self.engine.handle(ref, event, once=once, seq=seq), once=once)

    def _turn(self, ref: UserRef) -> asyncio.Lock:
        """The lock that keeps this user's updates in order; taken before a handler's first await (the rate
        limit's database round trip included), so the lock's queue is the order the updates arrived in."""
        lock = self._locks.get(ref.external_id)
        if lock is None:
            lock = self._locks[ref.external_id] = asyncio.Lock()
        return lock

    async def _run(
        self, context: Context, message: Message, handle: Callable[[], Awaitable[list[Reply]]], *,
        once: Sequence[str],
    ) -> None:
        # Under the user's lock: a twin this process took first has committed by now and is dropped here, before
        # anything is sent; a twin on another worker is caught by the engine's own receipt.
        if await self._seen(once):
            log.info("update %s handled before; dropped", ", ".join(once))
            return
        try:
            await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        except (NetworkError, RetryAfter) as exc:
            # Only a courtesy: a message whose typing indicator could not be shown is still handled (under load
            # the Bot API timing out here once dropped the entrant's answer unread).
            log.info("typing indicator for chat %s not shown (%s)", message.chat.id, exc)
        await self._send(context, message, await handle())

    async def _send(self, context: Context, message: Message, replies: list[Reply]) -> None:
        chat = message.chat
        # In a group the answer quotes the question, so everyone sees whom it answers.
        quote = None if chat.type == ChatType.PRIVATE else ReplyParameters(message.message_id)
        for n, reply in enumerate(replies):
            try:
                await _send_one(context.bot, chat.id, reply, quote=quote)
            except (NetworkError, RetryAfter) as exc:
                if isinstance(exc, BadRequest):  # Telegram refused the message itself: sending it later won't do
                    raise
                # The event is committed: an error now would have the entrant send an answer already taken.
                # What is left goes to the outbox, which the running bot delivers shortly.
                log.warning("reply to chat %s not sent (%s); %d queued in the outbox", chat.id, exc,
                            len(replies) - n)
                await queue_replies(self.engine.sessionmaker, channel=CHANNEL, external_id=str(chat.id),
                                    replies=replies[n:])
                return


async def _send_one(bot: Bot, chat_id: int, reply: Reply, *, quote: ReplyParameters | None = None) -> None:
    """Send one reply: a text (split at Telegram's length limit, its buttons under the last part) or a document."""
    match reply:
        case TextOut(text=text, choices=choices):
            parts = _split(text)
            for n, part in enumerate(parts, start=1):
                markup = _keyboard(choices) if n == len(parts) and choices else None
                await bot.send_message(chat_id, part, reply_markup=markup, reply_parameters=quote)
        case DocumentOut(path=path, file_name=file_name, caption=caption):
            await bot.send_document(chat_id, Path(path), filename=file_name, caption=caption or None,
                                    reply_parameters=quote)


async def _edit(message: Message, reply: EditOut) -> bool:
    """Show `reply` in place of `message` (its text and keyboard); False when Telegram refused, e.g. for a message
    too old to edit or a text too long for one message: the reply is then sent as a new message."""
    markup = _keyboard(reply.choices) if reply.choices else None
    try:
        if reply.text == message.text:  # a toggle: only the marks on the buttons change
            await message.edit_reply_markup(reply_markup=markup)
        else:
            await message.edit_text(reply.text, reply_markup=markup)
    except TelegramError as exc:
        log.info("could not edit message %s in place: %s", message.message_id, exc)
        return False
    return True


def _keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup:
    # Every value fits callback_data: bot.replies refuses a longer one where the Choice is made.
    return InlineKeyboardMarkup([[InlineKeyboardButton(c.marked, callback_data=c.value)] for c in choices])


def _update_key(update: Update) -> str:
    return f"{CHANNEL}:update:{update.update_id}"


async def _answer(query: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> None:
    """Answer a press so the client stops showing it loading; a press answered before is no error."""
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:  # the same update delivered twice: Telegram refuses the second answer
        log.info("callback query %s not answered: %s", query.id, exc)


def _user_ref(user: User, chat: Chat | None) -> UserRef:
    # A group gets its own identity per member, so a question asked there never lands in (or shows) the
    # member's private application, whatever step it stands at.
    group = chat is not None and chat.type != ChatType.PRIVATE
    return UserRef(
        channel=CHANNEL,
        external_id=f"{user.id}@{chat.id}" if group and chat is not None else str(user.id),
        display_name=user.full_name,
        lang_hint="en" if (user.language_code or "").lower().startswith("en") else "zh",
    )


def _label_of(message: Message, data: str) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _strip_mention(text: str, mention: str) -> str:
    start = text.lower().find(mention)
    return text if start < 0 else text[:start] + text[start + len(mention):]


def _split(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks (inside a line only when it is longer)."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current or not parts:
        parts.append(current)
    return [part.rstrip("\n") or part for part in parts]


def _temp_file(folder: Path, *, suffix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix="tg-", suffix=suffix)
    os.close(fd)
    return Path(name)
