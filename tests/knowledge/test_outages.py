"""The LLM or the Chroma server failing while the bot runs: the entrant still gets an answer.

Each failure is real: a local OpenAI-compatible endpoint that errs, stalls, hangs up or talks nonsense; a real
`chroma run` server killed, restarted, frozen (SIGSTOP) and thawed. The answer is checked as the entrant sees
it, through the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.events import TextIn
from bot.replies import TextOut
from bot.texts import Texts
from bot.users import UserRef
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from knowledge.answer import Answerer, KnowledgeBase
from knowledge.eligibility import Eligibility
from knowledge.generate import AnswerWriter
from knowledge.retrieve import Retriever
from knowledge.service import campaign_terms, ensure_builtin, open_index
from knowledge.tokens import Tokenizer
from tests.shipped import shipped_edition
from tests.stubs.tcp import misbehaving_server

from .chroma_server import ChromaServer
from .llm_server import serve_chat, serve_garbage

ENTRANT = UserRef(channel="test", external_id="asker")
QUESTION = "国家政策鼓励在哪些领域实现创新突破？"  # answered from passages (where the LLM would write)
LLM_FAULTS = ["server error", "timeout", "connection refused", "hangs up", "not json", "json without choices"]


@contextmanager
def failing_llm(fault: str) -> Iterator[str]:
    """The base URL of an OpenAI-compatible endpoint with the given fault."""
    if fault in {"server error", "timeout"}:
        status, delay = (500, 0.0) if fault == "server error" else (200, 3.0)
        with serve_chat(lambda body: (status, "too late or broken"), delay_s=delay) as (url, _):
            yield url
    elif fault == "not json":
        with serve_garbage(b"<html><body>502 Bad Gateway</body></html>") as url:
            yield url
    elif fault == "json without choices":
        with serve_garbage(b'{"id": "x", "object": "chat.completion"}') as url:
            yield url
    elif fault == "hangs up":
        with misbehaving_server("hang up") as port:
            yield f"http://127.0.0.1:{port}/v1"
    else:
        with misbehaving_server("hang up") as port:
            pass  # closed again: nothing listens on the port any more
        yield f"http://127.0.0.1:{port}/v1"


def _engine(answerer: Answerer, sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign,
            clock: FixedClock, settings: Settings) -> Engine:
    return Engine(sessionmaker=sessionmaker, answerer=answerer, texts=texts, campaign=campaign, clock=clock,
                  settings=settings)


async def _ask(engine: Engine, question: str) -> str:
    [reply] = await engine.handle(ENTRANT, TextIn(question))
    assert isinstance(reply, TextOut)
    return reply.text


@pytest.mark.parametrize("fault", LLM_FAULTS)
async def test_a_failing_llm_leaves_the_extractive_answer(
    fault: str, kb: KnowledgeBase, sessionmaker: async_sessionmaker[AsyncSession], texts: Texts,
    campaign: Campaign, clock: FixedClock, settings: Settings, caplog: pytest.LogCaptureFixture,
):
    with failing_llm(fault) as url, caplog.at_level(logging.WARNING, logger="knowledge.generate"):
        writer = AnswerWriter(model="openai:test-model", base_url=url, api_key="test", timeout_s=1)
        answerer = KnowledgeBase(retriever=kb.retriever, texts=kb.texts, eligibility=kb.eligibility,
                                 mailbox=kb.mailbox, guideline_doc=kb.guideline_doc, writer=writer)
        text = await _ask(_engine(answerer, sessionmaker, texts, campaign, clock, settings), QUESTION)
    assert "生物科技" in text and "《申报指南》" in text  # the guideline's own sentence, with its citation
    assert texts.t("engine.error", "zh") not in text and "Traceback" not in text
    [warning] = [r for r in caplog.records if r.name == "knowledge.generate"]
    assert warning.levelno == logging.WARNING and "using the extractive answer" in warning.getMessage()


@pytest.fixture
async def chroma(tmp_path: Path) -> AsyncIterator[ChromaServer]:
    server = await ChromaServer(tmp_path / "chroma").start()
    yield server
    await server.close()


def _server_backed_kb(settings: Settings, texts: Texts, campaign: Campaign) -> KnowledgeBase:
    """The knowledge base as open_knowledge builds it, on the Chroma server."""
    index = open_index(settings)
    ensure_builtin(index, shipped_edition())
    retriever = Retriever(index, Tokenizer(extra_terms=campaign_terms(campaign)))
    return KnowledgeBase(retriever=retriever, texts=texts, eligibility=Eligibility(campaign=campaign, texts=texts),
                         mailbox=campaign.committee.mailbox, guideline_doc=campaign.guideline_doc)


async def test_a_chroma_outage_leaves_the_answers_as_they_were(
    chroma: ChromaServer, sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings,
):
    # The server is filled first with the default request timeout: writing the guideline and 1,100 FAQ variants
    # outlasted 1 s on a loaded machine. The answerer's client then waits at most 1 s, were it to ask the server.
    await asyncio.to_thread(ensure_builtin, open_index(settings.model_copy(update={"chroma_url": chroma.url})),
                            shipped_edition())
    served = settings.model_copy(update={"chroma_url": chroma.url, "chroma_timeout_s": 1.0})
    kb = await asyncio.to_thread(_server_backed_kb, served, texts, campaign)
    engine = _engine(kb, sessionmaker, texts, campaign, clock, served)
    # One answered from passages, one from the FAQ: both searched by vectors, in the answerer's snapshot of the
    # store, not by a request to the server.
    questions = (QUESTION, "参选者可以同时申报几个奖项？")
    before = [await _ask(engine, question) for question in questions]
    assert "生物科技" in before[0] and before[1]

    for outage in ("killed", "frozen"):
        if outage == "killed":
            await chroma.kill()
        else:
            chroma.pause()  # accepts connections, answers nothing
        assert [await _ask(engine, question) for question in questions] == before
        if outage == "killed":
            await chroma.start()
        else:
            chroma.resume()
