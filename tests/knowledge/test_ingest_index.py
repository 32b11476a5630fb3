"""Ingest → chunk → index on small documents of each supported type, in a fresh embedded Chroma."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from docx import Document as Docx

from knowledge.chunk import chunk_document
from knowledge.embeddings import HashedNgramEmbedding
from knowledge.index import PASSAGES, KnowledgeIndex, connect
from knowledge.ingest import IngestError, read_document
from tests.knowledge.factories import tiny_pdf

NOTICE = """---
doc: notice-2024
lang: zh
title: 补充通知
---
# 补充通知

## 一·材料格式

申报材料请使用 PDF 或 Word 格式，单个文件不超过 20M。

- 1、视频请提供网盘分享链接。
- 2、图片请打包为 zip 文件。

## 二·咨询时间

工作日 9:00-18:00 处理邮件咨询。
"""


@pytest.fixture
def index(tmp_path: Path) -> KnowledgeIndex:
    return KnowledgeIndex(connect(url=None, path=tmp_path / "chroma"), HashedNgramEmbedding())


def test_markdown_front_matter_and_structure(tmp_path: Path):
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    doc = read_document(path)
    assert (doc.doc, doc.lang, doc.title) == ("notice-2024", "zh", "补充通知")
    chunks = chunk_document(doc)
    assert [c.section for c in chunks] == ["一·材料格式", "一·材料格式", "一·材料格式", "二·咨询时间"]
    assert chunks[1].text.startswith("- 1、视频")  # each numbered item is its own passage
    assert chunks[1].index_text.startswith("一·材料格式")  # and carries its heading for retrieval


def test_docx_headings_become_sections(tmp_path: Path):
    path = tmp_path / "faq-note.docx"
    word = Docx()
    word.add_heading("Note for foreign entrants", level=0)
    word.add_heading("Language", level=1)
    word.add_paragraph("Foreign entries may be written in Chinese or in English.")
    word.save(str(path))
    doc = read_document(path)
    assert doc.lang == "en" and doc.title == "Note for foreign entrants"
    [chunk] = chunk_document(doc)
    assert chunk.section == "Language" and "Chinese or in English" in chunk.text


def test_pdf_text_is_read(tmp_path: Path):
    path = tmp_path / "rules.pdf"
    path.write_bytes(tiny_pdf("Entries close on 20 October 2024 at 24:00."))
    doc = read_document(path)
    assert "20 October 2024" in doc.text and doc.doc == "rules"


def test_unsupported_and_missing_files_are_refused(tmp_path: Path):
    (tmp_path / "x.exe").write_bytes(b"MZ")
    with pytest.raises(IngestError, match="unsupported"):
        read_document(tmp_path / "x.exe")
    with pytest.raises(IngestError, match="no such file"):
        read_document(tmp_path / "missing.md")


def test_reindexing_skips_unchanged_and_replaces_changed(tmp_path: Path, index: KnowledgeIndex):
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    assert index.upsert_document(read_document(path)) == 4
    assert index.upsert_document(read_document(path)) is None  # same digest: nothing to do
    path.write_text(NOTICE.replace("20M", "50M"), encoding="utf-8")
    assert index.upsert_document(read_document(path)) == 4
    [row] = index.documents()
    assert (row.doc, row.lang, row.chunks) == ("notice-2024", "zh", 4)
    assert any("50M" in c.text for c in index.chunks()) and not any("20M" in c.text for c in index.chunks())
    assert index.remove_document("notice-2024") == 4 and index.documents() == []


def test_reopened_collection_keeps_our_embedding(tmp_path: Path, index: KnowledgeIndex):
    """Without registration Chroma would fall back to its ONNX model and try to download it."""
    path = tmp_path / "notice.md"
    path.write_text(NOTICE, encoding="utf-8")
    index.upsert_document(read_document(path))
    fresh = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = fresh.get_collection(PASSAGES)  # no embedding function given: it must come from the config
    assert collection.configuration["embedding_function"].name() == HashedNgramEmbedding.name()
    got = collection.query(query_texts=["视频怎么提交"], n_results=1)
    assert "视频" in got["documents"][0][0]
