"""What one process needs, opened once from the settings: campaign, texts, knowledge base, database."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import knowledge.unanswered as unanswered_log
from bot.engine import Engine
from bot.flows import Flow, with_edition
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import Clock
from config.editions import Edition, Editions, live_edition
from config.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake import sealing
from intake.data_keys import DataKeys, load_data_keys
from intake.forms import Form, load_forms
from intake.sensitive import redact, sensitive_field_ids
from knowledge.revision import DbRevisions

# Imported where first used, so that a command needing only the database (`kcxf queue`, `kcxf staff`, `kcxf db`)
# starts without loading the knowledge base's libraries (chromadb, bm25s, jieba) or python-docx.
if TYPE_CHECKING:
    from bot.outbox import Send
    from judging.scorecards import Scorecards
    from knowledge.admin import KnowledgeAdmin
    from knowledge.answer import Answer, Answerer, KnowledgeBase
    from knowledge.inbox import Inbox

log = logging.getLogger(__name__)


@dataclass
class Background:
    """The loops a running bot keeps beside its channel: started by Runtime.background, ended by stop()."""

    tasks: list[asyncio.Task[None]]

    async def stop(self) -> None:
        """Cancel the loops and wait until they have ended."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks.clear()


@dataclass
class Runtime:
    """Opened once per process by the entry point and passed down."""

    settings: Settings
    editions: Editions
    # The edition this process serves, chosen at start from the dates (or KCXF_EDITION).
    edition: Edition
    texts: Texts
    data_keys: DataKeys
    _db: AsyncEngine | None = field(default=None, init=False)
    # Two first callers at once must not both build an engine, nor use one before its schema exists.
    _db_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @classmethod
    def open(cls, settings: Settings | None = None) -> Runtime:
        """Load settings (environment, .env), the editions, the texts and the data keys; fail early."""
        settings = settings or Settings()
        editions, edition = live_edition(settings)
        return cls(settings=settings, editions=editions, edition=edition, texts=Texts.load(),
                   data_keys=load_data_keys(settings))

    @property
    def campaign(self) -> Campaign:
        """The campaign of the edition this process serves."""
        return self.edition.campaign

    @cached_property
    def forms(self) -> dict[str, Form]:
        """The application form of every award, by award id; FormError on a broken form file."""
        return load_forms(self.campaign, directory=self.edition.forms_dir)

    def forms_of(self, year: int) -> dict[str, Form]:
        """The forms of an edition (a past record's answers are read with its own year's labels); none when that
        year's folder is gone."""
        if year == self.edition.year:
            return self.forms
        return _forms_of(self.editions.get(year)) if year in self.editions.years else {}

    def campaign_of(self, year: int) -> Campaign:
        """The campaign of an edition (its award names for a past record); the served one when that folder is gone."""
        return self.editions.get(year).campaign if year in self.editions.years else self.campaign

    def _sensitive_ids(self) -> frozenset[str]:
        # Every edition's: a past year's record keeps its identity numbers sealed under the ids of its own forms.
        ids: set[str] = set()
        for edition in self.editions:
            ids |= set(sensitive_field_ids(self.forms_of(edition.year).values()))
        return frozenset(ids)

    @cached_property
    def scorecards(self) -> Scorecards:
        """How entries are judged (stages, scorecards per award group, risk items); ScorecardError if broken."""
        from judging.scorecards import load_scorecards

        return load_scorecards(self.edition.scorecards_file, self.campaign)

    @cached_property
    def knowledge(self) -> KnowledgeBase:
        """The answerer; the index is built on first use."""
        from knowledge.service import open_knowledge

        return open_knowledge(self.settings, texts=self.texts, edition=self.edition)

    @cached_property
    def knowledge_revisions(self) -> DbRevisions:
        """The knowledge revision on this runtime's database (bumped by every edit, followed by the bot)."""
        return DbRevisions(self.sessionmaker, edition=self.edition.year)

    @cached_property
    def knowledge_admin(self) -> KnowledgeAdmin:
        """FAQ and document editing for the console and `kcxf kb`, live in this process's knowledge base."""
        from knowledge.admin import KnowledgeAdmin

        return KnowledgeAdmin(
            self.knowledge, revisions=self.knowledge_revisions, sessions=self.sessionmaker,
            uploads_dir=self.settings.data_dir / "knowledge-uploads", check_every_s=self.settings.knowledge_check_s,
            builtin_docs=self.edition.docs_dir,
        )

    @cached_property
    def knowledge_inbox(self) -> Inbox:
        """The maintainers' inbox of unanswered questions, grouped by the index's own embedding."""
        from knowledge.grouping import Similarity
        from knowledge.inbox import Inbox

        similarity = Similarity(self.index.embedding, threshold=self.settings.inbox_similarity)
        return Inbox(self.knowledge_admin, similarity=similarity)

    @property
    def index(self):  # type: ignore[no-untyped-def]
        return self.knowledge.retriever.index

    @property
    def retriever(self):  # type: ignore[no-untyped-def]
        return self.knowledge.retriever

    async def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the configured database, migrated to the newest schema on first use."""
        if self._db is None:
            async with self._db_lock:
                if self._db is None:
                    # Answers are sealed and opened by their column type with the process's keys (intake.sealing).
                    sealing.install(sealing.Sealer(self.data_keys, self._sensitive_ids()))
                    self.settings.data_dir.mkdir(parents=True, exist_ok=True)
                    engine = make_engine(self.settings.db_url,
                                         sqlite_busy_timeout_s=self.settings.sqlite_busy_timeout_s)
                    await upgrade(engine)
                    self._db = engine
        return make_sessionmaker(self._db)

    @property
    def clock(self) -> Clock:
        """The campaign clock: frozen at KCXF_NOW for rehearsals, else the real time in the campaign's zone."""
        return self.settings.clock()

    def flows(self) -> list[Flow]:
        """The conversations the bot offers beside rules questions: applying, drafts, status, privacy, deletion,
        and the buttons of the deadline reminders."""
        from bot.reminders import RemindersFlow
        from intake.flow import DeleteFlow, DraftsFlow, IntakeFlow, PrivacyFlow, StatusFlow

        intake = IntakeFlow(self.forms, editions=self.editions)
        return [intake, DraftsFlow(intake), StatusFlow(self.editions), PrivacyFlow(), DeleteFlow(), RemindersFlow(intake)]

    async def engine(self, *, flows: Sequence[Flow] | None = None, answerer: Answerer | None = None) -> Engine:
        """The conversation engine on this runtime's database, answering from its knowledge base.

        The knowledge base follows the knowledge revision from here on, so edits made by the console or by
        `kcxf kb` in any process reach the running bot without a restart.
        """
        if answerer is None:
            await self.knowledge.follow(self.knowledge_revisions, every_s=self.settings.knowledge_check_s)
        return Engine(
            sessionmaker=await self.sessionmaker(),
            answerer=answerer or self.knowledge,
            texts=self.texts,
            campaign=self.campaign,
            clock=self.clock,
            settings=self.settings,
            flows=self.flows() if flows is None else flows,
        )

    def background(
        self, engine: Engine, *, channel: str, send: Send, outbox_interval_s: float | None = None,
    ) -> Background:
        """Start, in the running event loop, what every bot process runs beside its channel (Telegram or the
        terminal alike): delivering the outbox of `channel` through `send`, the housekeeping, the daily purge."""
        from bot import outbox
        from bot.housekeeping import keep_house_forever
        from intake.retention import purge_periodically

        settings = engine.settings
        return Background([
            asyncio.create_task(outbox.deliver_forever(engine.sessionmaker, channel=channel, send=send,
                                                       interval_s=outbox_interval_s or outbox.INTERVAL_S)),
            asyncio.create_task(keep_house_forever(engine)),
            asyncio.create_task(purge_periodically(engine.sessionmaker, clock=engine.clock,
                                                   days=settings.draft_retention_days, files_dir=settings.files_dir)),
        ])

    async def ask_and_log(self, question: str, *, channel: str) -> Answer:
        """Answer a question; a declined one goes to the maintainers' unanswered log."""
        question = redact(question)  # an identity number or phone typed into a question is never needed, nor kept
        answer = with_edition(await self.knowledge.answer(question), campaign=self.campaign, now=self.clock.now(),
                              texts=self.texts)
        if not answer.answered:
            sessions = await self.sessionmaker()
            async with sessions() as session, session.begin():
                await unanswered_log.log_unanswered(session, edition=self.edition.year, question=question,
                                                    lang=answer.lang, channel=channel)
        return answer

    async def unanswered(self, *, limit: int) -> list[unanswered_log.UnansweredQuestion]:
        sessions = await self.sessionmaker()
        async with sessions() as session:
            return list(await unanswered_log.list_unanswered(session, edition=self.edition.year, limit=limit))

    async def close(self) -> None:
        """Release database connections (a later call to sessionmaker() opens new ones)."""
        if self._db is not None:
            await self._db.dispose()
            self._db = None


@functools.cache
def _forms_of(edition: Edition) -> dict[str, Form]:
    return load_forms(edition.campaign, directory=edition.forms_dir)
