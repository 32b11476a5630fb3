"""The knowledge-base pages: FAQ list and editor, the unanswered-question log, "test a question", documents.

Maintainers and administrators only. Every change goes through the runtime's KnowledgeAdmin, so the bot in this
process answers from it at once and bots in other processes at their next revision check, and every change is
written to the audit log with what it was before and after.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response

from console import audit
from console.body_limit import BodyCap
from console.deps import ClockDep, Db, Maintainer, RuntimeDep
from console.errors import ConsoleRefusal
from console.templating import page, request_lang
from console.visits import last_visit, record_visit
from db.base import utcnow
from knowledge.admin import (
    MAX_UPLOAD_BYTES,
    FaqDraft,
    KnowledgeAdmin,
    KnowledgeEditError,
    Problem,
    faq_digest,
)
from knowledge.answer import FAQ_CONFIDENCE, FAQ_TRUSTED, MIN_COVERAGE, ZH_NUMERALS
from knowledge.faq import LANGS, FaqEntry
from knowledge.grouping import QuestionGroup
from knowledge.inbox import Inbox
from knowledge.tokens import detect_lang

__all__ = ["UPLOAD_CAP", "UPLOAD_PATH", "router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/knowledge")

UPLOAD_PATH = "/knowledge/documents"
# The upload's body: the largest document and the form around it (console.body_limit refuses more).
UPLOAD_CAP = BodyCap(MAX_UPLOAD_BYTES + 256 * 1024, key="kb.error.doc_too_large", max_mb=MAX_UPLOAD_BYTES // (1024 * 1024))
FaqId = Annotated[str, PathParam(pattern=r"^[a-z0-9_]{1,64}$")]
DocId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")]
MAX_TEXT = 20_000  # a form field's length cap, well above what validation accepts (it says why)
MAX_QUESTION = 500
# The open groups shown at once (the rest behind "show more"), and the message ids a group's form may carry.
GROUPS_SHOWN = 30
MAX_IDS = 20_000
MAX_SEEN = 200_000
INBOX_PAGE = "unanswered"


class NoSuchFaq(ConsoleRefusal):
    """No FAQ entry behind this address."""

    status_code = 404
    key = "kb.page.faq_missing"


class NoSuchMessage(ConsoleRefusal):
    """No logged message behind this address."""

    status_code = 404
    key = "kb.page.message_missing"


def _admin(runtime: Any) -> KnowledgeAdmin:
    admin: KnowledgeAdmin = runtime.knowledge_admin
    return admin


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _entry_json(entry: FaqEntry) -> dict[str, Any]:
    return entry.model_dump()


@dataclass(frozen=True)
class FaqForm:
    """What the add/edit form shows: the values typed (or stored) and the problems found with them."""

    id: str = ""
    section: str = ""
    questions_zh: str = ""
    questions_en: str = ""
    answer_zh: str = ""
    answer_en: str = ""

    @classmethod
    def of(cls, draft: FaqDraft) -> FaqForm:
        return cls(id=draft.id, section=draft.section,
                   questions_zh="\n".join(draft.questions.get("zh", [])),
                   questions_en="\n".join(draft.questions.get("en", [])),
                   answer_zh=draft.answer.get("zh", ""), answer_en=draft.answer.get("en", ""))

    def draft(self) -> FaqDraft:
        return FaqDraft(id=self.id.strip(), section=self.section,
                        questions={"zh": _lines(self.questions_zh), "en": _lines(self.questions_en)},
                        answer={"zh": self.answer_zh, "en": self.answer_en})


def _sections(runtime: Any, lang: str) -> list[tuple[str, str]]:
    kb = runtime.knowledge
    return [(n, kb.section_name(n, lang)) for n in ZH_NUMERALS]


def _form_page(
    request: Request, runtime: Any, *, form: FaqForm, editing: FaqEntry | None = None, digest: str = "",
    problems: list[Problem] | None = None, group: QuestionGroup | None = None, seen: str = "",
    status_code: int = 200,
) -> Response:
    lang = request_lang(request)
    problems = problems or []
    return page(
        request, "knowledge/faq_form.html", status_code=status_code, form=form, editing=editing, digest=digest,
        sections=_sections(runtime, lang), group=group, seen=seen or (_ids(group.ids) if group else ""),
        messages=[p.message(runtime.texts, lang) for p in problems],
        bad_fields={p.field for p in problems}, tab="faq",
    )


# -- FAQ ---------------------------------------------------------------------------------------------------
@router.get("")
async def knowledge_home(staff: Maintainer) -> Response:
    """The knowledge base opens on its FAQ."""
    return RedirectResponse("/knowledge/faq", status_code=303)


@router.get("/faq")
async def faq_list(request: Request, staff: Maintainer, runtime: RuntimeDep) -> Response:
    """Every FAQ entry (or those matching `q`), with a count."""
    admin = _admin(runtime)
    query = request.query_params.get("q", "").strip()[:200]
    everything = await admin.list_faq()
    shown = await admin.list_faq(query) if query else everything
    lang = request_lang(request)
    sections = dict(_sections(runtime, lang))
    open_questions = await _inbox(runtime).open_groups()
    return page(request, "knowledge/faq_list.html", entries=shown, total=len(everything), query=query,
                sections=sections, notice=_notice(request), tab="faq", open_questions=open_questions)


@router.get("/faq/new")
async def faq_new(request: Request, staff: Maintainer, runtime: RuntimeDep) -> Response:
    """The add form; `group` = an unanswered group's anchor prefills it with the group's wordings."""
    raw = request.query_params.get("group", "")
    if raw.isdigit():
        inbox = _inbox(runtime)
        try:
            group = await inbox.group(int(raw))
        except KnowledgeEditError as exc:
            return _form_page(request, runtime, form=FaqForm(), problems=exc.problems, status_code=404)
        return _form_page(request, runtime, form=FaqForm.of(inbox.draft(group)), group=group)
    return _form_page(request, runtime, form=FaqForm())


@router.post("/faq/new")
async def faq_create(
    request: Request,
    staff: Maintainer,
    runtime: RuntimeDep,
    db: Db,
    clock: ClockDep,
    id: Annotated[str, Form(max_length=200)] = "",  # noqa: A002 - the form field's name
    section: Annotated[str, Form(max_length=10)] = "",
    questions_zh: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    questions_en: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    answer_zh: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    answer_en: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    from_group: Annotated[str, Form(max_length=20)] = "",
    seen: Annotated[str, Form(max_length=MAX_SEEN)] = "",
) -> Response:
    """Create an entry; the bot answers with it before this returns. The group it came from is resolved."""
    admin = _admin(runtime)
    form = FaqForm(id=id, section=section, questions_zh=questions_zh, questions_en=questions_en,
                   answer_zh=answer_zh, answer_en=answer_en)
    anchor = int(from_group) if from_group.isdigit() else None
    try:
        if anchor is None:
            entry, resolved = await admin.add_faq(form.draft(), by=staff.name), None
        else:
            resolved = await _inbox(runtime).answer_new(form.draft(), anchor=anchor, seen=_parse_ids(seen),
                                                        by=staff.name)
            assert resolved.faq is not None
            entry = resolved.faq
    except KnowledgeEditError as exc:
        group = None
        if anchor is not None:
            with contextlib.suppress(KnowledgeEditError):
                group = await _inbox(runtime).group(anchor)
        return _form_page(request, runtime, form=form, problems=exc.problems, group=group, seen=seen,
                          status_code=400)
    await audit.record(db, actor=staff.name, action="faq.add", target=entry.id, after=_entry_json(entry),
                       note=f"unanswered {_ids(resolved.ids)}" if resolved else "", now=clock.now(),
                       address=_address(request))
    await db.commit()
    log.info("%s added FAQ %s", staff.name, entry.id)
    if resolved is not None:
        return RedirectResponse(f"/knowledge/unanswered?answered={entry.id}&n={len(resolved.ids)}", status_code=303)
    return RedirectResponse(f"/knowledge/faq?saved={entry.id}", status_code=303)


@router.get("/faq/{faq_id}")
async def faq_edit_form(request: Request, faq_id: FaqId, staff: Maintainer, runtime: RuntimeDep) -> Response:
    """The edit form of one entry (its id stays; the form carries the version it shows)."""
    entry = await _entry(runtime, faq_id)
    return _form_page(request, runtime, form=FaqForm.of(FaqDraft.from_entry(entry)), editing=entry,
                      digest=faq_digest(entry))


@router.post("/faq/{faq_id}")
async def faq_save(
    request: Request,
    faq_id: FaqId,
    staff: Maintainer,
    runtime: RuntimeDep,
    db: Db,
    clock: ClockDep,
    digest: Annotated[str, Form(max_length=64)],
    section: Annotated[str, Form(max_length=10)] = "",
    questions_zh: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    questions_en: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    answer_zh: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    answer_en: Annotated[str, Form(max_length=MAX_TEXT)] = "",
) -> Response:
    """Save an edit, unless someone changed the entry since this form was opened."""
    admin = _admin(runtime)
    before = await _entry(runtime, faq_id)
    form = FaqForm(id=faq_id, section=section, questions_zh=questions_zh, questions_en=questions_en,
                   answer_zh=answer_zh, answer_en=answer_en)
    try:
        entry = await admin.edit_faq(faq_id, form.draft(), by=staff.name, expected=digest)
    except KnowledgeEditError as exc:
        changed = any(p.key == "faq_changed" for p in exc.problems)
        if any(p.key == "faq_not_found" for p in exc.problems):
            raise NoSuchFaq from None
        # On a conflict the form keeps what was typed, and now carries the latest version's digest: saving
        # again is a conscious overwrite of what the other person did.
        current = await _entry(runtime, faq_id)
        return _form_page(request, runtime, form=form, editing=current, digest=faq_digest(current),
                          problems=exc.problems, status_code=409 if changed else 400)
    await audit.record(db, actor=staff.name, action="faq.edit", target=faq_id, before=_entry_json(before),
                       after=_entry_json(entry), now=clock.now(), address=_address(request))
    await db.commit()
    log.info("%s edited FAQ %s", staff.name, faq_id)
    return RedirectResponse(f"/knowledge/faq?saved={faq_id}", status_code=303)


@router.post("/faq/{faq_id}/delete")
async def faq_delete(
    request: Request, faq_id: FaqId, staff: Maintainer, runtime: RuntimeDep, db: Db, clock: ClockDep
) -> Response:
    """Delete an entry; the bot stops answering from it at once."""
    try:
        entry = await _admin(runtime).delete_faq(faq_id, by=staff.name)
    except KnowledgeEditError:
        raise NoSuchFaq from None
    await audit.record(db, actor=staff.name, action="faq.delete", target=faq_id, before=_entry_json(entry),
                       now=clock.now(), address=_address(request))
    await db.commit()
    log.info("%s deleted FAQ %s", staff.name, faq_id)
    return RedirectResponse(f"/knowledge/faq?deleted={faq_id}", status_code=303)


async def _entry(runtime: Any, faq_id: str) -> FaqEntry:
    try:
        return await _admin(runtime).get_faq(faq_id)
    except KnowledgeEditError:
        raise NoSuchFaq from None


# -- unanswered questions ----------------------------------------------------------------------------------
@router.get("/unanswered")
async def unanswered(request: Request, staff: Maintainer, runtime: RuntimeDep, db: Db) -> Response:
    """The inbox: open questions grouped and ranked, what is new since this maintainer last looked, and the
    statements in a bin of their own; `all=1` shows the resolved groups too."""
    inbox = _inbox(runtime)
    show_all = request.query_params.get("all") == "1"
    raw_limit = request.query_params.get("limit", "")
    limit = min(int(raw_limit), 2000) if raw_limit.isdigit() and int(raw_limit) > 0 else GROUPS_SHOWN
    groups = await inbox.groups(include_resolved=show_all)
    statements = await inbox.groups(statements=True)
    seen_at = await last_visit(db, staff_id=staff.id, page=INBOX_PAGE)
    if not show_all:
        await record_visit(db, staff_id=staff.id, page=INBOX_PAGE, now=utcnow())
    shown = groups[:limit]
    suggestions = {g.anchor: await inbox.suggestions(g) for g in shown if g.open}
    open_groups = [g for g in groups if g.open]
    return page(
        request, "knowledge/unanswered.html", groups=shown, hidden=len(groups) - len(shown), limit=limit,
        open_groups=len(open_groups), open_messages=sum(g.count for g in open_groups), show_all=show_all,
        statements=statements, statement_count=sum(g.count for g in statements), suggestions=suggestions,
        seen_at=seen_at, new_messages=sum(g.new_since(seen_at) for g in open_groups), ids=_ids,
        notice=_notice(request), tab="unanswered", votes=await inbox.votes(),
    )


@router.post("/unanswered/{anchor}/answer")
async def answer_group(
    request: Request, anchor: int, staff: Maintainer, runtime: RuntimeDep, db: Db, clock: ClockDep,
    faq_id: Annotated[str, Form(max_length=64)], seen: Annotated[str, Form(max_length=MAX_SEEN)] = "",
) -> Response:
    """Answer a group with an existing FAQ entry: its wordings join the entry, its messages are resolved."""
    try:
        done = await _inbox(runtime).answer_with(faq_id, anchor=anchor, seen=_parse_ids(seen), by=staff.name)
    except KnowledgeEditError as exc:
        if any(p.key == "unanswered_not_found" for p in exc.problems):
            raise NoSuchMessage from None
        raise NoSuchFaq from None
    await audit.record(db, actor=staff.name, action="unanswered.answer", target=f"unanswered:{anchor}",
                       after={"faq": faq_id, "resolved": done.ids, "added": done.added or []}, now=clock.now(),
                       address=_address(request))
    await db.commit()
    added = f"&added={len(done.added)}" if done.added else ""
    return RedirectResponse(f"/knowledge/unanswered?answered={faq_id}&n={len(done.ids)}{added}", status_code=303)


@router.post("/unanswered/{anchor}/ignore")
async def ignore_group(
    request: Request, anchor: int, staff: Maintainer, runtime: RuntimeDep, db: Db, clock: ClockDep,
    seen: Annotated[str, Form(max_length=MAX_SEEN)] = "",
) -> Response:
    """Take a group off the inbox (or the statement bin) without an answer."""
    try:
        done = await _inbox(runtime).ignore(anchor=anchor, seen=_parse_ids(seen), by=staff.name)
    except KnowledgeEditError:
        raise NoSuchMessage from None
    await audit.record(db, actor=staff.name, action="unanswered.ignore", target=f"unanswered:{anchor}",
                       after={"resolved": done.ids}, now=clock.now(), address=_address(request))
    await db.commit()
    return RedirectResponse(f"/knowledge/unanswered?ignored={len(done.ids)}", status_code=303)


def _inbox(runtime: Any) -> Inbox:
    inbox: Inbox = runtime.knowledge_inbox
    return inbox


def _ids(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in ids)


def _parse_ids(text: str) -> list[int]:
    """The message ids a page showed ("3,17,42"); anything else in the field is passed over."""
    return [int(part) for part in text.split(",") if part.strip().isdigit()][:MAX_IDS]


# -- test a question ---------------------------------------------------------------------------------------
@router.get("/test")
async def test_question(request: Request, staff: Maintainer, runtime: RuntimeDep) -> Response:
    """Ask the bot a question as an entrant would and see why it answers so (nothing is logged)."""
    question = request.query_params.get("q", "").strip()[:MAX_QUESTION]
    chosen = request.query_params.get("lang", "")
    explanation = None
    if question:
        lang = chosen if chosen in LANGS else detect_lang(question)
        explanation = await _admin(runtime).explain(question, lang)  # type: ignore[arg-type]
    used_faq = None
    if explanation is not None and explanation.route == "faq" and explanation.faq:
        used_faq = next((c.faq_id for c in explanation.faq
                         if c.question == explanation.answer.sources[0].title), explanation.faq[0].faq_id)
    return page(request, "knowledge/test.html", question=question, chosen=chosen, explanation=explanation,
                used_faq=used_faq, thresholds={"faq": FAQ_CONFIDENCE, "trusted": FAQ_TRUSTED,
                                               "coverage": MIN_COVERAGE}, tab="test")


# -- documents ---------------------------------------------------------------------------------------------
@router.get("/documents")
async def documents(request: Request, staff: Maintainer, runtime: RuntimeDep) -> Response:
    """The indexed documents, and the upload form."""
    return await _documents_page(request, runtime)


async def _documents_page(request: Request, runtime: Any, *, messages: list[str] | None = None,
                          status_code: int = 200) -> Response:
    docs = await _admin(runtime).list_documents()
    return page(request, "knowledge/documents.html", docs=docs, messages=messages or [], notice=_notice(request),
                max_mb=MAX_UPLOAD_BYTES // (1024 * 1024), tab="documents", status_code=status_code)


@router.post("/documents")
async def upload(
    request: Request,
    staff: Maintainer,
    runtime: RuntimeDep,
    db: Db,
    clock: ClockDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Index an uploaded document (the same document id replaces the earlier version)."""
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    try:
        result = await _admin(runtime).ingest_upload(filename=file.filename or "", data=data, by=staff.name)
    except KnowledgeEditError as exc:
        return await _documents_page(request, runtime, messages=exc.messages(runtime.texts, request_lang(request)),
                                     status_code=400)
    await audit.record(db, actor=staff.name, action="doc.upload", target=result.doc,
                       after={"lang": result.lang, "title": result.title, "passages": result.passages,
                              "filename": (file.filename or "")[:200]},
                       now=clock.now(), address=_address(request))
    await db.commit()
    state = "unchanged" if result.passages is None else str(result.passages)
    return RedirectResponse(f"/knowledge/documents?uploaded={result.doc}&passages={state}", status_code=303)


@router.post("/documents/{doc}/delete")
async def remove_document(
    request: Request, doc: DocId, staff: Maintainer, runtime: RuntimeDep, db: Db, clock: ClockDep
) -> Response:
    """Remove a document in every language (shipped ones cannot be)."""
    try:
        n = await _admin(runtime).remove_document(doc, by=staff.name)
    except KnowledgeEditError as exc:
        return await _documents_page(request, runtime, messages=exc.messages(runtime.texts, request_lang(request)),
                                     status_code=400)
    await audit.record(db, actor=staff.name, action="doc.remove", target=doc, before={"passages": n},
                       now=clock.now(), address=_address(request))
    await db.commit()
    return RedirectResponse(f"/knowledge/documents?removed={doc}", status_code=303)


def _notice(request: Request) -> tuple[str, dict[str, str]] | None:
    """The one-line confirmation a redirect asked for (?saved=…, ?deleted=…), as a text key and its values."""
    params = request.query_params
    for name in ("saved", "deleted", "removed"):
        if params.get(name):
            return f"kb.page.notice.{name}", {"id": params[name][:80]}
    count = params.get("n", "0")[:6]
    if params.get("answered"):
        values = {"id": params["answered"][:80], "count": count, "added": params.get("added", "")[:6]}
        if count == "0":
            return "kb.page.notice.nothing_resolved", {}
        return ("kb.page.notice.answered_added" if values["added"] else "kb.page.notice.answered"), values
    if params.get("ignored"):
        if params["ignored"] == "0":
            return "kb.page.notice.nothing_resolved", {}
        return "kb.page.notice.ignored", {"count": params["ignored"][:6]}
    if params.get("uploaded"):
        passages = params.get("passages", "")
        if passages == "unchanged":
            return "kb.page.notice.unchanged", {"id": params["uploaded"][:80]}
        return "kb.page.notice.uploaded", {"id": params["uploaded"][:80], "passages": passages[:6]}
    return None
