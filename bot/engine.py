"""The conversation engine: (user, event) -> replies, one committed transaction per event, any transport."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from bot import feedback
from bot.events import ChoiceIn, CommandIn, Event, FileIn, TextIn
from bot.flows import Context, Flow, Preload
from bot.language import LANGS, Lang, is_lang
from bot.receipts import record_once, seen
from bot.replies import Choice, Reply, StaleOut, TextOut
from bot.stamps import stamp, stamped, unstamped
from bot.state import Conversation, conversation_query, open_conversation
from bot.users import UserRef, hinted_lang
from db.base import utcnow
from db.retry import attempts, is_transient

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

    from bot.texts import Texts
    from config.campaign import Campaign
    from config.clock import Clock
    from config.settings import Settings
    from knowledge.answer import Answerer

__all__ = ["BUILTIN_COMMANDS", "LANG_CHOICE_PREFIX", "Engine"]

log = logging.getLogger(__name__)

BUILTIN_COMMANDS = frozenset({"start", "help", "lang", "cancel"})
# Choice values starting with this belong to the engine; flows should prefix theirs with their own name.
LANG_CHOICE_PREFIX = "lang:"
# Conversations kept in memory as their last event committed them, for the next event of the same user: about
# as many as are in the middle of a form at once. Each holds its draft as stored (sealed), a few kilobytes.
RECENT_CONVERSATIONS = 1024
# A number on its own ("1", "2.", "３、") outside a form picks from a list the user has not got (a terminal user
# answering a question long past, say): no rules question to look up.
_NUMBER_ALONE = re.compile(r"[#№]?\s*\d{1,4}\s*[.。、)）]?")


class Engine:
    """Turns one user's event into replies, with the conversation state stored and committed first."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        answerer: Answerer,
        texts: Texts,
        campaign: Campaign,
        clock: Clock,
        settings: Settings,
        flows: Sequence[Flow] = (),
    ) -> None:
        self.sessionmaker = sessionmaker
        # Each event runs in a connection's transaction of its own; flows open ORM sessions on it as needed.
        self.db: AsyncEngine = sessionmaker.kw["bind"]
        self.answerer = answerer
        self.texts = texts
        self.campaign = campaign
        self.clock = clock
        self.settings = settings
        self._flows: dict[str, Flow] = {}
        self._by_command: dict[str, Flow] = {}
        for flow in flows:
            self._register(flow)
        self._preloads: dict[str, Preload] = {
            flow.name: preload for flow in flows if (preload := getattr(flow, "preload", None)) is not None
        }
        self._conversation = conversation_query(self._preloads)
        # Users in a flow, by (channel, external id): the conversation as their last event here committed it.
        # Reading it again is a query per message, and with the draft it is the largest row a step touches.
        # Only where this process is the bot's one worker: Telegram's long polling serves one process, the
        # terminal one person. Behind a webhook several workers take turns with a user's updates, so a worker's
        # copy would be stale nearly every time: a conflict first, then the read anyway.
        self._recent: OrderedDict[tuple[str, str], Conversation] | None = (
            OrderedDict() if settings.telegram_webhook_url is None else None)

    def _register(self, flow: Flow) -> None:
        if flow.name in self._flows:
            raise ValueError(f"two flows are named {flow.name!r}")
        self._flows[flow.name] = flow
        for command in flow.commands:
            name = _command_name(command)
            if name in BUILTIN_COMMANDS:
                raise ValueError(f"flow {flow.name!r} claims the built-in command /{name}")
            if name in self._by_command:
                other = self._by_command[name].name
                raise ValueError(f"flows {other!r} and {flow.name!r} both claim /{name}")
            self._by_command[name] = flow

    @property
    def flows(self) -> tuple[Flow, ...]:
        """The registered flows."""
        return tuple(self._flows.values())

    async def handle(
        self, user_ref: UserRef, event: Event, *, once: Sequence[str] = (), seq: int | None = None,
    ) -> list[Reply]:
        """Process one event in one transaction and return the replies once it is committed.

        `once` names the event for the channel (its update id, the keyboard pressed): an event whose key was
        handled before, by this process or another on the same database, changes nothing and gets no reply.
        `seq` is the channel's sequence number of the event (Telegram's update id): one at or below that of the
        last event applied to the user's conversation arrived late and is refused (recorded, nothing changed).
        """
        kind = type(event).__name__

        def note(attempt: int, exc: BaseException | None) -> None:
            log.info("conflict for %s on %s (attempt %d): %s", user_ref, kind, attempt, exc)

        try:
            async for attempt in attempts(retry_on=_worth_again, note=note):
                with attempt:
                    return await self._handle_once(user_ref, event, once=once, seq=seq)
        except Exception as exc:
            if _worth_again(exc):
                log.error("giving up on %s from %s after repeated conflicts or locks: %s", kind, user_ref, exc)
            else:
                log.exception("event %s from %s failed before dispatch", kind, user_ref)
        return [TextOut(self.texts.t("engine.error", hinted_lang(user_ref)))]

    async def _handle_once(
        self, user_ref: UserRef, event: Event, *, once: Sequence[str], seq: int | None,
    ) -> list[Reply]:
        key = (user_ref.channel, user_ref.external_id)
        # Taken out while the event runs: a failed or conflicting event leaves none, and its retry reads afresh.
        recent = self._recent.pop(key, None) if self._recent is not None else None
        async with self.db.connect() as conn:
            if await seen(conn, once):
                log.info("%s from %s already handled (%s); dropped",
                         type(event).__name__, user_ref, ", ".join(once))
                return []
            if recent is not None:
                conversation = recent.fork(user_ref)
            else:
                conversation = await open_conversation(conn, user_ref, now=utcnow(), query=self._conversation,
                                                       preloads=self._preloads)
            user, state = conversation.user, conversation.state
            kind = type(event).__name__
            if seq is not None:
                if conversation.last_update is not None and seq <= conversation.last_update:
                    return await self._late(conn, conversation, user_ref, kind, once=once, seq=seq)
                conversation.last_update = seq  # saved with the state, whose version check orders the two
            log.info("event %s from user %s (%s), flow=%s step=%s", kind, user.id, user_ref, state.flow, state.step)
            flow, step, lang = state.flow, state.step, user.lang  # as read: the event may change them
            ctx = Context(
                connection=conn,
                user=user,
                state=state,
                texts=self.texts,
                answerer=self.answerer,
                clock=self.clock,
                campaign=self.campaign,
                settings=self.settings,
                sessions=self.sessionmaker,
                preloaded=conversation.preloaded,
                state_at=conversation.state_at,
            )
            try:
                replies = self._stamped(ctx, await self._dispatch(ctx, event))
                await ctx.flush()
                await conversation.save(conn, now=utcnow(), guarded=ctx.guarded)
                # Recorded last, so on SQLite the write lock is not held while the event is being answered; a
                # twin that committed meanwhile makes this one change nothing (its receipt, or the state's
                # version, tells).
                if once and not await record_once(conn, once, now=utcnow()):
                    await conn.rollback()
                    log.info("%s from %s was handled meanwhile (%s); dropped",
                             kind, user_ref, ", ".join(once))
                    return []
                await conn.commit()
                self._remember(key, conversation)
            except Exception as exc:
                if _worth_again(exc):
                    raise  # the connection's end rolls the transaction back; handle() runs the event again
                await conn.rollback()
                log.exception("event %s from user %s (%s) failed in flow=%s step=%s; rolled back",
                              kind, user.id, user_ref, flow, step)
                return [TextOut(self.texts.t("engine.error", lang))]
            finally:
                await ctx.close()
        for task in ctx.after_commit:
            try:
                await task()
            except Exception:  # the event is committed; a failed side task must not turn it into an error
                log.exception("after-commit task of %s from user %s failed", kind, user.id)
        return replies

    async def _late(
        self, conn: AsyncConnection, conversation: Conversation, user_ref: UserRef, kind: str, *,
        once: Sequence[str], seq: int,
    ) -> list[Reply]:
        """Refuse an event that arrived after a later one of the same user was applied (two webhook workers took
        them in swapped order): applied now, it would answer the question its successor was answered for."""
        if once and not await record_once(conn, once, now=utcnow()):
            await conn.rollback()
            return []
        await conn.commit()
        log.warning("%s from user %s (%s) numbered %d arrived after %d was applied; refused",
                    kind, conversation.user.id, user_ref, seq, conversation.last_update)
        self._remember((user_ref.channel, user_ref.external_id), conversation)
        lang = conversation.user.lang if is_lang(conversation.user.lang) else "zh"
        return [TextOut(self.texts.t("engine.out_of_order", lang))]

    def _remember(self, key: tuple[str, str], conversation: Conversation) -> None:
        # Only a user in a flow: every later event of theirs then checks the state's version in a write (see
        # Conversation.fork). Outside a flow an event may write nothing, and /delete has left its flow.
        if self._recent is None or conversation.state.flow is None:
            return
        self._recent[key] = conversation
        if len(self._recent) > RECENT_CONVERSATIONS:
            self._recent.popitem(last=False)

    async def _dispatch(self, ctx: Context, event: Event) -> list[Reply]:
        if isinstance(event, CommandIn):
            return await self._command(ctx, event)
        if isinstance(event, ChoiceIn):
            value, mark = unstamped(event.value)
            if value.startswith(LANG_CHOICE_PREFIX):  # a language can be chosen whatever was asked since
                lang = value.removeprefix(LANG_CHOICE_PREFIX)
                return self._switch_lang(ctx, lang) if is_lang(lang) else self._stale(ctx, event)
            if value.startswith(feedback.RATE_CHOICE_PREFIX):  # names the answer it rates, whatever came since
                return await feedback.press(ctx, value)
            if mark is not None and mark != self._position(ctx):
                return self._stale(ctx, event)  # offered for another question, or another flow
            event = ChoiceIn(value)
        flow = self._active_flow(ctx)
        if flow is not None:
            return await flow.handle(ctx, event)
        match event:
            case TextIn(text=text) if _NUMBER_ALONE.fullmatch(text.strip()):
                return [TextOut(ctx.t("engine.number_alone", number=text.strip()) + "\n\n"
                                + ctx.t("engine.help", mailbox=ctx.campaign.committee.mailbox))]
            case TextIn(text=text) if text.strip():
                answer = await ctx.ask(text.strip(), outside_form=True)
                return [await feedback.offer(ctx, text.strip(), answer)]
            case TextIn():
                return [TextOut(ctx.t("engine.hint"))]
            case ChoiceIn():
                return self._stale(ctx, event)
            case FileIn():
                return [TextOut(ctx.t("engine.file_unexpected"))]
        raise TypeError(f"unsupported event {event!r}")

    async def _command(self, ctx: Context, event: CommandIn) -> list[Reply]:
        name = _command_name(event.name)
        match name:
            case "start":
                return [TextOut(ctx.t(
                    "engine.welcome",
                    campaign=ctx.campaign.name.get(ctx.lang),
                    deadline=ctx.campaign.deadline_display.get(ctx.lang),
                ))]
            case "help":
                return [TextOut(ctx.t("engine.help", mailbox=ctx.campaign.committee.mailbox))]
            case "lang":
                arg = event.args.strip().lower()
                if is_lang(arg):
                    return self._switch_lang(ctx, arg)
                buttons = tuple(
                    Choice(ctx.t(f"engine.lang.{lang}"), f"{LANG_CHOICE_PREFIX}{lang}") for lang in LANGS
                )
                return [TextOut(ctx.t("engine.lang.prompt"), choices=buttons)]
            case "cancel":
                if ctx.state.flow is None:
                    return [TextOut(ctx.t("engine.nothing_to_cancel"))]
                log.info("user %s cancelled flow %s at step %s", ctx.user.id, ctx.state.flow, ctx.state.step)
                ctx.finish()
                return [TextOut(ctx.t("engine.cancelled"))]
        flow = self._by_command.get(name)
        if flow is None:
            return [TextOut(ctx.t("engine.unknown_command", command=name))]
        if ctx.state.flow is not None:
            log.info("user %s leaves flow %s for %s", ctx.user.id, ctx.state.flow, flow.name)
        ctx.finish()
        ctx.state.flow = flow.name
        return await flow.start(ctx)

    def _active_flow(self, ctx: Context) -> Flow | None:
        name = ctx.state.flow
        if name is None:
            return None
        flow = self._flows.get(name)
        if flow is None:
            # A flow removed or renamed by a redeploy: drop the orphaned state rather than trap the user.
            log.warning("user %s was in unknown flow %r (step %r); state cleared",
                        ctx.user.id, name, ctx.state.step)
            ctx.finish()
        return flow

    def _position(self, ctx: Context) -> str:
        """The stamp of where the conversation stands: its flow, step, and the flow's own question key."""
        flow = self._flows.get(ctx.state.flow) if ctx.state.flow is not None else None
        question = getattr(flow, "question", None)
        return stamp(ctx.state.flow, ctx.state.step, question(ctx) if question is not None else None)

    def _stamped(self, ctx: Context, replies: list[Reply]) -> list[Reply]:
        """Every button tied to the question it is offered for, as the event leaves the conversation."""
        if not any(isinstance(r, TextOut) and r.choices for r in replies):
            return replies
        mark = self._position(ctx)
        return [replace(r, choices=tuple(replace(c, value=stamped(c.value, mark)) for c in r.choices))
                if isinstance(r, TextOut) and r.choices else r for r in replies]

    def _switch_lang(self, ctx: Context, lang: Lang) -> list[Reply]:
        ctx.user.lang = lang
        return [TextOut(ctx.t("engine.lang.switched"))]

    def _stale(self, ctx: Context, event: ChoiceIn) -> list[Reply]:
        log.info("stale choice %r from user %s", event.value, ctx.user.id)
        return [StaleOut(ctx.t("engine.stale_choice"))]

    async def aclose(self) -> None:
        """Release the database connections behind the sessionmaker."""
        await self.db.dispose()


def _worth_again(exc: BaseException) -> bool:
    """Two events of one user racing (a double tap, a second worker) end in a unique-key or version conflict,
    and the loser is run again on the winner's committed state; so is an event the database refused for a
    moment (locked, deadlocked)."""
    return isinstance(exc, IntegrityError | StaleDataError) or is_transient(exc)


def _command_name(raw: str) -> str:
    """'/Apply@kcxf_bot' -> 'apply'."""
    return raw.strip().lstrip("/").split("@", 1)[0].lower()


