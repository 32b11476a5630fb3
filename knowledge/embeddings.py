"""Embedding functions for the Chroma index: an offline default and real models chosen by a setting."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from knowledge.tokens import is_han, normalize

_LATIN_WORD = re.compile(r"[a-z0-9]+")


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


def make_embedding(
    spec: str, *, base_url: str | None = None, api_key: str | None = None
) -> EmbeddingFunction[Documents]:
    """The embedding function a settings string names (see Settings.embedding)."""
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
        f"KCXF_EMBEDDING={spec!r} is not understood: use hashed-ngram, st:/path/to/model or openai:MODEL"
    )
