"""The optional LLM path: LangChain's init_chat_model against a local OpenAI-compatible server."""

from __future__ import annotations

import pytest

from knowledge.answer import KnowledgeBase
from knowledge.generate import NOT_FOUND, AnswerWriter

from .llm_server import serve_chat

QUESTION = "国家政策鼓励在哪些领域实现创新突破？"  # answered from passages, not from the FAQ


def _with_writer(kb: KnowledgeBase, writer: AnswerWriter) -> KnowledgeBase:
    return KnowledgeBase(retriever=kb.retriever, texts=kb.texts, eligibility=kb.eligibility,
                         mailbox=kb.mailbox, guideline_doc=kb.guideline_doc, writer=writer)


async def test_llm_writes_from_the_passages_and_gets_the_citation(kb: KnowledgeBase):
    with serve_chat(lambda body: (200, "鼓励人工智能、生物科技、新能源、新材料等领域的创新突破。")) as (url, received):
        writer = AnswerWriter(model="openai:test-model", base_url=url, api_key="test", timeout_s=5)
        answer = await _with_writer(kb, writer).answer(QUESTION)
    assert answer.via == "llm" and answer.answered
    assert answer.answer.startswith("鼓励人工智能") and "见《申报指南》一·背景介绍" in answer.answer
    [request] = received
    system, human = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "ONLY the passages" in system and "Chinese" in system
    assert QUESTION in human and "一·背景介绍" in human  # the retrieved passages are the model's only context


async def test_llm_saying_not_found_makes_the_bot_decline(kb: KnowledgeBase):
    with serve_chat(lambda body: (200, NOT_FOUND)) as (url, _):
        writer = AnswerWriter(model="openai:test-model", base_url=url, api_key="test", timeout_s=5)
        answer = await _with_writer(kb, writer).answer(QUESTION)
    assert not answer.answered and "kcxf@thepaper.cn" in answer.answer


@pytest.mark.parametrize(("status", "delay_s"), [(500, 0.0), (200, 3.0)], ids=["server-error", "timeout"])
async def test_llm_failure_falls_back_to_the_extractive_answer(
    kb: KnowledgeBase, status: int, delay_s: float, caplog: pytest.LogCaptureFixture
):
    with serve_chat(lambda body: (status, "late or broken"), delay_s=delay_s) as (url, _):
        writer = AnswerWriter(model="openai:test-model", base_url=url, api_key="test", timeout_s=1)
        answer = await _with_writer(kb, writer).answer(QUESTION)
    assert answer.via == "extractive" and answer.answered and "生物科技" in answer.answer
    assert any("using the extractive answer" in r.message for r in caplog.records)
