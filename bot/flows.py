"""The extension point: a Flow is a multi-step conversation (an application form, say) the engine hosts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.language import Lang, is_lang
from intake.sensitive import redact
from knowledge.question import is_traditional, to_traditional
from knowledge.statements import is_statement
from knowledge.tokens import detect_lang
from knowledge.unanswered import DECLINED, STATEMENT, log_unanswered

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import ColumnElement, FromClause
    from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

    from bot.events import Event
    from bot.replies import Reply
    from bot.state import State
    from bot.texts import Texts
    from bot.users import ChatUser
    from config.campaign import Campaign
    from config.clock import Clock
    from config.settings import Settings
    from knowledge.answer import Answer, Answerer

__all__ = ["Context", "Flow", "Preload"]


@dataclass(frozen=True)
class Preload:
    """A row a flow works on at nearly every step, read by the engine in the same query as the conversation.

    `table` is outer-joined to the user's row (bot.users.User) and state row (bot.state.ConversationState) on
    `onclause`; the flow finds the `columns` of the matching row in ctx.preloaded[its name], or None. One query
    instead of two is the point: on the path every message takes, each statement costs about as much as the
    database's own work.
    """

    table: FromClause
    onclause: ColumnElement[bool]
    columns: tuple[ColumnElement[Any], ...]


@dataclass(slots=True)
class Context:
    """Everything a flow may use while handling one event, inside that event's transaction."""

    # The event's transaction; the engine commits it once the flow has answered.
    connection: AsyncConnection
    user: ChatUser
    state: State
    texts: Texts
    answerer: Answerer
    clock: Clock
    campaign: Campaign
    settings: Settings
    # For work after the commit, which needs a transaction of its own.
    sessions: async_sessionmaker[AsyncSession]
    # The state row's id and version as this event read it.
    state_at: tuple[int, int]
    # Work that must not hold the transaction open (mail, notifications): run once it has committed.
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Rows the flows' Preloads matched when the conversation was read, by flow name (None: no row). A flow that
    # writes its row puts it back here as written: the engine's copy of the conversation for the user's next
    # event keeps it (bot.state.Conversation.fork).
    preloaded: dict[str, tuple[Any, ...] | None] = field(default_factory=dict)
    # Set by a flow that wrote a row of its own under a version check of that row and of `state_at` (the
    # intake's draft): a concurrent event of the same user then conflicts there, so the engine need not write an
    # unchanged state to make it conflict.
    guarded: bool = False
    _session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """An ORM session in the event's transaction, opened on first use: most steps need none."""
        if self._session is None:
            # Joined to the engine's transaction: the session neither commits nor rolls it back.
            self._session = AsyncSession(bind=self.connection, expire_on_commit=False)
        return self._session

    async def flush(self) -> None:
        """Write what the ORM session holds (the engine does, before it commits)."""
        if self._session is not None:
            await self._session.flush()

    async def close(self) -> None:
        """Let go of the ORM session, if one was opened."""
        if self._session is not None:
            await self._session.close()

    @property
    def lang(self) -> Lang:
        """The user's language (follows a /lang switch made in this event)."""
        lang = self.user.lang
        return lang if is_lang(lang) else "zh"

    def t(self, key: str, **vars: object) -> str:
        """A user-facing text in the user's language."""
        return self.texts.t(key, self.lang, **vars)

    def finish(self) -> None:
        """Leave the active flow: clear its name, step and data."""
        self.state.flow = None
        self.state.step = None
        self.state.data = {}

    async def ask(self, question: str, *, outside_form: bool = False) -> Answer:
        """Answer a rules question (typed mid-form, say); a declined one is logged for the FAQ maintainers.

        Outside a form, a message the bot cannot answer that asks nothing (a greeting, "ok", a pasted company
        profile) is a statement: it gets a note on what the bot can do, and is logged apart from the questions.
        """
        # An identity number or phone typed into a question is not needed to answer it: it reaches neither
        # the answerer (an LLM may be remote) nor the unanswered log.
        question = redact(question)
        # "1", "??", "👍": no word says which language the sender reads; the conversation's does.
        answer = await self.answerer.answer(question, None if any(c.isalpha() for c in question) else self.lang)
        if not answer.answered:
            kind = STATEMENT if outside_form and is_statement(question) else DECLINED
            await log_unanswered(self.session, edition=self.campaign.edition, question=question, lang=answer.lang,
                                 channel=self.user.channel, kind=kind)
            if kind == STATEMENT:
                # "ok" says nothing of the sender's language; a sentence does.
                lang = detect_lang(question) if len(question) > 12 else self.lang
                answer = answer.model_copy(update={"answer": self.texts.t("knowledge.statement", lang,
                                                                            campaign=self.campaign.name.get(lang))})
        return with_edition(answer, campaign=self.campaign, now=self.clock.now(), texts=self.texts)


def with_edition(answer: Answer, *, campaign: Campaign, now: datetime, texts: Texts) -> Answer:
    """An answer given after the served edition's deadline, with the edition it rests on named: between editions
    the rules quoted are the latest edition's, and its year must be in sight."""
    if not answer.answered or now < campaign.deadline:
        return answer
    note = texts.t("knowledge.edition_note", answer.lang, campaign=campaign.name.get(answer.lang))
    if answer.lang == "zh" and is_traditional(answer.question):
        note = to_traditional(note)  # in the script of the answer above it, as the answerer writes that
    return answer.model_copy(update={"answer": f"{answer.answer}\n{note}"})


class Flow(Protocol):
    """A conversation the engine hosts; its position lives in ctx.state (flow, step, data), not in memory.

    A flow may also have a `preload` attribute (a Preload): the row it reads at nearly every step, which the
    engine then reads along with the conversation; and a `question(ctx) -> str | None` method naming, beside the
    step, what the buttons offered now answer (the engine ties every button to flow, step and this key, and
    refuses a press whose key no longer matches, bot.stamps). A flow with a `presses` prefix and a
    `press(ctx, value) -> list[Reply]` method takes every button whose value starts with that prefix, whatever
    the conversation is at (a reminder's buttons, bot.reminders).
    """

    @property
    def name(self) -> str:
        """Stable id stored in ConversationState.flow."""
        ...

    @property
    def commands(self) -> frozenset[str]:
        """Commands (without slash) that start this flow."""
        ...

    async def start(self, ctx: Context) -> list[Reply]:
        """Begin: the engine has already set ctx.state.flow to this flow's name with empty step and data."""
        ...

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Take the next text, choice or file; call ctx.finish() to leave the flow."""
        ...
