"""The Chroma index: passages of every document and the curated FAQ, embedded or on a Chroma server."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError

from knowledge.chunk import Chunk, chunk_document
from knowledge.faq import FaqEntry
from knowledge.ingest import Document

log = logging.getLogger(__name__)

PASSAGES = "kcxf_passages"
FAQ = "kcxf_faq"
SERVER_TIMEOUT_S = 5.0


def connect(*, url: str | None, path: Path, timeout_s: float = SERVER_TIMEOUT_S) -> ClientAPI:
    """An embedded PersistentClient under the data folder, or an HttpClient when a server URL is set.

    ValueError when the server does not answer; every later request to it gives up after `timeout_s`.
    """
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        client = chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=settings,
        )
        _bound_requests(client, timeout_s)
        return client
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _bound_requests(client: ClientAPI, timeout_s: float) -> None:
    # chromadb's HttpClient waits for an answer forever (its httpx session has no timeout, and no setting
    # changes that); a hung server would then stall every question, so the session gets a bound here.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout_s)
    else:
        log.warning("cannot bound the Chroma client's request time (chromadb changed?); a hung server will "
                    "stall answers")


@dataclass(frozen=True)
class IndexedDoc:
    """A document as the index holds it."""

    doc: str
    lang: str
    title: str
    digest: str
    chunks: int


# FAQ variants written per Chroma call (see put_faq).
FAQ_BATCH = 256


class KnowledgeIndex:
    """Passages and FAQ variants in two Chroma collections, each with its embedding function (by default one)."""

    def __init__(
        self,
        client: ClientAPI,
        embedding: EmbeddingFunction[Documents],
        *,
        faq_embedding: EmbeddingFunction[Documents] | None = None,
        reconnect: Callable[[], ClientAPI] | None = None,
        edition: int | None = None,
        adopt_unnamed: bool = False,
    ) -> None:
        self.client = client
        self.embedding = embedding
        self.faq_embedding = faq_embedding or embedding
        self._reconnect = reconnect
        # Each edition keeps its own passages and FAQ (kcxf_faq_2025); the collections of a store written before
        # editions existed carry no year and are taken over by the edition told to adopt them (the earliest).
        self.edition = edition
        self._adopt_unnamed = adopt_unnamed
        self._open_collections()

    def _name(self, base: str) -> str:
        return base if self.edition is None else f"{base}_{self.edition}"

    def _open_collections(self) -> None:
        if self._adopt_unnamed and self.edition is not None:
            for base in (PASSAGES, FAQ):
                self._adopt(base)
        self.passages: Collection = self._open(self._name(PASSAGES), self.embedding)
        self.faq: Collection = self._open(self._name(FAQ), self.faq_embedding)

    def _adopt(self, base: str) -> None:
        try:
            self.client.get_collection(self._name(base))
            return
        except NotFoundError:
            pass
        try:
            unnamed = self.client.get_collection(base)
        except NotFoundError:
            return
        unnamed.modify(name=self._name(base))
        log.warning("the knowledge collection %s (from before editions) now belongs to edition %s",
                    base, self.edition)

    def _open(self, name: str, embedding: EmbeddingFunction[Documents]) -> Collection:
        """The named collection, re-embedded first when its vectors came from another embedding function.

        Vectors of two functions are not comparable (a question embedded by the model would be searched among
        hashed n-gram vectors, or fail on the dimension), so the function's signature is kept in the collection's
        metadata and a mismatch re-embeds every record from its stored text, keeping ids and metadata.
        """
        signature = embedding_signature(embedding)
        try:
            existing = self.client.get_collection(name)  # without a function: no conflict check against ours
        except NotFoundError:
            existing = None
        if existing is not None and _stored_signature(existing) != signature:
            if _stored_signature(existing) is None and _persisted_function(existing) == _function_of(signature):
                # Written before signatures were kept, by this same function: record it, nothing to re-embed.
                existing.modify(metadata=signature)
            else:
                self._reembed(existing, embedding, signature)
        return self.client.get_or_create_collection(
            name, embedding_function=embedding, metadata=signature, configuration=_configuration()
        )

    def _reembed(self, old: Collection, embedding: EmbeddingFunction[Documents],
                 signature: dict[str, str | int]) -> None:
        # Filled beside the old collection and renamed into place, so that a crash midway loses nothing.
        name, scratch = old.name, f"{old.name}__reembed"
        with contextlib.suppress(NotFoundError, ValueError):  # a scratch copy left by a crash
            self.client.delete_collection(scratch)
        new = self.client.create_collection(
            scratch, embedding_function=embedding, metadata=signature, configuration=_configuration()
        )
        got = old.get(include=["documents", "metadatas"])
        step = self.client.get_max_batch_size()
        for start in range(0, len(got["ids"]), step):
            new.add(ids=got["ids"][start:start + step],
                    documents=(got["documents"] or [])[start:start + step],
                    metadatas=(got["metadatas"] or [])[start:start + step])
        log.warning("re-embedded %d records of %s with %s (they were embedded with %s)", len(got["ids"]), name,
                    signature["embedding"], (_stored_signature(old) or _persisted_function(old) or {}).get(
                        "embedding", "an unknown function"))
        self.client.delete_collection(name)
        new.modify(name=name)

    @property
    def embedded(self) -> bool:
        """True for a PersistentClient on a local folder, False for a Chroma server."""
        return bool(self.client.get_settings().is_persistent)

    def reopen(self) -> bool:
        """Open the embedded store afresh, to see what another process wrote; False when that is not possible.

        An embedded Chroma keeps each collection's vector index in the memory of the process that opened it:
        records another process adds show up in get() at once (they are in the folder's SQLite file) but not in
        query(), where a metadata filter can then even fail with "Error finding id". Closing the client and
        opening a new one replays the folder's log into a fresh vector index. A Chroma server needs none of it.
        """
        if self._reconnect is None or not self.embedded:
            return False
        self.client.close()
        self.client = self._reconnect()
        self._open_collections()
        log.info("reopened the embedded Chroma store to pick up changes made by another process")
        return True

    # -- documents ---------------------------------------------------------------------------------------
    def documents(self) -> list[IndexedDoc]:
        """Every indexed document, one row per (doc, language)."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for meta in self.passages.get(include=["metadatas"])["metadatas"] or []:
            key = (str(meta["doc"]), str(meta["lang"]))
            row = rows.setdefault(key, {"title": meta.get("doc_title", ""), "digest": meta["digest"], "n": 0})
            row["n"] += 1
        return [
            IndexedDoc(doc=d, lang=lang, title=str(r["title"]), digest=str(r["digest"]), chunks=r["n"])
            for (d, lang), r in sorted(rows.items())
        ]

    def upsert_document(self, document: Document) -> int | None:
        """Index a document unless the same version is already there; returns the chunk count or None."""
        current = {(d.doc, d.lang): d.digest for d in self.documents()}
        if current.get((document.doc, document.lang)) == document.digest:
            return None
        self.passages.delete(where={"$and": [{"doc": document.doc}, {"lang": document.lang}]})
        chunks = chunk_document(document)
        if chunks:
            self.passages.add(
                ids=[c.id for c in chunks],
                documents=[c.index_text for c in chunks],
                metadatas=[{**c.metadata(digest=document.digest), "doc_title": document.title,
                            "text": c.text} for c in chunks],
            )
        log.info("indexed %s (%s): %d chunks", document.doc, document.lang, len(chunks))
        return len(chunks)

    def remove_document(self, doc: str) -> int:
        """Remove a document in every language; returns how many chunks went."""
        ids = self.passages.get(where={"doc": doc}, include=[])["ids"]
        if ids:
            self.passages.delete(ids=ids)
        return len(ids)

    def chunks(self) -> list[Chunk]:
        """All passages, for the lexical index that lives beside Chroma."""
        got = self.passages.get(include=["metadatas"])
        out = [
            Chunk(id=i, doc=str(m["doc"]), lang=str(m["lang"]), section=str(m["section"]),
                  title=str(m["title"]), text=str(m["text"]), position=int(m["position"]),
                  doc_title=str(m.get("doc_title", "")))
            for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)
        ]
        return sorted(out, key=lambda c: (c.doc, c.lang, c.position))

    def chunk_vectors(self) -> dict[str, np.ndarray]:
        """Every passage's stored vector by passage id, as the passages' embedding function wrote it."""
        got = self.passages.get(include=["embeddings"])
        vectors = got["embeddings"] if got["embeddings"] is not None else []
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], vectors, strict=True)}

    # -- FAQ ---------------------------------------------------------------------------------------------
    def faq_vectors(self) -> dict[str, np.ndarray]:
        """Every FAQ variant's stored vector by record id, as the FAQ's embedding function wrote it.

        Read a few hundred at a time: all 1,300 hashed vectors (2,048 dimensions) in one read raised a bot
        worker's peak memory by 65 MB while the client converted them.
        """
        out: dict[str, np.ndarray] = {}
        while True:
            got = self.faq.get(include=["embeddings"], limit=FAQ_BATCH, offset=len(out))
            vectors = got["embeddings"] if got["embeddings"] is not None else []
            out.update((i, np.asarray(v, dtype=np.float32)) for i, v in zip(got["ids"], vectors, strict=True))
            if len(got["ids"]) < FAQ_BATCH:
                return out

    def faq_entries(self) -> list[FaqEntry]:
        """The FAQ as stored (one Chroma record per question variant, regrouped by entry)."""
        got = self.faq.get(include=["metadatas"])
        entries: dict[str, FaqEntry] = {}
        variants: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for meta in got["metadatas"] or []:
            faq_id = str(meta["faq_id"])
            if faq_id not in entries:
                entries[faq_id] = FaqEntry.from_record(meta)
            # Records written before variants carried their order sort alphabetically, after ordered ones.
            order = int(meta["order"]) if "order" in meta else 1_000_000
            variants.setdefault((faq_id, str(meta["lang"])), []).append((order, str(meta["question"])))
        for (faq_id, lang), found in variants.items():
            entries[faq_id].questions[lang] = [q for _, q in sorted(found)]
        return sorted(entries.values(), key=lambda e: e.id)

    def put_faq(self, entries: Iterable[FaqEntry]) -> int:
        """Add or replace FAQ entries (every variant re-embedded); returns the number of entries written.

        One delete, and adds of a few hundred variants: Chroma's embedded store pays about 75 ms per add call here,
        so seeding the shipped FAQ entry by entry (42 adds) was most of a new data folder's start-up, while one add
        of all 1,100 variants can outlast a Chroma server's request timeout.
        """
        entries = list(entries)
        if not entries:
            return 0
        stale = self.faq.get(where={"faq_id": {"$in": [e.id for e in entries]}}, include=[])["ids"]
        if stale:
            self.faq.delete(ids=stale)
        records = [r for entry in entries for r in entry.records()]
        step = min(self.client.get_max_batch_size(), FAQ_BATCH)
        for start in range(0, len(records), step):
            batch = records[start:start + step]
            self.faq.add(ids=[r.id for r in batch], documents=[r.question for r in batch],
                         metadatas=[r.metadata for r in batch])
        return len(entries)

    def delete_faq(self, faq_id: str) -> bool:
        """Remove one FAQ entry; False when there was none."""
        ids = self.faq.get(where={"faq_id": faq_id}, include=[])["ids"]
        if ids:
            self.faq.delete(ids=ids)
        return bool(ids)


def _configuration() -> Any:
    # A new dict each time: chromadb writes the embedding function into the one it is given.
    return {"hnsw": {"space": "cosine"}}


def embedding_signature(embedding: EmbeddingFunction[Documents]) -> dict[str, str | int]:
    """What identifies an embedding function's vectors: its name, its configuration and their dimension."""
    dim = getattr(embedding, "dim", None)
    if not isinstance(dim, int):
        dim = len(embedding(["dimension"])[0])
    return {**_function_of({"embedding": embedding.name(), "embedding_config": _config_json(embedding.get_config())}),
            "embedding_dim": dim}


def _config_json(config: Any) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def _function_of(signature: dict[str, Any]) -> dict[str, str]:
    return {"embedding": str(signature["embedding"]), "embedding_config": str(signature["embedding_config"])}


def _stored_signature(collection: Collection) -> dict[str, str | int] | None:
    meta = collection.metadata or {}
    if "embedding" not in meta:
        return None
    return {k: meta[k] for k in ("embedding", "embedding_config", "embedding_dim") if k in meta}  # type: ignore[misc]


def _persisted_function(collection: Collection) -> dict[str, str] | None:
    """The function Chroma recorded in the collection's configuration (name and config), if any."""
    persisted = (collection.configuration_json or {}).get("embedding_function") or {}
    if not persisted.get("name"):
        return None
    return {"embedding": str(persisted["name"]), "embedding_config": _config_json(persisted.get("config", {}))}
