"""Embeddings of the shipped texts (the guideline's passages, the FAQ's answers and questions), shipped beside them.

A sentence model embeds the ~1,400 shipped texts in tens of seconds on two cores, and a new data folder would
make its first entrant wait that long. The vectors of those texts are computed once, when the texts change
(`kcxf kb vectors`), and stored in the repository keyed by each text's digest; at start-up only texts added since
(a maintainer's FAQ entry, an uploaded notice) are embedded.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from config.editions import Edition

FOLDER = Path(__file__).with_name("vectors")


# A sentence model embeds a question apart from a passage (e5: "query: " / "passage: "): the FAQ's question
# variants are stored under this prefix, passages under their bare text.
QUERY = "query: "


def digest(text: str) -> str:
    """The key of one text's vector."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def path_for(function_name: str) -> Path:
    """Where the shipped vectors of one embedding function are kept."""
    return FOLDER / f"{function_name}.npz"


@functools.cache
def shipped(function_name: str) -> dict[str, np.ndarray]:
    """Digest → vector for the texts shipped with this function's vectors (empty when none are shipped)."""
    path = path_for(function_name)
    if not path.exists():
        return {}
    with np.load(path) as data:
        keys, rows = data["keys"], data["vectors"].astype(np.float32)
    return {str(k): row for k, row in zip(keys, rows, strict=True)}


def write(function_name: str, texts: Iterable[str], embed: Callable[[list[str]], Sequence[Any]],
          questions: Iterable[str] = (), embed_question: Callable[[list[str]], Sequence[Any]] | None = None) -> Path:
    """Embed `texts` with `embed` (and `questions` with `embed_question`) and store them for `function_name`
    (float16: a fifth of a percent of cosine)."""
    unique = list(dict.fromkeys(texts))
    asked = list(dict.fromkeys(questions)) if embed_question else []
    rows = np.asarray(list(embed(unique)) + (list(embed_question(asked)) if asked else []), dtype=np.float32)
    FOLDER.mkdir(exist_ok=True)
    path = path_for(function_name)
    keys = [digest(t) for t in unique] + [digest(QUERY + q) for q in asked]
    np.savez_compressed(path, keys=np.array(keys), vectors=rows.astype(np.float16))
    shipped.cache_clear()
    return path


def lookup(function_name: str, texts: Sequence[str], *, prefix: str = "") -> tuple[list[np.ndarray | None], list[int]]:
    """The shipped vector of each text (None where there is none) and the positions still to embed; questions
    are looked up with prefix=QUERY."""
    table = shipped(function_name)
    found = [table.get(digest(prefix + t)) for t in texts]
    return found, [i for i, v in enumerate(found) if v is None]


def shipped_texts(editions: Iterable[Edition]) -> list[str]:
    """What a new data folder embeds at start-up: every edition's guideline passages and FAQ answers."""
    from knowledge.chunk import chunk_document
    from knowledge.faq import load_faq
    from knowledge.ingest import read_document

    texts: list[str] = []
    for edition in editions:
        texts += [c.index_text for path in sorted(edition.docs_dir.glob("*.md"))
                  for c in chunk_document(read_document(path))]
        texts += [text for entry in load_faq(edition.faq_file) for text in entry.answer.values()]
    return texts


def shipped_questions(editions: Iterable[Edition]) -> list[str]:
    """Every edition's FAQ question variants, which the answerer compares a question with (as questions)."""
    from knowledge.faq import load_faq

    return [q for edition in editions for entry in load_faq(edition.faq_file) for qs in entry.questions.values()
            for q in qs]
