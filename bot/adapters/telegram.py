"""Telegram through python-telegram-bot: updates in as engine events, engine replies out. Translation only."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import mimetypes
import os
import tempfile
import weakref
from collections.abc import Awaitable, Callable
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
from telegram.constants import ChatAction, ChatType, FileSizeLimit, InlineKeyboardButtonLimit, MessageLimit
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.replies import Choice, DocumentOut, Reply, TextOut
from bot.users import UserRef

if TYPE_CHECKING:
    from telegram import Chat, User

    from bot.engine import Engine
    from config.settings import Settings

__all__ = ["CHANNEL", "COMMANDS", "PRIVATE_ONLY", "build_application"]

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# The menu shown by Telegram clients, in this order; each is passed to the engine as CommandIn.
COMMANDS = ("start", "help", "apply", "drafts", "status", "cancel", "lang")
# Commands that act on the sender's own application: in a group they would show it to everyone.
PRIVATE_ONLY = frozenset({"apply", "drafts", "status", "cancel"})
MENU_LANGS = ("zh", "en")
TOKEN_PREFIX = "#"
INCOMING = "incoming"

Context = ContextTypes.DEFAULT_TYPE


def build_application(engine: Engine, *, settings: Settings) -> Application:
    """The python-telegram-bot Application for `engine`, its handlers registered; not yet started."""
    if not settings.telegram_token:
        raise ValueError("KCXF_TELEGRAM_TOKEN is not set")
    adapter = _Adapter(engine, incoming_dir=settings.data_dir / INCOMING)
    application = (
        Application.builder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        # Different users run side by side; one user's updates are kept in order by _Adapter's locks.
        .concurrent_updates(True)
        .post_init(adapter.set_commands)
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

    def __init__(self, engine: Engine, *, incoming_dir: Path) -> None:
        self.engine = engine
        self.incoming_dir = incoming_dir
        # One lock per user, alive while one of their updates is being handled.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Telegram carries at most 64 bytes of callback_data; a longer Choice value travels as a short token
        # (a hash of the value) looked up here. Kept in memory only: after a restart such a button is stale.
        self._long_values: dict[str, str] = {}

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

    # -- updates in ----------------------------------------------------------------------------------------
    async def on_command(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return
        name, _, args = message.text.strip()[1:].partition(" ")
        name = name.split("@", 1)[0].lower()
        ref = _user_ref(user, message.chat)
        async with self._turn(ref):
            if message.chat.type != ChatType.PRIVATE and name in PRIVATE_ONLY:
                text = self.t("telegram.private_only", ref, bot=context.bot.username)
                await self._send(context, message, [TextOut(text)])
                return
            await self._handle(context, message, ref, CommandIn(name, args.strip()))

    async def on_text(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        ref = _user_ref(user, message.chat)
        async with self._turn(ref):
            await self._handle(context, message, ref, TextIn(message.text))

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
            await self._handle(context, message, ref, TextIn(question))

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
            try:
                file = await context.bot.get_file(file_id)
                await file.download_to_drive(path)
                size_on_disk = (await asyncio.to_thread(path.stat)).st_size
                event = FileIn(file_name=name, mime_type=mime, size=size_on_disk, path=path)
                return await self.engine.handle(ref, event)
            finally:  # the engine keeps its own copy of what it accepts
                await asyncio.to_thread(path.unlink, missing_ok=True)

        async with self._turn(ref):
            if size > FileSizeLimit.FILESIZE_DOWNLOAD:
                # The Bot API will not hand a bot anything larger, so it is refused before getFile is tried.
                text = self.t("telegram.file_too_large", ref, name=name, size=f"{size / 1_000_000:.1f} MB")
                await self._send(context, message, [TextOut(text)])
                return
            await self._run(context, message, with_download)

    async def on_press(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        ref = _user_ref(user, message.chat if message is not None else None)
        async with self._turn(ref):
            await self._press(context, query, message, ref)

    async def _press(self, context: Context, query: CallbackQuery, message: Message | None, ref: UserRef) -> None:
        data = query.data or ""
        value = self._long_values.get(data) if data.startswith(TOKEN_PREFIX) else data
        if value is None:
            await query.answer(self.t("telegram.stale_button", ref), show_alert=True)
            return
        await query.answer()
        if message is None:  # too old for Telegram to show: nothing to reply under, nothing to edit
            await context.bot.send_message(query.from_user.id, self.t("telegram.stale_button", ref))
            return
        label = _label_of(message, data)
        if label is not None and message.text:
            # The keyboard goes and the choice shows, so the same question cannot be answered twice.
            try:
                await message.edit_text(f"{message.text}\n\n{self.t('telegram.chosen', ref, label=label)}")
            except TelegramError as exc:  # e.g. pressed twice: the choice still counts, the edit is cosmetic
                log.info("could not mark the choice on message %s: %s", message.message_id, exc)
        await self._handle(context, message, ref, ChoiceIn(value))

    async def on_error(self, update: object, context: Context) -> None:
        """Log the failure with the update, and tell the user something went wrong."""
        log.error("update %r failed", update, exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        ref = _user_ref(user, update.effective_chat) if user else UserRef(CHANNEL, "")
        try:
            await context.bot.send_message(update.effective_chat.id, self.t("engine.error", ref))
        except Exception:  # the network may be what failed; the log above already has the cause
            log.exception("could not tell chat %s about the error", update.effective_chat.id)

    # -- engine and replies out ----------------------------------------------------------------------------
    async def _handle(self, context: Context, message: Message, ref: UserRef, event: Event) -> None:
        await self._run(context, message, lambda: self.engine.handle(ref, event))

    def _turn(self, ref: UserRef) -> asyncio.Lock:
        """The lock that keeps this user's updates in order; taken before a handler's first await."""
        lock = self._locks.get(ref.external_id)
        if lock is None:
            lock = self._locks[ref.external_id] = asyncio.Lock()
        return lock

    async def _run(
        self, context: Context, message: Message, handle: Callable[[], Awaitable[list[Reply]]]
    ) -> None:
        await context.bot.send_chat_action(message.chat.id, ChatAction.TYPING)
        await self._send(context, message, await handle())

    async def _send(self, context: Context, message: Message, replies: list[Reply]) -> None:
        chat = message.chat
        # In a group the answer quotes the question, so everyone sees whom it answers.
        quote = None if chat.type == ChatType.PRIVATE else ReplyParameters(message.message_id)
        for reply in replies:
            match reply:
                case TextOut(text=text, choices=choices):
                    parts = _split(text)
                    for n, part in enumerate(parts, start=1):
                        markup = self._keyboard(choices) if n == len(parts) and choices else None
                        await context.bot.send_message(chat.id, part, reply_markup=markup,
                                                       reply_parameters=quote)
                case DocumentOut(path=path, file_name=file_name, caption=caption):
                    await context.bot.send_document(chat.id, Path(path), filename=file_name,
                                                    caption=caption or None, reply_parameters=quote)

    def _keyboard(self, choices: tuple[Choice, ...]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton(c.label, callback_data=self._data(c.value))]
                                     for c in choices])

    def _data(self, value: str) -> str:
        if len(value.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA and not value.startswith(
            TOKEN_PREFIX
        ):
            return value
        token = TOKEN_PREFIX + hashlib.sha256(value.encode()).hexdigest()[:32]
        self._long_values[token] = value
        return token


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
