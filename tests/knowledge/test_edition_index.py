"""Each edition keeps its own knowledge collections; a store from before editions is taken over by the earliest."""

from __future__ import annotations

from pathlib import Path

from knowledge.embeddings import HashedNgramEmbedding
from knowledge.faq import load_faq
from knowledge.index import FAQ, PASSAGES, KnowledgeIndex, connect
from tests.shipped import shipped_edition


def _index(path: Path, **edition: object) -> KnowledgeIndex:
    return KnowledgeIndex(connect(url=None, path=path), HashedNgramEmbedding(), **edition)  # type: ignore[arg-type]


def test_a_store_from_before_editions_belongs_to_the_earliest_and_the_next_starts_empty(tmp_path: Path):
    path = tmp_path / "chroma"
    before = _index(path)  # as every deployment wrote it until editions: collections without a year
    entries = load_faq(shipped_edition().faq_file)[:3]
    before.put_faq(entries)
    before.client.close()

    adopted = _index(path, edition=2024, adopt_unnamed=True)
    names = sorted(c.name for c in adopted.client.list_collections())
    assert names == sorted([f"{FAQ}_2024", f"{PASSAGES}_2024"])
    assert sorted(e.id for e in adopted.faq_entries()) == sorted(e.id for e in entries)
    adopted.client.close()

    later = _index(path, edition=2025)
    assert later.faq_entries() == [] and later.faq.name == f"{FAQ}_2025"
    assert len(_index(path, edition=2024, adopt_unnamed=True).faq_entries()) == len(entries)  # left as it was
