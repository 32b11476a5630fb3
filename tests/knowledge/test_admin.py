"""The maintainers' service on a real index and database: FAQ edits, uploads, explanations (the
unanswered questions' inbox: test_inbox.py).

Every change must reach the process's answerer before the call returns: the bot answers from a new entry at
once, from an edited one in its new words, and stops answering from a deleted one.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document as Docx

from bot.events import TextIn
from bot.replies import TextOut
from bot.runtime import Runtime
from bot.users import UserRef
from knowledge.admin import MAX_UPLOAD_BYTES, FaqDraft, KnowledgeAdmin, KnowledgeEditError, faq_digest
from tests.knowledge.factories import tiny_pdf
from tests.shipped import shipped_faq_count

PARKING_ZH = "论坛现场可以停车吗"
PARKING_EN = "Is there parking at the forum venue?"
PARKING = FaqDraft(
    section="八",
    questions={"zh": [PARKING_ZH, "会场有停车位吗"], "en": [PARKING_EN, "Can we park at the venue?"]},
    answer={"zh": "论坛会场不提供停车位，请乘坐公共交通前往。", "en": "The forum venue has no parking; please come by public transport."},
)


def keys(exc: pytest.ExceptionInfo[KnowledgeEditError]) -> list[str]:
    return [p.key for p in exc.value.problems]


async def test_a_new_faq_is_answered_at_once_edited_in_place_and_gone_when_deleted(live_runtime: Runtime):
    admin, kb = live_runtime.knowledge_admin, live_runtime.knowledge
    engine = await live_runtime.engine()
    user = UserRef(channel="test", external_id="entrant")
    assert not (await kb.answer(PARKING_ZH)).answered

    entry = await admin.add_faq(PARKING, by="tester")
    assert entry.id == "is_there_parking_at_the_forum"  # derived from the first English question
    stored = await admin.get_faq(entry.id)
    assert stored.questions == PARKING.questions  # in the order typed: the first is the headline question
    zh, en = await kb.answer(PARKING_ZH), await kb.answer(PARKING_EN)
    assert zh.via == "faq" and "不提供停车位" in zh.answer and "八·征集奖励" in zh.answer
    assert en.via == "faq" and "no parking" in en.answer
    [reply] = await engine.handle(user, TextIn("会场有停车位吗"))
    assert isinstance(reply, TextOut) and "不提供停车位" in reply.text

    edited = replace(PARKING, answer={**PARKING.answer, "zh": "论坛会场地下车库可免费停车两小时。"})
    await admin.edit_faq(entry.id, edited, by="tester", expected=faq_digest(entry))
    [reply] = await engine.handle(user, TextIn(PARKING_ZH))
    assert isinstance(reply, TextOut) and "地下车库" in reply.text and "不提供" not in reply.text

    await admin.delete_faq(entry.id, by="tester")
    [reply] = await engine.handle(user, TextIn(PARKING_ZH))
    assert isinstance(reply, TextOut) and "地下车库" not in reply.text and "kcxf@thepaper.cn" in reply.text
    assert "no parking" not in (await kb.answer(PARKING_EN)).answer


async def test_every_change_moves_the_revision(live_runtime: Runtime):
    admin, revisions = live_runtime.knowledge_admin, live_runtime.knowledge_revisions
    before = await revisions.current()
    entry = await admin.add_faq(PARKING, by="tester")
    await admin.delete_faq(entry.id, by="tester")
    assert await revisions.current() == before + 2 == live_runtime.knowledge.revision


async def test_problems_are_listed_field_by_field_in_both_languages(live_runtime: Runtime):
    admin, texts = live_runtime.knowledge_admin, live_runtime.texts
    with pytest.raises(KnowledgeEditError) as empty:
        await admin.add_faq(FaqDraft(section="", questions={"zh": ["  ", ""]}, answer={"en": " "}), by="t")
    assert keys(empty) == ["section_unknown", "no_question", "no_answer"]
    assert "至少填写一个问法" in " ".join(empty.value.messages(texts, "zh"))
    assert "at least one way of asking" in " ".join(empty.value.messages(texts, "en"))

    lopsided = FaqDraft(section="八", questions={"zh": ["停车方便吗"]}, answer={"en": "No parking."})
    with pytest.raises(KnowledgeEditError) as half:
        await admin.add_faq(lopsided, by="t")
    assert [(p.field, p.key) for p in half.value.problems] == [
        ("answer_zh", "answer_missing"), ("questions_en", "questions_missing")]
    assert "请同时填写中文答案" in half.value.messages(texts, "zh")[0]
    assert "give the answer in Chinese too" in half.value.messages(texts, "en")[0]

    too_long = FaqDraft(section="八", questions={"zh": ["问" * 301]}, answer={"zh": "答" * 2001})
    with pytest.raises(KnowledgeEditError) as long_:
        await admin.add_faq(too_long, by="t")
    assert keys(long_) == ["question_too_long", "answer_too_long"]


async def test_ids_are_checked_and_a_wording_belongs_to_one_entry(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    for bad, key in (("Parking!", "faq_id_format"), ("deadline", "faq_id_taken")):
        with pytest.raises(KnowledgeEditError) as exc:
            await admin.add_faq(replace(PARKING, id=bad), by="t")
        assert keys(exc) == [key]
    stolen = FaqDraft(section="五", questions={"en": ["when is the deadline?"]}, answer={"en": "Soon."})
    with pytest.raises(KnowledgeEditError) as exc:
        await admin.add_faq(stolen, by="t")
    assert keys(exc) == ["question_taken"] and exc.value.problems[0].vars["id"] == "deadline"
    # Editing an entry may keep its own wordings.
    deadline = await admin.get_faq("deadline")
    await admin.edit_faq("deadline", FaqDraft.from_entry(deadline), by="t", expected=faq_digest(deadline))
    chinese_only = FaqDraft(section="八", questions={"zh": ["停车场在哪"]}, answer={"zh": "没有停车场。"})
    assert (await admin.add_faq(chinese_only, by="t")).id.startswith("faq_")


async def test_an_edit_based_on_an_old_version_is_refused(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    entry = await admin.add_faq(PARKING, by="alice")
    opened = faq_digest(entry)
    await admin.edit_faq(entry.id, replace(PARKING, section="九"), by="bob", expected=opened)
    with pytest.raises(KnowledgeEditError) as exc:
        await admin.edit_faq(entry.id, PARKING, by="alice", expected=opened)
    assert keys(exc) == ["faq_changed"]
    assert (await admin.get_faq(entry.id)).section == "九"
    with pytest.raises(KnowledgeEditError) as missing:
        await admin.delete_faq("no_such_entry", by="alice")
    assert keys(missing) == ["faq_not_found"]


async def test_list_searches_ids_questions_and_answers(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    everything = await admin.list_faq()
    assert len(everything) == shipped_faq_count()
    assert [e.id for e in await admin.list_faq("DEADLINE")] == ["deadline"]
    assert "fee" in {e.id for e in await admin.list_faq("报名费")}
    assert await admin.list_faq("停车") == []


async def test_explain_shows_the_route_and_every_score(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    faq = await admin.explain("报名截止时间是什么时候？")
    assert faq.route == "faq" and faq.faq[0].faq_id == "deadline"
    assert faq.faq[0].confidence == pytest.approx(faq.answer.sources[0].score, abs=1e-3)
    assert faq.faq == sorted(faq.faq, key=lambda c: -c.confidence)
    assert faq.passages and [p.fused for p in faq.passages] == sorted((p.fused for p in faq.passages), reverse=True)
    assert all(p.bm25_rank or p.vector_rank for p in faq.passages)
    assert any(p.bm25 > 0 and p.cosine > 0 for p in faq.passages)

    assert (await admin.explain("我们是做芯片的初创公司，能报哪个奖？")).route == "eligibility"
    declined = await admin.explain(PARKING_ZH)
    assert declined.route == "declined" and not declined.answer.answered
    english = await admin.explain("We are a chip startup, which award can we enter?")
    assert english.route == "eligibility" and english.answer.lang == "en" and english.passages


SHUTTLE = "论坛当天组委会在人民广场地铁站安排接驳班车，每 20 分钟一班。"


def _docx(text: str) -> bytes:
    word = Docx()
    word.add_heading("论坛交通通知", level=0)
    word.add_heading("接驳班车", level=1)
    word.add_paragraph(text)
    buf = io.BytesIO()
    word.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("filename", "data", "question", "expect"), [
    ("shuttle.md", f"# 论坛交通通知\n\n## 一·接驳班车\n\n{SHUTTLE}\n".encode(), "论坛那天有接驳班车吗", "人民广场"),
    ("shuttle.txt", SHUTTLE.encode(), "论坛那天有接驳班车吗", "人民广场"),
    ("shuttle.docx", _docx(SHUTTLE), "论坛那天有接驳班车吗", "人民广场"),
    ("shuttle.pdf", tiny_pdf("On forum day a shuttle bus leaves People's Square station every 20 minutes."),
     "Where does the shuttle bus leave from?", "shuttle bus leaves"),
])
async def test_an_uploaded_document_is_answered_from_then_removed(
    live_runtime: Runtime, filename: str, data: bytes, question: str, expect: str
):
    admin, kb = live_runtime.knowledge_admin, live_runtime.knowledge
    assert expect not in (await kb.answer(question)).answer
    result = await admin.ingest_upload(filename=filename, data=data, by="tester")
    assert result.doc == "shuttle" and result.passages and result.passages >= 1
    answer = await kb.answer(question)
    assert answer.answered and expect in answer.answer, answer
    assert "申报指南" not in answer.answer and "Guideline" not in answer.answer  # cited by its own title
    again = await admin.ingest_upload(filename=filename, data=data, by="tester")
    assert again.passages is None  # the same content is not indexed twice
    docs = {d.doc: d for d in await admin.list_documents()}
    assert docs["guideline-2024"].builtin and docs["guideline-2024"].langs.keys() == {"zh", "en"}
    assert not docs["shuttle"].builtin and docs["shuttle"].langs == {result.lang: result.passages}
    assert [p.name for p in admin.uploads_dir.iterdir()] == [f"shuttle.{result.lang}{Path(filename).suffix}"]

    assert await admin.remove_document("shuttle", by="tester") >= 1
    assert expect not in (await kb.answer(question)).answer
    assert "shuttle" not in {d.doc for d in await admin.list_documents()}
    assert list(admin.uploads_dir.iterdir()) == []


@pytest.mark.parametrize(("filename", "data", "key"), [
    ("tool.exe", b"MZ\x90\x00", "doc_type"),
    ("notes", b"plain words", "doc_type"),
    ("empty.md", b"", "doc_empty"),
    ("huge.txt", b"a" * (MAX_UPLOAD_BYTES + 1), "doc_too_large"),
    ("fake.pdf", b"<html>not a pdf</html>", "doc_unreadable"),
    ("fake.docx", b"%PDF-1.4 renamed", "doc_unreadable"),
    ("broken.docx", b"PK\x03\x04 truncated zip", "doc_unreadable"),
    ("gbk.txt", "论坛当天安排接驳班车".encode("gbk"), "doc_encoding"),
    ("blank.md", b"\n\n   \n", "doc_no_text"),
    ("override.md", "---\ndoc: guideline-2024\n---\n# 假指南\n\n截止时间改为 12 月。\n".encode(), "doc_builtin"),
    ("odd.md", "---\ndoc: ../../etc\n---\n# x\n\n内容足够长的一段话。\n".encode(), "doc_id"),
    ("odd.md", b"---\nlang: fr\n---\n# Avis\n\nLa navette part toutes les 20 minutes.\n", "doc_lang"),
])
async def test_bad_uploads_are_refused_with_a_reason(live_runtime: Runtime, filename: str, data: bytes, key: str):
    admin = live_runtime.knowledge_admin
    before = await admin.list_documents()
    with pytest.raises(KnowledgeEditError) as exc:
        await admin.ingest_upload(filename=filename, data=data, by="tester")
    assert keys(exc) == [key]
    assert exc.value.messages(live_runtime.texts, "zh")[0] and exc.value.messages(live_runtime.texts, "en")[0]
    assert await admin.list_documents() == before
    assert not admin.uploads_dir.exists() or list(admin.uploads_dir.iterdir()) == []


@pytest.mark.parametrize(("filename", "doc", "title"), [
    ("../../../etc/passwd.md", "passwd", "passwd"),
    ("C:\\Users\\x\\Desktop\\Forum Notice (v2).md", "forum-notice-v2", "Forum Notice (v2)"),
    ("论坛\x00通知\n.md", None, "论坛通知"),
    (".hidden.md", "hidden", "hidden"),
])
async def test_hostile_file_names_only_suggest_an_id_and_title(
    live_runtime: Runtime, filename: str, doc: str | None, title: str
):
    admin = live_runtime.knowledge_admin
    result = await admin.ingest_upload(filename=filename, data=f"{SHUTTLE}\n".encode(), by="tester")
    assert result.doc == doc if doc else result.doc.startswith("doc-")
    assert result.title == title
    stored = list(admin.uploads_dir.iterdir())
    assert [p.name for p in stored] == [f"{result.doc}.zh.md"]
    assert stored[0].resolve().parent == admin.uploads_dir.resolve()


async def test_shipped_documents_cannot_be_removed_here(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    with pytest.raises(KnowledgeEditError) as builtin:
        await admin.remove_document("guideline-2024", by="tester")
    with pytest.raises(KnowledgeEditError) as unknown:
        await admin.remove_document("no-such-doc", by="tester")
    assert keys(builtin) == ["doc_builtin"] and keys(unknown) == ["doc_not_found"]
    assert (await live_runtime.knowledge.answer("报名截止时间是什么时候？")).answered


async def test_the_admin_of_a_runtime_is_shared(live_runtime: Runtime):
    assert isinstance(live_runtime.knowledge_admin, KnowledgeAdmin)
    assert live_runtime.knowledge_admin is live_runtime.knowledge_admin
    assert live_runtime.knowledge_admin.kb is live_runtime.knowledge


async def test_two_editors_in_one_process_cannot_both_pass_the_checks(live_runtime: Runtime):
    admin = live_runtime.knowledge_admin
    same_id = [replace(PARKING, id="parking"),
               FaqDraft(id="parking", section="八", questions={"zh": ["停车场在哪"]}, answer={"zh": "没有。"})]
    results = await asyncio.gather(*(admin.add_faq(d, by=f"editor{n}") for n, d in enumerate(same_id)),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["FaqEntry", "KnowledgeEditError"]
    [refused] = [r for r in results if isinstance(r, KnowledgeEditError)]
    assert [p.key for p in refused.problems] == ["faq_id_taken"]

    opened = faq_digest(await admin.get_faq("parking"))
    edits = [replace(PARKING, answer={"zh": f"版本 {n}", "en": f"version {n}"}) for n in (1, 2)]
    results = await asyncio.gather(*(admin.edit_faq("parking", d, by="x", expected=opened) for d in edits),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["FaqEntry", "KnowledgeEditError"]
    [kept] = [r for r in results if not isinstance(r, BaseException)]
    assert (await admin.get_faq("parking")).answer == kept.answer
