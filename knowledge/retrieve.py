"""Hybrid retrieval: BM25 over segmented words beside Chroma's vector search, fused by reciprocal rank."""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import bm25s
import numpy as np

from knowledge.chunk import Chunk
from knowledge.faq import FaqEntry
from knowledge.index import KnowledgeIndex
from knowledge.tokens import Term, Tokenizer
from knowledge.typos import HomophoneFixer, SpellingFixer, expand_chat_spellings

# Reciprocal-rank fusion: ranks matter, raw scores of the two retrievers are not comparable. A small k and a
# lower weight for the vector side keep the lexical top hit on top when the offline embedding only adds noise;
# vector hits below a cosine floor are noise and are left out.
RRF_K = 20
VECTOR_WEIGHT = 0.5
MIN_COSINE = 0.15
# An FAQ entry's confidence: this much of the best variant's similarity, the rest from the question's coverage.
FAQ_COSINE_WEIGHT = 0.5
# With a sentence model for passages, the best few FAQ candidates are read again against their answers. On the
# tuning sets (qa, dev, holdout) this won four Chinese questions and lost two English ones: Chinese only.
FAQ_RERANK = 5
FAQ_ANSWER_WEIGHT = {"zh": 0.35, "en": 0.0}
# With a sentence model, the question is also compared with every variant as a question ("query: " on both
# sides): the paraphrase with no word in common ("my attachments r over 20mb" ~ "What if my attachments are too
# large?"). This share of the confidence is that similarity; the entries it ranks first join the candidates.
# English leans on it more: entrants' English shares fewer words with the variants than their Chinese does. On
# the tuning sets (qa, dev, holdout; 286 answerable) English went from 92.3 % at 0.15 to 95.1 % at 0.45 with no
# English decline lost, and fell again above it (0.6: 92.3 %, declines 95.7 %); Chinese gained nothing from it.
FAQ_SEMANTIC_WEIGHT = {"zh": 0.15, "en": 0.45}
FAQ_SEMANTIC_CANDIDATES = 5
# The FAQ variants nearest by the FAQ's embedding, both languages together: the 20 nearest in the question's
# language are among them (a question shares next to no n-grams with the other language's variants).
FAQ_VECTOR_POOL = 40
# Texts whose FAQ candidates are remembered, per snapshot (the last few hundred messages' asks).
FAQ_HITS_KEPT = 2048
# A variant that asks with another question word than the question ("When is judging?" for "who is judging")
# asks for another fact, however many words the two share: its confidence is cut by this factor.
WH_MISMATCH = 0.85
_WH = {
    "en": ((re.compile(r"\bwho(m|se)?\b|\bwho's\b", re.IGNORECASE), "who"),
           (re.compile(r"\bwhens?\b|\bwhat (date|day|time)\b", re.IGNORECASE), "when"),
           (re.compile(r"\bwhere\b", re.IGNORECASE), "where")),
    "zh": ((re.compile(r"谁|什么人"), "who"),
           (re.compile(r"什么时候|啥时候|何时|哪天|几号|几月"), "when"),
           (re.compile(r"哪里|哪儿|在哪|什么地方|啥地方"), "where")),
}
QUERY_VECTORS_KEPT = 2048

log = logging.getLogger(__name__)


def _question_word(text: str, lang: str) -> str | None:
    """Who, when or where, when the text asks with exactly one of them."""
    found = {word for pattern, word in _WH.get(lang, ()) if pattern.search(text)}
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with its fused score and the part of the question it covers."""

    chunk: Chunk
    score: float
    coverage: float


@dataclass(frozen=True)
class FaqHit:
    """An FAQ entry for a question and how sure we are (0–1), from the best variant's cosine and the coverage
    (`lexical`), and with a sentence model from the meaning of the nearest variant too (`confidence`)."""

    entry: FaqEntry
    question: str
    confidence: float
    cosine: float = 0.0
    coverage: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class ScoredPassage:
    """A passage with every score that ranked it, for explaining an answer (ranks are 1-based, 0: not ranked)."""

    chunk: Chunk
    bm25: float
    bm25_rank: int
    cosine: float
    vector_rank: int
    fused: float
    coverage: float


@dataclass
class _Lexical:
    """One BM25 index with the token lists and document frequencies it was built from."""

    tokens: list[list[str]]
    bm25: bm25s.BM25 | None = None
    df: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for toks in self.tokens:
            self.df.update(set(toks))
        if any(self.tokens):
            self.bm25 = bm25s.BM25()
            self.bm25.index(self.tokens, show_progress=False)

    def scores(self, query: list[str]) -> np.ndarray:
        if self.bm25 is None or not query:
            return np.zeros(len(self.tokens))
        known = [t for t in query if t in self.df]
        return self.bm25.get_scores(known) if known else np.zeros(len(self.tokens))

    def idf(self, token: str) -> float:
        # Words the corpus never uses get the highest weight: a question about them is probably off-topic.
        n = len(self.tokens)
        return math.log(1 + (n + 1) / (self.df.get(token, 0) + 0.5))


@dataclass(frozen=True)
class _Snapshot:
    """Everything built in memory from one state of the index; replaced whole, so a reader never sees a mix."""

    chunks: dict[str, list[Chunk]]
    lex: dict[str, _Lexical]
    faq: dict[str, FaqEntry]
    faq_variants: dict[str, list[tuple[str, str]]]
    # Every variant as (entry id, language, variant), in faq_matrix's order.
    faq_records: list[tuple[str, str, str]]
    # Every variant's stored vector by the FAQ's embedding (unit length), one row per record. Searched here
    # rather than through a Chroma query: its approximate index over the hashed n-gram vectors returned another
    # set of nearest variants for one question in five from one data folder to the next, and with it another
    # answer now and then.
    faq_matrix: np.ndarray
    # Each record's row in faq_matrix.
    faq_rows: dict[tuple[str, str, str], int]
    faq_vocab: dict[tuple[str, str], set[str]]
    faq_lex: dict[str, _Lexical]
    vocab_cache: dict[str, set[str]] = field(default_factory=dict)
    answer_vectors: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Per language, the sentence model's vector of every variant in faq_variants' order (none without a model).
    variant_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # Per language, every passage's stored vector (unit length) in chunks' order: a question is ranked against
    # ~150 passages by one matrix product, which took 4–5 ms through a Chroma query.
    chunk_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    # Per language, every word of every passage, FAQ variant and FAQ answer.
    vocabulary: dict[str, frozenset[str]] = field(default_factory=dict)
    # Built on the first Chinese question that needs it (its pinyin tables are loaded then).
    homophones: dict[str, HomophoneFixer] = field(default_factory=dict)
    # Built on the first English question.
    spellers: dict[str, SpellingFixer] = field(default_factory=dict)
    # The FAQ candidates of a text, by (text, language, vectors used): one message looks up the same text two or
    # three times (the ask, the whole message, the question after a situation).
    faq_hits: dict[tuple[str, str, bool], list[FaqHit]] = field(default_factory=dict)

    @classmethod
    def build(cls, index: KnowledgeIndex, tokenizer: Tokenizer) -> _Snapshot:
        chunks = index.chunks()
        by_lang = {lang: [c for c in chunks if c.lang == lang] for lang in {c.lang for c in chunks}}
        faq = {e.id: e for e in index.faq_entries()}
        variants: dict[str, list[tuple[str, str]]] = {}
        for entry in faq.values():
            for lang, qs in entry.questions.items():
                variants.setdefault(lang, []).extend((entry.id, q) for q in qs)
        faq_vocab = {
            (entry.id, lang): {
                t for text in [*entry.questions.get(lang, []), entry.answer.get(lang, "")] for t in tokenizer.tokens(text)
            }
            for entry in faq.values()
            for lang in entry.questions
        }
        stored = index.chunk_vectors()
        records = {r.id: (e.id, str(r.metadata["lang"]), r.question) for e in faq.values() for r in e.records()}
        faq_stored = index.faq_vectors() if records else {}
        # A variant written by another process between the two reads: its vector as the store would hold it.
        if missing := [i for i in records if i not in faq_stored]:
            faq_stored.update(zip(missing, np.asarray(index.faq_embedding([records[i][2] for i in missing]),
                                                      dtype=np.float32), strict=True))
        return cls(
            chunks=by_lang,
            chunk_vectors={lang: _unit_rows([stored[c.id] for c in cs]) for lang, cs in by_lang.items() if cs},
            lex={lang: _Lexical([tokenizer.tokens(c.index_text) for c in cs]) for lang, cs in by_lang.items()},
            faq=faq,
            faq_variants=variants,
            faq_records=list(records.values()),
            faq_rows={record: n for n, record in enumerate(records.values())},
            faq_matrix=_unit_rows([faq_stored[i] for i in records]) if records else np.zeros((0, 0), np.float32),
            faq_vocab=faq_vocab,
            faq_lex={lang: _Lexical([tokenizer.tokens(q) for _, q in vs]) for lang, vs in variants.items()},
            # The shipped variants' vectors come from knowledge/vectors/; a maintainer's new ones meet the model.
            variant_vectors={
                lang: np.asarray(index.embedding.embed_query([q for _, q in vs]), dtype=np.float32)
                for lang, vs in variants.items()
            } if _is_sentence_model(index.embedding) else {},
            vocabulary={
                lang: frozenset(t for c in by_lang.get(lang, []) for t in tokenizer.tokens(c.index_text)).union(
                    *(vocab for (_, vocab_lang), vocab in faq_vocab.items() if vocab_lang == lang))
                for lang in {*by_lang, *variants}
            },
        )


class _Batch:
    """Texts announced together, embedded in one call by the first thread that looks one of them up."""

    def __init__(self, embed: Callable[[], None]) -> None:
        self._embed: Callable[[], None] | None = embed
        self._lock = threading.Lock()

    def run(self) -> None:
        with self._lock:  # a second thread asking for the same text waits for the call, not makes its own
            embed, self._embed = self._embed, None
            if embed is not None:
                embed()


class Retriever:
    """Answers "which passages and which FAQ entry fit this question" for one language at a time."""

    def __init__(self, index: KnowledgeIndex, tokenizer: Tokenizer) -> None:
        self.index = index
        self.tokenizer = tokenizer
        # Off only in bench/qa.py's ablation: BM25 and the FAQ's words alone. Questions are searched in the
        # snapshot's matrices, so a Chroma server's outage does not reach them.
        self.use_vectors = True
        # Question vectors by (text, embedding function), oldest first: a follow-up ask, /explain, the FAQ and the
        # passages all read the same one.
        self._vectors: dict[tuple[str, Any], Any] = {}
        self._vectors_lock = threading.Lock()
        # Question vectors announced (prefetch) and not embedded yet, by the same keys: the batch holding each.
        self._pending: dict[tuple[str, Any], _Batch] = {}
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the in-memory lexical side from what Chroma holds (after ingest or an FAQ edit).

        Safe to run in a worker thread while questions are answered: they use the previous snapshot until the
        new one is complete.
        """
        self._snap = _Snapshot.build(self.index, self.tokenizer)

    def chunks(self, lang: str) -> list[Chunk]:
        """The passages held in memory for one language, in document order."""
        return self._snap.chunks.get(lang, [])

    def passages(self, question: str, *, lang: str, k: int = 5) -> list[Hit]:
        """The k best passages in `lang`, fused from BM25 and vector rankings."""
        return [Hit(chunk=p.chunk, score=p.fused, coverage=p.coverage)
                for p in self.scored_passages(question, lang=lang, k=k)]

    def scored_passages(self, question: str, *, lang: str, k: int = 5) -> list[ScoredPassage]:
        """The k best passages in `lang` with their BM25, vector and fused scores, best first."""
        snap = self._snap
        chunks = snap.chunks.get(lang, [])
        if not chunks:
            return []
        lex = snap.lex[lang]
        terms = self.tokenizer.terms(question, lang=lang)
        bm = lex.scores(sorted({alt for term in terms for alt in term.alternatives}))
        pool = min(len(chunks), max(k * 4, 20))
        fused: dict[int, float] = {}
        bm_rank: dict[int, int] = {}
        for rank, i in enumerate(np.argsort(-bm)[:pool]):
            if bm[i] > 0:
                fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (RRF_K + rank)
                bm_rank[int(i)] = rank + 1
        cosine: dict[int, tuple[float, int]] = {}
        for rank, (i, cos) in enumerate(self._nearest_chunks(question, snap, lang, pool)):
            similarity = _similarity(1.0 - cos, self.index.embedding)
            if similarity >= getattr(self.index.embedding, "min_similarity", MIN_COSINE):
                fused[i] = fused.get(i, 0.0) + VECTOR_WEIGHT / (RRF_K + rank)
                cosine[i] = (similarity, rank + 1)
        best = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        return [
            ScoredPassage(
                chunk=chunks[i], bm25=float(bm[i]), bm25_rank=bm_rank.get(i, 0),
                cosine=cosine.get(i, (0.0, 0))[0], vector_rank=cosine.get(i, (0.0, 0))[1], fused=s,
                coverage=_coverage(terms, self._chunk_vocab(snap, chunks[i]), lex),
            )
            for i, s in best
        ]

    def _nearest_chunks(self, question: str, snap: _Snapshot, lang: str, n: int) -> list[tuple[int, float]]:
        """The n passages nearest the question by cosine, as (position in chunks, cosine), nearest first; none
        while the vector side is switched off (bench/qa.py's ablation) or resting after a failure."""
        matrix = snap.chunk_vectors.get(lang)
        if matrix is None or not self.use_vectors:
            return []
        q = np.asarray(self._query_vectors(question, self.index.embedding), dtype=np.float32)
        sims = matrix @ (q / (float(np.linalg.norm(q)) or 1.0))
        return [(int(i), float(sims[i])) for i in np.argsort(-sims)[:n]]

    def vocabulary(self, lang: str) -> frozenset[str]:
        """Every word of every passage, FAQ variant and FAQ answer in `lang`, as tokens."""
        return self._snap.vocabulary.get(lang, frozenset())

    def unknown_words(self, text: str, *, lang: str) -> list[str]:
        """The words of `text` that no passage, FAQ variant or FAQ answer uses, nor any synonym of theirs."""
        vocabulary = self.vocabulary(lang)
        return [term.token for term in self.tokenizer.terms(text, lang=lang)
                if not (term.alternatives | term.synonyms) & vocabulary]

    def fix_typos(self, text: str, *, lang: str, keep: frozenset[str] = frozenset()) -> str:
        """A question with its typos read as the knowledge base's words: Chinese homophones ("邮相" → "邮箱"),
        English slips of one letter ("deadine" → "deadline") and phone spellings ("wat r the rules")."""
        snap = self._snap
        if lang == "en":
            speller = snap.spellers.get(lang)
            if speller is None:
                texts = [c.index_text for c in snap.chunks.get(lang, [])] + [q for _, q in snap.faq_variants.get(lang, [])]
                speller = snap.spellers[lang] = SpellingFixer(
                    texts, known=lambda word: not self.unknown_words(word, lang=lang))
            return speller.fix(expand_chat_spellings(text), keep=keep)
        if lang != "zh":
            return text
        fixer = snap.homophones.get(lang)
        if fixer is None:
            fixer = snap.homophones[lang] = HomophoneFixer(snap.vocabulary.get(lang, frozenset()),
                                                           segment=self.tokenizer.segments)
        return fixer.fix(text)

    def _query_vector(self, question: str, embedding: Any) -> list[Any]:
        """The question as `embedding` embeds a query, computed once per text (a follow-up ask, /explain)."""
        return [self._query_vectors(question, embedding)]

    def _query_vectors(self, question: str, embedding: Any) -> Any:
        key = (question, embedding)
        found = self._vectors.get(key)
        if found is None:
            batch = self._pending.get(key)
            if batch is not None:
                batch.run()  # the texts announced with this one, in one model call (or raise what it raised)
                found = self._vectors.get(key)
            if found is None:
                self.embed_questions([question], embedding)
                found = self._vectors[key]
        return found

    def prefetch(self, questions: Sequence[str], *, whole: str | None = None) -> None:
        """Announce the texts a message will look up: the first lookup of any embeds them all in one model call.

        A call costs less than one per text (its setup is paid once), and the call runs in the asking thread: in a
        background thread beside the word search, the model's thread and the interpreter's took turns on the
        2 cores, and a third busy process made it worse (p95 on holdout 56 → 99 ms with one core kept busy, in
        the asking thread 59 ms). A text that may not be needed (an ask's clause without its remark) is not
        announced: in the same call it made the slowest questions' call twice as long whether or not it was
        looked up (p95 qa 49 → 44 ms, measured alternating with the code before).
        """
        embedding = self.index.embedding
        with self._vectors_lock:
            todo = [q for q in dict.fromkeys(questions)
                    if (q, embedding) not in self._vectors and (q, embedding) not in self._pending]
            composed = whole is not None and (whole, embedding) not in self._vectors and \
                (whole, embedding) not in self._pending
            if not todo and not composed:
                return
            batch = _Batch(lambda: self._embed_message(todo, list(questions), whole if composed else None,
                                                       embedding))
            self._pending.update(dict.fromkeys(((q, embedding) for q in todo), batch))
            if composed:
                self._pending[(whole, embedding)] = batch
            # A text announced and never looked up (a whole whose asks were all answered) is forgotten in time;
            # looked up after that, it is embedded alone.
            while len(self._pending) > QUERY_VECTORS_KEPT:
                del self._pending[next(iter(self._pending))]

    def _embed_message(self, todo: list[str], parts: list[str], whole: str | None, embedding: Any) -> None:
        """The parts embedded, then the whole message as the mean of its parts' vectors (unit length).

        A sentence model pools its tokens' vectors into a mean, so the parts' mean stands close to the whole's
        own vector, and the model's time grows with the tokens it reads: the whole embedded beside its parts
        took the slowest questions' model call from two texts' length to four.
        """
        try:
            self.embed_questions(todo, embedding)
            if whole is None:
                return
            with self._vectors_lock:
                kept = [self._vectors.get((p, embedding)) for p in parts]
            # A part embedded earlier may have left the cache since (another thread's texts pushed it out).
            missing = [p for p, row in zip(parts, kept, strict=True) if row is None]
            if missing:
                again = dict(zip(missing, (getattr(embedding, "embed_query", None) or embedding)(missing), strict=True))
                kept = [again[p] if row is None else row for p, row in zip(parts, kept, strict=True)]
            rows = np.asarray(kept, dtype=np.float32)
            mean = rows.sum(axis=0)
            with self._vectors_lock:
                self._vectors[(whole, embedding)] = mean / (float(np.linalg.norm(mean)) or 1.0)
        finally:
            if whole is not None:
                with self._vectors_lock:
                    self._pending.pop((whole, embedding), None)

    def embed_questions(self, questions: Sequence[str], embedding: Any = None) -> None:
        """Embed the questions not embedded yet in one call (the asks of a message: a sentence model takes two
        texts at once in less time than one after the other)."""
        embedding = embedding if embedding is not None else self.index.embedding
        todo = [q for q in dict.fromkeys(questions) if (q, embedding) not in self._vectors]
        if not todo:
            return
        embed = getattr(embedding, "embed_query", None) or embedding
        try:
            rows = embed(todo)
        except BaseException:
            with self._vectors_lock:
                for question in todo:
                    self._pending.pop((question, embedding), None)
            raise
        with self._vectors_lock:  # a console request in a worker thread may ask at the same time
            for question, row in zip(todo, rows, strict=True):
                self._vectors[(question, embedding)] = row
                self._pending.pop((question, embedding), None)
            while len(self._vectors) > QUERY_VECTORS_KEPT:
                del self._vectors[next(iter(self._vectors))]

    def _chunk_vocab(self, snap: _Snapshot, chunk: Chunk) -> set[str]:
        vocab = snap.vocab_cache.get(chunk.id)
        if vocab is None:
            vocab = snap.vocab_cache[chunk.id] = set(self.tokenizer.tokens(chunk.index_text))
        return vocab

    def faq_candidates(self, question: str, *, lang: str) -> list[FaqHit]:
        """FAQ entries near the question, most confident first.

        Confidence averages two views: the best cosine between the question and one of the entry's variants, and
        how much of the question (IDF-weighted) the entry's variants and answer cover together, so a colloquial
        paraphrase that shares words with different variants still counts.
        """
        snap = self._snap
        variants = snap.faq_variants.get(lang, [])
        if not variants:
            return []
        key = (question, lang, self.use_vectors)
        if key not in snap.faq_hits:
            if len(snap.faq_hits) >= FAQ_HITS_KEPT:
                snap.faq_hits.clear()
            snap.faq_hits[key] = self._faq_candidates(question, snap, variants, lang)
        return list(snap.faq_hits[key])

    def _faq_candidates(self, question: str, snap: _Snapshot, variants: list[tuple[str, str]],
                        lang: str) -> list[FaqHit]:
        terms = self.tokenizer.terms(question, lang=lang)
        # The nearest variants over both languages, exactly: a question shares next to no n-grams with the other
        # language's variants.
        best_cos: dict[str, tuple[float, str]] = {}
        query = np.asarray(self._query_vector(question, self.index.faq_embedding)[0], dtype=np.float32)
        sims = snap.faq_matrix @ (query / (float(np.linalg.norm(query)) or 1.0))
        for i in np.argsort(-sims, kind="stable")[:FAQ_VECTOR_POOL] if self.use_vectors else ():
            faq_id, record_lang, variant = snap.faq_records[int(i)]
            cos = _similarity(1.0 - float(sims[i]), self.index.faq_embedding)
            if record_lang == lang and faq_id in snap.faq and cos > best_cos.get(faq_id, (-1.0, ""))[0]:
                best_cos[faq_id] = (cos, variant)
        lex = snap.faq_lex[lang]
        bm = lex.scores(sorted({alt for term in terms for alt in term.alternatives}))
        for i in np.argsort(-bm)[:10]:
            if bm[i] > 0:
                best_cos.setdefault(variants[int(i)][0], (0.0, variants[int(i)][1]))
        semantic = self._semantic_faq(question, snap, lang)
        for faq_id, (_, variant) in sorted(semantic.items(), key=lambda kv: -kv[1][0])[:FAQ_SEMANTIC_CANDIDATES]:
            best_cos.setdefault(faq_id, (0.0, variant))
        share = FAQ_SEMANTIC_WEIGHT.get(lang, 0.0) if semantic else 0.0
        pooled = {faq_id for faq_id, (cos, _) in best_cos.items() if cos}
        best_cos.update(self._beyond_pool(sims, {f: v for f, (cos, v) in best_cos.items() if not cos}, lang))
        hits = []
        for faq_id, (cos, variant) in best_cos.items():
            coverage = _coverage(terms, snap.faq_vocab.get((faq_id, lang), set()), lex)
            lexical = FAQ_COSINE_WEIGHT * cos + (1 - FAQ_COSINE_WEIGHT) * coverage
            meaning, nearest = semantic.get(faq_id, (0.0, variant))
            hits.append(FaqHit(entry=snap.faq[faq_id], question=variant if faq_id in pooled else nearest,
                               confidence=(1 - share) * lexical + share * meaning, cosine=cos, coverage=coverage,
                               lexical=lexical))
        asks = _question_word(question, lang)
        if asks is not None:
            hits = [replace(h, confidence=h.confidence * WH_MISMATCH)
                    if _question_word(h.question, lang) not in (None, asks) else h for h in hits]
        hits = sorted(hits, key=lambda h: -h.confidence)
        weight = FAQ_ANSWER_WEIGHT.get(lang, 0.0)
        if weight and hits and _is_sentence_model(self.index.embedding):
            # A sentence model reads the question against each candidate's answer, as it reads it against passages:
            # what the entry says, not only how its variants are worded.
            top = hits[:FAQ_RERANK]
            query = self._query_vector(question, self.index.embedding)[0]
            answers = self._answer_vectors(snap, [(h.entry.id, lang) for h in top])
            top = [replace(h, confidence=(1 - weight) * h.confidence + weight * _similarity(
                1.0 - float(np.dot(query, vec)), self.index.embedding)) for h, vec in zip(top, answers, strict=True)]
            hits = top + hits[FAQ_RERANK:]
        # Stable on ties: the first candidate reached keeps the lead, as before.
        return sorted(hits, key=lambda h: -h.confidence)

    def _beyond_pool(self, sims: np.ndarray, found: dict[str, str], lang: str) -> dict[str, tuple[float, str]]:
        """The cosine of each entry found by its words or meaning alone to the variant it was found by (`sims`:
        the question's against every record): beyond the nearest variants it is low, not nothing ("left 2 boxes on
        the form BLANK" found "What happens if we leave some fields blank?" by its words, at cosine 0 it lost to
        the form's download)."""
        rows = self._snap.faq_rows
        return {faq_id: (_similarity(1.0 - float(sims[rows[faq_id, lang, variant]]), self.index.faq_embedding), variant)
                for faq_id, variant in found.items() if (faq_id, lang, variant) in rows}

    def _semantic_faq(self, question: str, snap: _Snapshot, lang: str) -> dict[str, tuple[float, str]]:
        """Per FAQ entry, the sentence model's similarity (0–1) of its nearest variant, and that variant."""
        matrix = snap.variant_vectors.get(lang)
        if matrix is None or not self.use_vectors:
            return {}
        sims = matrix @ np.asarray(self._query_vectors(question, self.index.embedding), dtype=np.float32)
        best: dict[str, tuple[float, str]] = {}
        for (faq_id, variant), sim in zip(snap.faq_variants[lang], sims.tolist(), strict=True):
            if sim > best.get(faq_id, (-2.0, ""))[0]:
                best[faq_id] = (sim, variant)
        return {faq_id: (_similarity(1.0 - sim, self.index.embedding), variant)
                for faq_id, (sim, variant) in best.items()}

    def _answer_vectors(self, snap: _Snapshot, keys: list[tuple[str, str]]) -> list[Any]:
        missing = [k for k in keys if k not in snap.answer_vectors]
        if missing:
            rows = self.index.embedding([snap.faq[faq_id].answer.get(lang, "") for faq_id, lang in missing])
            snap.answer_vectors.update(zip(missing, rows, strict=True))
        return [snap.answer_vectors[k] for k in keys]


def _unit_rows(rows: Sequence[np.ndarray]) -> np.ndarray:
    """The rows as one float32 matrix, each scaled to unit length (Chroma's cosine space compares directions)."""
    matrix = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _is_sentence_model(embedding: Any) -> bool:
    """A model that reads meaning (and says where its cosines lie), not the hashed n-grams."""
    return hasattr(embedding, "cosine_range") and hasattr(embedding, "embed_query")


def _similarity(distance: float, embedding: Any) -> float:
    """A cosine distance on the scale the thresholds use: 0 unrelated, 1 the same meaning.

    Each embedding function spreads cosines its own way (a sentence model puts unrelated texts near 0.8, hashed
    n-grams near 0): a function says where its floor and ceiling lie in `cosine_range`.
    """
    floor, ceiling = getattr(embedding, "cosine_range", (0.0, 1.0))
    return min(max((1.0 - float(distance) - floor) / (ceiling - floor), 0.0), 1.0)


def _coverage(terms: Sequence[Term], vocab: set[str], lex: _Lexical) -> float:
    """IDF-weighted share of the question's words found in `vocab`, directly or through a synonym."""
    # A word that stands for its phrase ("send" of "send back") weighs as the phrase's words do.
    weights = [(lex.idf(term.token) if term.token in term.alternatives else max(map(lex.idf, term.alternatives)),
                bool(term.alternatives & vocab)) for term in terms]
    total = sum(w for w, _ in weights)
    return sum(w for w, found in weights if found) / total if total else 0.0
