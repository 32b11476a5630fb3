"""Hybrid retrieval: lexical and vector rankings fused, synonyms bridging entrants' words, FAQ confidence."""

from __future__ import annotations

from knowledge.answer import FAQ_CONFIDENCE, KnowledgeBase


def test_passages_come_from_the_asked_language_with_metadata(kb: KnowledgeBase):
    zh = kb.retriever.passages("申报截止时间", lang="zh")
    en = kb.retriever.passages("application deadline", lang="en")
    assert zh and all(h.chunk.lang == "zh" for h in zh) and zh[0].chunk.section == "五·申报方式"
    assert en and all(h.chunk.lang == "en" for h in en) and en[0].chunk.section == "V. How to Apply"
    assert zh[0].score > zh[-1].score and 0 < zh[0].coverage <= 1


def test_fusion_finds_what_only_the_vector_side_sees(kb: KnowledgeBase):
    # Misspelt words share no stemmed token with the text; the embedding (subwords, or character trigrams for the
    # hashed fallback) still places them near the passage.
    question = "intelectual propperty"
    scored = kb.retriever.scored_passages(question, lang="en")
    assert scored and all(p.bm25 == 0 and p.bm25_rank == 0 for p in scored)
    assert scored[0].vector_rank >= 1 and scored[0].cosine > 0
    hits = kb.retriever.passages(question, lang="en")
    assert hits and "intellectual property" in hits[0].chunk.text


def test_synonyms_bridge_colloquial_words(kb: KnowledgeBase):
    terms = kb.retriever.tokenizer.terms("ddl是哪天", lang="zh")
    ddl = next(t for t in terms if t.token == "ddl")
    assert "截止" in ddl.alternatives
    hits = kb.retriever.passages("ddl是哪天", lang="zh")
    assert hits[0].chunk.section == "五·申报方式"


def test_faq_confidence_separates_a_paraphrase_from_an_unrelated_question(kb: KnowledgeBase):
    close = next(iter(kb.retriever.faq_candidates("报名费要交多少", lang="zh")), None)
    far = next(iter(kb.retriever.faq_candidates("明天上海天气怎么样", lang="zh")), None)
    assert close is not None and close.entry.id == "fee"
    assert close.confidence >= FAQ_CONFIDENCE
    assert far is None or far.confidence < FAQ_CONFIDENCE


def test_a_messages_vector_is_composed_though_an_ask_left_the_vector_cache(kb: KnowledgeBase, monkeypatch):
    # With room for one vector, embedding the second ask pushes the first out before the whole is composed.
    import knowledge.retrieve as retrieve

    monkeypatch.setattr(retrieve, "QUERY_VECTORS_KEPT", 1)
    retriever = kb.retriever
    first, second = "when do entries close?", "is entering free of charge?"
    retriever.embed_questions([first])
    whole = f"{first} {second}"
    retriever.prefetch([first, second], whole=whole)
    vector = retriever._query_vectors(whole, kb.retriever.index.embedding)
    assert abs(float((vector ** 2).sum()) - 1.0) < 1e-4


def test_an_entry_found_by_its_words_beyond_the_vector_pool_is_measured_not_zeroed(kb: KnowledgeBase):
    # "blank" finds the entry on blank fields by its words, while its variants are not among the nearest by
    # character n-grams: it is measured against its variant (low), not counted as unrelated (0)
    hits = {h.entry.id: h for h in kb.retriever.faq_candidates(
        "I accidentally left 2 boxes on the form BLANK, is my application dead?", lang="en")}
    assert "real_name" in hits
    assert 0.0 < hits["real_name"].cosine < 0.5
