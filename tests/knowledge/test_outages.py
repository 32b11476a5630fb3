"""The LLM or the Chroma server failing while the bot runs: the entrant still gets an answer, the log a warning.

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
WAIT_S = 60.0


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
    """The knowledge base as open_knowledge builds it, on the Chroma server, resting the vector side briefly."""
    index = open_index(settings)
    ensure_builtin(index, shipped_edition())
    retriever = Retriever(index, Tokenizer(extra_terms=campaign_terms(campaign)), vector_retry_s=0.3)
    return KnowledgeBase(retriever=retriever, texts=texts, eligibility=Eligibility(campaign=campaign, texts=texts),
                         mailbox=campaign.committee.mailbox, guideline_doc=campaign.guideline_doc)


async def test_a_chroma_outage_leaves_bm25_answering_until_the_server_is_back(
    chroma: ChromaServer, sessionmaker: async_sessionmaker[AsyncSession], texts: Texts, campaign: Campaign,
    clock: FixedClock, settings: Settings, caplog: pytest.LogCaptureFixture,
):
    # The server is filled first with the default request timeout: writing the guideline and 1,100 FAQ variants
    # outlasted 1 s on a loaded machine. The answerer's client then waits at most 1 s, so a pause ends quickly.
    await asyncio.to_thread(ensure_builtin, open_index(settings.model_copy(update={"chroma_url": chroma.url})),
                            shipped_edition())
    served = settings.model_copy(update={"chroma_url": chroma.url, "chroma_timeout_s": 1.0})
    kb = await asyncio.to_thread(_server_backed_kb, served, texts, campaign)
    engine = _engine(kb, sessionmaker, texts, campaign, clock, served)
    vectors = kb.retriever.vectors
    caplog.set_level(logging.INFO, logger="knowledge.retrieve")

    def said(level: int, words: str, *, after: int = 0) -> list[str]:
        return [r.getMessage() for r in caplog.records[after:]
                if r.name == "knowledge.retrieve" and r.levelno == level and words in r.getMessage()]

    up = await _ask(engine, QUESTION)
    assert "生物科技" in up and _vector_hits(kb) and not said(logging.WARNING, "")

    for outage in ("killed", "frozen"):
        mark = len(caplog.records)
        if outage == "killed":
            await chroma.kill()
        else:
            chroma.pause()  # accepts connections, answers nothing: the request's timeout ends the wait
        for question in (QUESTION, "参选者可以同时申报几个奖项？"):
            text = await _ask(engine, question)
            assert text and texts.t("engine.error", "zh") not in text
        assert "生物科技" in await _ask(engine, QUESTION)  # the same answer from BM25 alone
        assert not vectors.available
        # One warning per outage, not one per question.
        assert len(said(logging.WARNING, "answering from BM25 alone", after=mark)) == 1
        if outage == "killed":
            await chroma.start()
        else:
            chroma.resume()
        await _until_back(engine, lambda mark=mark: bool(said(logging.WARNING, "is back", after=mark)))
        assert vectors.available and _vector_hits(kb)


async def _until_back(engine: Engine, back) -> None:  # type: ignore[no-untyped-def]
    """Ask until the vector side has come back (its rest after the failure has to pass first)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not back():
        assert asyncio.get_running_loop().time() < deadline, "vector search never came back"
        assert "生物科技" in await _ask(engine, QUESTION)
        await asyncio.sleep(0.1)


def _vector_hits(kb: KnowledgeBase) -> list[str]:
    got = kb.retriever.vectors.query(kb.retriever.index.passages, query_texts=[QUESTION], n_results=3,
                                     where={"lang": "zh"}, include=["distances"])
    return list(got["ids"][0]) if got else []
