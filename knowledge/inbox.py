"""The maintainers' inbox: what the bot could not answer, grouped by question, ranked, answered or ignored at once.

Read by the console's 未回答的问题 page, `kcxf kb unanswered` and the daily digest. Groups are worked out afresh
from the log on every read (knowledge.grouping), so a better threshold or another embedding applies to what is
already logged; a message is resolved on its own row (knowledge.unanswered), so a group's new askers after it was
answered form a group of their own, if the bot still cannot answer them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from db.base import utcnow
from knowledge.admin import (
    MAX_QUESTION_CHARS,
    MAX_VARIANTS,
    FaqCandidate,
    FaqDraft,
    KnowledgeAdmin,
    KnowledgeEditError,
    faq_digest,
)
from knowledge.faq import LANGS, FaqEntry
from knowledge.grouping import MAX_MESSAGES, QuestionGroup, Similarity, group_messages, normalise, rank
from knowledge.ratings import Votes, count_votes
from knowledge.unanswered import QUESTION_KINDS, STATEMENT, count_open, list_logged, resolve_many

__all__ = ["DRAFT_VARIANTS", "Inbox", "Resolved"]

log = logging.getLogger(__name__)

# Wordings of a group offered as the question variants of a new FAQ entry, per language.
DRAFT_VARIANTS = 8
# Below this confidence an FAQ entry shares a word or two with the question and nothing more: not offered.
MIN_SUGGESTION = 0.2


@dataclass(frozen=True)
class Resolved:
    """What answering or ignoring a group did: the messages it resolved, and the wordings added to the FAQ entry."""

    ids: list[int]
    faq: FaqEntry | None = None
    added: list[str] | None = None


class Inbox:
    """Groups, ranks and resolves logged messages, through the knowledge base's own admin and similarity."""

    def __init__(self, admin: KnowledgeAdmin, *, similarity: Similarity) -> None:
        self.admin = admin
        self.similarity = similarity

    async def groups(self, *, include_resolved: bool = False, statements: bool = False,
                     ids: Sequence[int] | None = None) -> list[QuestionGroup]:
        """The inbox's groups (or the statement bin's), most pressing first; resolved ones only when asked."""
        kinds = (STATEMENT,) if statements else QUESTION_KINDS
        maker = await self.admin.sessions()
        async with maker() as session:
            messages = await list_logged(session, limit=MAX_MESSAGES, include_resolved=include_resolved,
                                         kinds=kinds, ids=ids, edition=self.admin.revisions.edition)
        if include_resolved:
            # Answered and open messages of one question stay apart: one row says what was done, the other what
            # is still waiting.
            open_, done = [m for m in messages if not m.resolved], [m for m in messages if m.resolved]
            found = [*await self._group(open_), *await self._group(done)]
        else:
            found = await self._group(messages)
        return rank(found, now=utcnow())

    async def _group(self, messages: list) -> list[QuestionGroup]:  # type: ignore[type-arg]
        return await asyncio.to_thread(group_messages, messages, self.similarity)

    async def open_groups(self) -> int:
        """How many questions wait for an answer (for the FAQ page's reminder)."""
        maker = await self.admin.sessions()
        async with maker() as session:
            if not await count_open(session, edition=self.admin.revisions.edition):
                return 0
        return len(await self.groups())

    async def votes(self) -> Votes:
        """How the askers rated the answers they were given (👍 / 👎), for the inbox's header."""
        maker = await self.admin.sessions()
        async with maker() as session:
            return await count_votes(session)

    async def group(self, anchor: int) -> QuestionGroup:
        """The open group a message belongs to now (or that message alone, when it was resolved meanwhile)."""
        for statements in (False, True):
            for group in await self.groups(statements=statements):
                if anchor in group.ids:
                    return group
        alone = await self.groups(include_resolved=True, ids=[anchor]) or await self.groups(
            include_resolved=True, statements=True, ids=[anchor])
        if not alone:
            raise KnowledgeEditError.one("unanswered", "unanswered_not_found", id=anchor)
        return alone[0]

    async def suggestions(self, group: QuestionGroup, *, k: int = 3) -> list[FaqCandidate]:
        """Existing FAQ entries that may answer the group, most similar first (the retrieval's own confidence)."""
        await self.admin.latest()
        best: dict[str, FaqCandidate] = {}
        for lang, text in group.wordings[:3]:
            if lang not in LANGS:
                continue
            for hit in self.admin.kb.retriever.faq_candidates(text, lang=lang)[: k + 2]:
                found = FaqCandidate(faq_id=hit.entry.id, question=hit.question, confidence=round(hit.confidence, 4),
                                     cosine=round(hit.cosine, 4), coverage=round(hit.coverage, 3))
                if hit.entry.id not in best or found.confidence > best[hit.entry.id].confidence:
                    best[hit.entry.id] = found
        found = [c for c in best.values() if c.confidence >= MIN_SUGGESTION]
        return sorted(found, key=lambda c: -c.confidence)[:k]

    def draft(self, group: QuestionGroup) -> FaqDraft:
        """A new FAQ entry's draft whose question variants are the group's wordings, the most asked first."""
        questions: dict[str, list[str]] = {}
        for lang, text in group.wordings:
            if lang in LANGS and len(text) <= MAX_QUESTION_CHARS and len(questions.get(lang, [])) < DRAFT_VARIANTS:
                questions.setdefault(lang, []).append(text)
        if not questions:  # only over-long messages: the representative, cut, for the maintainer to shorten
            questions = {group.lang if group.lang in LANGS else "zh": [group.question[:MAX_QUESTION_CHARS]]}
        return FaqDraft(section="", questions=questions, answer={})

    async def answer_new(self, draft: FaqDraft, *, anchor: int, seen: Sequence[int], by: str) -> Resolved:
        """Create an FAQ entry for a group and resolve every message in it (KnowledgeEditError: nothing changed)."""
        await self.group(anchor)  # an unknown group is refused before an entry is made for it
        entry = await self.admin.add_faq(draft, by=by)
        ids = await self._resolve(anchor, seen, faq_id=entry.id, by=by)
        return Resolved(ids=ids, faq=entry, added=[q for qs in entry.questions.values() for q in qs])

    async def answer_with(self, faq_id: str, *, anchor: int, seen: Sequence[int], by: str) -> Resolved:
        """Answer a group with an existing FAQ entry: its wordings become variants of the entry (in the languages
        the entry answers, where no other entry has them), so the bot answers them from now on; then every
        message in it is resolved."""
        group = await self.group(anchor)
        entry = await self.admin.get_faq(faq_id)
        taken = {(lang, normalise(q)) for e in await self.admin.list_faq() for lang, qs in e.questions.items()
                 for q in qs}
        questions = {lang: list(qs) for lang, qs in entry.questions.items()}
        added: list[str] = []
        for lang, text in group.wordings:
            variants = questions.get(lang)
            if (variants is None or lang not in entry.answer or (lang, normalise(text)) in taken
                    or len(text) > MAX_QUESTION_CHARS or len(variants) >= MAX_VARIANTS):
                continue
            variants.append(text)
            taken.add((lang, normalise(text)))
            added.append(text)
        if added:
            entry = await self.admin.edit_faq(faq_id, replace(FaqDraft.from_entry(entry), questions=questions),
                                              by=by, expected=faq_digest(entry))
        ids = await self._resolve(anchor, seen, faq_id=faq_id, by=by)
        return Resolved(ids=ids, faq=entry, added=added)

    async def ignore(self, *, anchor: int, seen: Sequence[int], by: str) -> Resolved:
        """Take a group off the inbox without an answer (spam, out of scope, answered elsewhere)."""
        return Resolved(ids=await self._resolve(anchor, seen, faq_id=None, by=by))

    async def _resolve(self, anchor: int, seen: Sequence[int], *, faq_id: str | None, by: str) -> list[int]:
        """Resolve what the maintainer saw of the group and whatever joined it since."""
        group = await self.group(anchor)
        ids = sorted({*seen, *group.ids})
        maker = await self.admin.sessions()
        for attempt in (1, 2):
            try:
                async with maker() as session, session.begin():
                    return await resolve_many(session, ids, faq_id=faq_id, by=by)
            except IntegrityError:  # a colleague resolved some of them at this moment: resolve the rest
                if attempt == 2:
                    raise
        return []
