"""The maintainers' side of the knowledge base, shared by the web console and `kcxf kb`.

FAQ entries are listed, added, edited and deleted; documents uploaded and removed; a question explained (the
answer beside the passages and FAQ entries that were weighed, with their scores); a logged unanswered question
turned into an FAQ entry. Every change is written to Chroma, counted in the knowledge revision and rebuilt into
this process's answerer before the call returns; other processes pick it up at their next revision check.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from knowledge.answer import ZH_NUMERALS, Answer, KnowledgeBase, Lang, TextSource
from knowledge.faq import LANGS, FaqEntry
from knowledge.index import IndexedDoc
from knowledge.ingest import SUPPORTED, Document, IngestError, NoTextError, read_document
from knowledge.retrieve import FaqHit, ScoredPassage
from knowledge.revision import DbRevisions
from knowledge.tokens import detect_lang, normalize

__all__ = [
    "DocumentInfo",
    "Explanation",
    "FaqDraft",
    "IngestResult",
    "KnowledgeAdmin",
    "KnowledgeEditError",
    "Problem",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_VARIANTS = 60
MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 2000
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
FAQ_ID = re.compile(r"^[a-z0-9_]{1,64}$")
# No dots: stored uploads are named <doc>.<lang><suffix> and found again by that prefix.
DOC_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
# What each uploadable type must start with: a renamed executable or a random blob is refused before parsing.
_MAGIC = {".docx": b"PK\x03\x04", ".pdf": b"%PDF-"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a change: the form field it concerns and a text key (prompts kb.error.*)."""

    field: str
    key: str
    vars: dict[str, str | int] = field(default_factory=dict)

    def message(self, texts: TextSource, lang: str) -> str:
        """The problem in the user's language; language names inside it are translated too."""
        values = {k: texts.t(f"kb.lang.{v}", lang) if k == "language" else v for k, v in self.vars.items()}
        return texts.t(f"kb.error.{self.key}", lang, **values)


class KnowledgeEditError(ValueError):
    """A change that was refused; `problems` say why, field by field."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.key for p in problems))
        self.problems = list(problems)

    @classmethod
    def one(cls, field: str, key: str, **vars: str | int) -> KnowledgeEditError:
        return cls([Problem(field, key, dict(vars))])

    def messages(self, texts: TextSource, lang: str) -> list[str]:
        return [p.message(texts, lang) for p in self.problems]


@dataclass(frozen=True)
class FaqDraft:
    """An FAQ entry as a maintainer typed it (variants one per item), before validation."""

    section: str
    questions: dict[str, list[str]]
    answer: dict[str, str]
    id: str = ""

    @classmethod
    def from_entry(cls, entry: FaqEntry) -> FaqDraft:
        return cls(id=entry.id, section=entry.section, questions={k: list(v) for k, v in entry.questions.items()},
                   answer=dict(entry.answer))


@dataclass(frozen=True)
class ExplainedPassage:
    """A passage weighed for a question, with its scores (see ScoredPassage)."""

    doc: str
    lang: str
    section: str
    title: str
    text: str
    bm25: float
    bm25_rank: int
    cosine: float
    vector_rank: int
    fused: float
    coverage: float


@dataclass(frozen=True)
class FaqCandidate:
    """An FAQ entry weighed for a question: the closest variant, cosine, coverage and their blend."""

    faq_id: str
    question: str
    confidence: float
    cosine: float
    coverage: float


@dataclass(frozen=True)
class Explanation:
    """What the bot answers to a question and everything it weighed on the way."""

    answer: Answer
    route: str
    passages: list[ExplainedPassage]
    faq: list[FaqCandidate]


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document across its languages; `builtin` ones ship with the bot and cannot be replaced here."""

    doc: str
    titles: dict[str, str]
    langs: dict[str, int]
    builtin: bool

    def title(self, lang: str) -> str:
        """The title in `lang` when the document has that language, else in the one it has."""
        return self.titles.get(lang) or next(iter(self.titles.values()), self.doc)


@dataclass(frozen=True)
class IngestResult:
    """What an upload became: the document id, its language and passages (None: identical to what was indexed)."""

    doc: str
    lang: str
    title: str
    passages: int | None


def faq_digest(entry: FaqEntry) -> str:
    """A short fingerprint of an entry's content: an edit form carries it so a concurrent change is noticed."""
    # Canonical: the index hands variants back sorted, whatever order they were typed in.
    canonical = [entry.id, entry.section, sorted((k, sorted(v)) for k, v in entry.questions.items()),
                 sorted(entry.answer.items())]
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False).encode()).hexdigest()[:12]


class KnowledgeAdmin:
    """Edits the knowledge base of one running answerer and tells every other process about it."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        revisions: DbRevisions,
        sessions: Callable[[], Awaitable[async_sessionmaker[AsyncSession]]],
        uploads_dir: Path,
        check_every_s: float = 1.0,
        builtin_docs: Path,
    ) -> None:
        self.kb = knowledge
        # The edition's own documents folder: those are re-indexed at every start, so not editable here.
        self.builtin_docs = builtin_docs
        self.revisions = revisions
        self._sessions = sessions
        self.uploads_dir = uploads_dir
        self.check_every_s = check_every_s

    @property
    def index(self):  # type: ignore[no-untyped-def]
        return self.kb.retriever.index

    async def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the database the knowledge revision (and the unanswered log) live in."""
        return await self._sessions()

    async def latest(self) -> None:
        """Follow the revision (once) and catch up with changes made elsewhere before reading."""
        await self.kb.follow(self.revisions, every_s=self.check_every_s)
        await self.kb.sync()

    async def _change(self, reason: str, work: Callable[[], T], *, check: Callable[[], object] | None = None) -> T:
        """Run one index change in a worker thread, count it, and rebuild this process's answerer at once.

        `check` runs first, under the same lock: two editors in this process cannot both pass a check (a free
        id, an unchanged version) and then both write.
        """
        await self.latest()
        async with self.kb.lock:
            if check is not None:
                check()
            try:
                return await asyncio.to_thread(work)
            finally:
                # Counted even when the change failed half-way, so every process rebuilds from what is there.
                revision = await self.revisions.bump(reason=reason)
                await self.kb.changed(revision)

    # -- FAQ ---------------------------------------------------------------------------------------------
    async def list_faq(self, query: str = "") -> list[FaqEntry]:
        """Every FAQ entry, or those whose id, question variants or answers contain `query` (any case)."""
        await self.latest()
        entries = self.index.faq_entries()
        needle = normalize(query.strip())
        if not needle:
            return entries
        return [e for e in entries if needle in normalize(" ".join(
            [e.id, *(q for qs in e.questions.values() for q in qs), *e.answer.values()]))]

    async def get_faq(self, faq_id: str) -> FaqEntry:
        """One entry by id; KnowledgeEditError when there is none."""
        await self.latest()
        for entry in self.index.faq_entries():
            if entry.id == faq_id:
                return entry
        raise KnowledgeEditError.one("id", "faq_not_found", id=faq_id)

    async def add_faq(self, draft: FaqDraft, *, by: str) -> FaqEntry:
        """Create an entry (its id given or derived from the question)."""
        checked: list[FaqEntry] = []

        def check() -> None:
            checked.append(self.validate(draft, existing=self.index.faq_entries(), editing=None))

        await self._change(f"faq.add by {by}", lambda: self.index.put_faq(checked), check=check)
        return checked[0]

    async def edit_faq(self, faq_id: str, draft: FaqDraft, *, by: str, expected: str | None = None) -> FaqEntry:
        """Replace an entry's section, variants and answers (its id stays); `expected` is the digest it had
        when the editor opened it, so someone else's change in between is not overwritten."""
        checked: list[FaqEntry] = []

        def check() -> None:
            existing = self.index.faq_entries()
            current = next((e for e in existing if e.id == faq_id), None)
            if current is None:
                raise KnowledgeEditError.one("id", "faq_not_found", id=faq_id)
            if expected is not None and expected != faq_digest(current):
                raise KnowledgeEditError.one("id", "faq_changed", id=faq_id)
            checked.append(self.validate(replace(draft, id=faq_id), existing=existing, editing=faq_id))

        await self._change(f"faq.edit {faq_id} by {by}", lambda: self.index.put_faq(checked), check=check)
        return checked[0]

    async def save_faq(self, entry: FaqEntry, *, by: str) -> FaqEntry:
        """Add or replace an entry by id (the CLI's `faq add`), with the same checks as the console."""
        checked: list[FaqEntry] = []

        def check() -> None:
            existing = self.index.faq_entries()
            editing = entry.id if any(e.id == entry.id for e in existing) else None
            checked.append(self.validate(FaqDraft.from_entry(entry), existing=existing, editing=editing))

        await self._change(f"faq.save {entry.id} by {by}", lambda: self.index.put_faq(checked), check=check)
        return checked[0]

    async def delete_faq(self, faq_id: str, *, by: str) -> FaqEntry:
        """Remove an entry; returns what it was (for the audit log)."""
        found: list[FaqEntry] = []

        def check() -> None:
            found.extend(e for e in self.index.faq_entries() if e.id == faq_id)
            if not found:
                raise KnowledgeEditError.one("id", "faq_not_found", id=faq_id)

        await self._change(f"faq.delete {faq_id} by {by}", lambda: self.index.delete_faq(faq_id), check=check)
        return found[0]

    async def sync_faq(self, entries: Sequence[FaqEntry], *, by: str) -> tuple[int, int]:
        """Make the index's FAQ exactly `entries` (a validated file); returns (written, removed)."""
        keep = {e.id for e in entries}

        def work() -> tuple[int, int]:
            gone = [e.id for e in self.index.faq_entries() if e.id not in keep]
            for faq_id in gone:
                self.index.delete_faq(faq_id)
            return self.index.put_faq(entries), len(gone)

        return await self._change(f"faq.sync {len(entries)} entries by {by}", work)

    def validate(self, draft: FaqDraft, *, existing: Iterable[FaqEntry], editing: str | None) -> FaqEntry:
        """The entry a draft describes, or KnowledgeEditError listing every problem with it."""
        problems: list[Problem] = []
        others = [e for e in existing if e.id != editing]
        questions = {lang: _clean_lines(draft.questions.get(lang, [])) for lang in LANGS}
        answers = {lang: (draft.answer.get(lang) or "").strip() for lang in LANGS}
        unknown = (set(draft.questions) | set(draft.answer)) - set(LANGS)
        if unknown:
            problems.append(Problem("questions", "unknown_lang", {"langs": ", ".join(sorted(unknown))}))
        faq_id = draft.id.strip()
        if editing is None:
            if not faq_id:
                faq_id = _derive_id(questions, taken={e.id for e in others})
            elif not FAQ_ID.match(faq_id):
                problems.append(Problem("id", "faq_id_format"))
            elif any(e.id == faq_id for e in others):
                problems.append(Problem("id", "faq_id_taken", {"id": faq_id}))
        if draft.section not in ZH_NUMERALS:
            problems.append(Problem("section", "section_unknown"))
        if not any(questions.values()):
            problems.append(Problem("questions", "no_question"))
        if not any(answers.values()):
            problems.append(Problem("answer", "no_answer"))
        taken = {(lang, normalize(q)): e.id for e in others for lang, qs in e.questions.items() for q in qs}
        for lang in LANGS:
            if questions[lang] and not answers[lang] and any(answers.values()):
                problems.append(Problem(f"answer_{lang}", "answer_missing", {"language": lang}))
            if answers[lang] and not questions[lang] and any(questions.values()):
                problems.append(Problem(f"questions_{lang}", "questions_missing", {"language": lang}))
            if len(questions[lang]) > MAX_VARIANTS:
                problems.append(Problem(f"questions_{lang}", "too_many_questions", {"max": MAX_VARIANTS}))
            for q in questions[lang]:
                if len(q) > MAX_QUESTION_CHARS:
                    problems.append(Problem(f"questions_{lang}", "question_too_long", {"max": MAX_QUESTION_CHARS}))
                    break
            if len(answers[lang]) > MAX_ANSWER_CHARS:
                problems.append(Problem(f"answer_{lang}", "answer_too_long", {"max": MAX_ANSWER_CHARS}))
            for q in questions[lang]:
                other = taken.get((lang, normalize(q)))
                if other is not None:
                    problems.append(Problem(f"questions_{lang}", "question_taken", {"question": q, "id": other}))
        if problems:
            raise KnowledgeEditError(problems)
        return FaqEntry(id=faq_id, section=draft.section,
                        questions={lang: qs for lang, qs in questions.items() if qs},
                        answer={lang: a for lang, a in answers.items() if a})

    # -- documents ---------------------------------------------------------------------------------------
    async def list_documents(self) -> list[DocumentInfo]:
        """Indexed documents, one row per document with its passages per language."""
        await self.latest()
        return _group_documents(self.index.documents(), builtin=builtin_doc_ids(self.builtin_docs))

    async def ingest_upload(self, *, filename: str, data: bytes, by: str) -> IngestResult:
        """Index an uploaded file (md, txt, docx, pdf; size and content checked); the same id replaces."""
        name = _safe_name(filename)
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED:
            raise KnowledgeEditError.one("file", "doc_type")
        if not data:
            raise KnowledgeEditError.one("file", "doc_empty")
        if len(data) > MAX_UPLOAD_BYTES:
            raise KnowledgeEditError.one("file", "doc_too_large", max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))
        magic = _MAGIC.get(suffix)
        if magic is not None and not data.startswith(magic):
            raise KnowledgeEditError.one("file", "doc_unreadable")
        if magic is None:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise KnowledgeEditError.one("file", "doc_encoding") from None
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        # The upload is parsed under a name of our own making; the sender's name only suggests id and title.
        scratch = self.uploads_dir / f".upload-{uuid.uuid4().hex}{suffix}"
        try:
            scratch.write_bytes(data)
            document = await asyncio.to_thread(_read_upload, scratch, name)
        finally:
            scratch.unlink(missing_ok=True)
        if not DOC_ID.match(document.doc):
            raise KnowledgeEditError.one("file", "doc_id")
        if document.lang not in LANGS:
            raise KnowledgeEditError.one("file", "doc_lang")
        if document.doc in builtin_doc_ids(self.builtin_docs):
            raise KnowledgeEditError.one("file", "doc_builtin", doc=document.doc)
        stored = self.uploads_dir / f"{document.doc}.{document.lang}{suffix}"
        document = replace(document, source=str(stored))

        def work() -> int | None:
            n = self.index.upsert_document(document)
            for old in self.uploads_dir.glob(f"{document.doc}.{document.lang}.*"):
                old.unlink()
            stored.write_bytes(data)
            return n

        n = await self._change(f"doc.upload {document.doc} ({document.lang}) by {by}", work)
        return IngestResult(doc=document.doc, lang=document.lang, title=document.title, passages=n)

    async def ingest_document(self, document: Document, *, by: str) -> int | None:
        """Index a document read from a maintainer's own file (`kcxf kb ingest`); None when unchanged."""
        return await self._change(f"doc.ingest {document.doc} ({document.lang}) by {by}",
                                  lambda: self.index.upsert_document(document))

    async def remove_document(self, doc: str, *, by: str) -> int:
        """Remove a document in every language (and its stored upload); returns the passages removed."""
        if doc in builtin_doc_ids(self.builtin_docs):
            raise KnowledgeEditError.one("doc", "doc_builtin", doc=doc)
        if not any(d.doc == doc for d in await self.list_documents()):
            raise KnowledgeEditError.one("doc", "doc_not_found", doc=doc)

        def work() -> int:
            n = self.index.remove_document(doc)
            if DOC_ID.match(doc):
                for stored in self.uploads_dir.glob(f"{doc}.*"):
                    stored.unlink()
            return n

        return await self._change(f"doc.remove {doc} by {by}", work)

    # -- questions ---------------------------------------------------------------------------------------
    async def explain(self, question: str, lang: Lang | None = None, *, k: int = 5) -> Explanation:
        """The answer the bot gives now, beside the passages and FAQ entries it weighed, with their scores."""
        await self.latest()
        lang = lang or detect_lang(question)
        answer = await self.kb.answer(question, lang)
        retriever = self.kb.retriever
        passages = [_explained(p) for p in retriever.scored_passages(question.strip(), lang=lang, k=k)]
        candidates = [_candidate(h) for h in retriever.faq_candidates(question.strip(), lang=lang)[:k]]
        return Explanation(answer=answer, route=route_of(answer), passages=passages, faq=candidates)


def route_of(answer: Answer) -> str:
    """Which path produced an answer: faq, eligibility, passages, llm or declined."""
    if not answer.answered:
        return "declined"
    if answer.via == "extractive" and answer.sources and answer.sources[0].doc == "campaign":
        return "eligibility"
    return {"extractive": "passages"}.get(answer.via, answer.via)


def builtin_doc_ids(folder: Path) -> set[str]:
    """Ids of the documents an edition ships in its docs folder (re-indexed at every start, so not editable here)."""
    ids = set()
    for path in sorted(folder.glob("*.md")):
        try:
            ids.add(read_document(path).doc)
        except IngestError:  # a broken shipped file is reported by ensure_builtin, not here
            continue
    return ids


def _read_upload(scratch: Path, name: str) -> Document:
    """Parse the scratch copy; the id and title come from front matter, else from the sender's file name."""
    try:
        document = read_document(scratch)
    except NoTextError as exc:
        raise KnowledgeEditError.one("file", "doc_no_text") from exc
    except IngestError as exc:
        raise KnowledgeEditError.one("file", "doc_unreadable") from exc
    except Exception as exc:  # python-docx and pypdf raise many kinds on a damaged file
        log.info("upload %r could not be parsed: %s", name, exc)
        raise KnowledgeEditError.one("file", "doc_unreadable") from exc
    stem = Path(name).stem
    if document.doc == scratch.stem:
        document = replace(document, doc=_doc_id(stem))
    if document.title == scratch.stem:
        document = replace(document, title=stem or document.doc)
    return replace(document, doc=document.doc.lower())


def _safe_name(filename: str) -> str:
    """The last path component of a client-supplied name, without control characters, at most 120 long."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".")
    stem, suffix = Path(name).stem[:100], Path(name).suffix[:10]
    return f"{stem}{suffix}"


def _doc_id(stem: str) -> str:
    """A document id from a file name: ASCII words joined by '-', or a hash of the name when it has none."""
    words = re.findall(r"[a-z0-9]+", unicodedata.normalize("NFKC", stem).lower())
    slug = "-".join(words)[:60].strip("-")
    return slug or "doc-" + hashlib.sha1(stem.encode()).hexdigest()[:8]


def _derive_id(questions: dict[str, list[str]], *, taken: set[str]) -> str:
    """A readable id from the first English variant ("Is there parking?" → is_there_parking), else faq_<hex>."""
    english = (questions.get("en") or [""])[0]
    base = "_".join(re.findall(r"[a-z0-9]+", english.lower())[:6])[:48] or f"faq_{uuid.uuid4().hex[:8]}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def _clean_lines(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in lines if line and line.strip()))


def _group_documents(rows: Iterable[IndexedDoc], *, builtin: set[str]) -> list[DocumentInfo]:
    grouped: dict[str, DocumentInfo] = {}
    for row in rows:
        info = grouped.setdefault(row.doc, DocumentInfo(doc=row.doc, titles={}, langs={},
                                                        builtin=row.doc in builtin))
        info.titles[row.lang] = row.title
        info.langs[row.lang] = row.chunks
    return sorted(grouped.values(), key=lambda d: (not d.builtin, d.doc))


def _explained(p: ScoredPassage) -> ExplainedPassage:
    return ExplainedPassage(
        doc=p.chunk.doc, lang=p.chunk.lang, section=p.chunk.section, title=p.chunk.title,
        text=p.chunk.plain_text, bm25=round(p.bm25, 4), bm25_rank=p.bm25_rank, cosine=round(p.cosine, 4),
        vector_rank=p.vector_rank, fused=round(p.fused, 5), coverage=round(p.coverage, 3),
    )


def _candidate(h: FaqHit) -> FaqCandidate:
    return FaqCandidate(faq_id=h.entry.id, question=h.question, confidence=round(h.confidence, 4),
                        cosine=round(h.cosine, 4), coverage=round(h.coverage, 3))
