"""What an embedded Chroma (chromadb 1.5 PersistentClient) shows of another process's writes to its folder.

The live knowledge design rests on this behaviour (docs/operating.md, "Where Chroma lives"), so it is pinned
here: if a chromadb upgrade changes it, this test says so. A reader that opened the folder first sees the
other process's records in get() and count() (they live in the folder's SQLite file), but not in query()
(each process keeps its own in-memory vector index), and a filtered query can fail outright. Opening the
store afresh (KnowledgeIndex.reopen) replays the folder's log and sees everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chromadb.errors import ChromaError

from knowledge.embeddings import HashedNgramEmbedding
from knowledge.faq import FaqEntry
from knowledge.index import KnowledgeIndex, connect

WRITER = """
import sys
from pathlib import Path
from knowledge.embeddings import HashedNgramEmbedding
from knowledge.faq import FaqEntry
from knowledge.index import KnowledgeIndex, connect
index = KnowledgeIndex(connect(url=None, path=Path(sys.argv[1])), HashedNgramEmbedding())
index.put_faq([FaqEntry(id="lunch", section="八", questions={"zh": ["论坛提供午餐吗"]}, answer={"zh": "提供。"})])
"""


def test_an_embedded_reader_sees_another_process_write_only_after_reopening(tmp_path: Path):
    path = tmp_path / "chroma"
    index = KnowledgeIndex(connect(url=None, path=path), HashedNgramEmbedding(),
                           reconnect=lambda: connect(url=None, path=path))
    index.put_faq([FaqEntry(id="fee", section="十", questions={"zh": ["报名要交钱吗"]}, answer={"zh": "不收费。"})])
    assert index.faq.query(query_texts=["报名费"], n_results=1)["ids"][0]

    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", WRITER, str(path)], check=True, cwd=root, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(root), "ANONYMIZED_TELEMETRY": "False"})

    assert {e.id for e in index.faq_entries()} == {"fee", "lunch"}  # get(): the shared SQLite file
    unfiltered = index.faq.query(query_texts=["论坛提供午餐吗"], n_results=2)["ids"][0]
    assert unfiltered == [unfiltered[0]] and unfiltered[0].startswith("fee:")  # query(): this process's vectors
    with pytest.raises(ChromaError):
        index.faq.query(query_texts=["论坛提供午餐吗"], n_results=2, where={"lang": "zh"})

    assert index.reopen()
    reopened = index.faq.query(query_texts=["论坛提供午餐吗"], n_results=2, where={"lang": "zh"})["ids"][0]
    assert reopened[0].startswith("lunch:") and len(reopened) == 2
