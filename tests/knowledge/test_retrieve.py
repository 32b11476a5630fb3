"""Hybrid retrieval: lexical and vector rankings fused, synonyms bridging entrants' words, FAQ confidence."""

from __future__ import annotations

import numpy as np

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


def test_announced_texts_are_embedded_in_one_call_at_the_first_lookup(kb: KnowledgeBase, monkeypatch):
    # the asks of a message: nothing runs when they are announced, one call for all when one is looked up, and the
    # whole message is their mean
    retriever, embedding = kb.retriever, kb.retriever.index.embedding
    calls: list[list[str]] = []
    embed = embedding.embed_query
    monkeypatch.setattr(embedding, "embed_query", lambda texts: calls.append(list(texts)) or embed(texts))
    first, second = "when do entries close? asking for our lab", "is entering free?"
    whole = f"{first} {second}"
    retriever.prefetch([first, second], whole=whole)
    assert calls == []
    vector = retriever._query_vectors(whole, embedding)
    assert calls == [[first, second]]
    retriever._query_vectors(second, embedding)
    assert calls == [[first, second]]
    mean = sum(np.asarray(retriever._query_vectors(q, embedding), dtype=np.float32) for q in (first, second))
    assert np.allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)


def test_a_text_announced_and_never_looked_up_is_forgotten(kb: KnowledgeBase, monkeypatch):
    import knowledge.retrieve as retrieve

    monkeypatch.setattr(retrieve, "QUERY_VECTORS_KEPT", 2)
    retriever = kb.retriever
    for n in range(5):
        retriever.prefetch([f"question {n}?", f"and {n}?"], whole=f"question {n}? and {n}?")
    assert len(retriever._pending) <= 2
    # a forgotten text is embedded on its own when it is looked up after all
    assert retriever._query_vectors("question 0?", retriever.index.embedding) is not None


def test_an_entry_found_by_its_words_beyond_the_vector_pool_is_measured_not_zeroed(kb: KnowledgeBase):
    # "blank" finds the entry on blank fields by its words, while its variants are not among the nearest by
    # character n-grams: it is measured against its variant (low), not counted as unrelated (0)
    hits = {h.entry.id: h for h in kb.retriever.faq_candidates(
        "I accidentally left 2 boxes on the form BLANK, is my application dead?", lang="en")}
    assert "real_name" in hits
    assert 0.0 < hits["real_name"].cosine < 0.5


def test_a_fresh_store_finds_the_same_faq_candidates(kb: KnowledgeBase, tmp_path):
    # The FAQ's nearest variants were a Chroma query on an approximate index: another data folder, built from the
    # same texts, returned another set for one question in five, and now and then another answer.
    from bot.runtime import Runtime
    from config.settings import Settings

    fresh = Runtime.open(Settings(_env_file=None, data_dir=tmp_path / "var")).knowledge  # type: ignore[call-arg]
    questions = {
        "en": ["when do entries close", "can we enter two products", "is there a fee", "who are the judges",
               "we used photos from a brochure, ok?", "what does the park award look for", "how big can files be",
               "do we need an expert to nominate us", "is the review confidential", "what do finalists get",
               "we had a fine two years ago", "which industries are covered", "can i use a pen name",
               "where is the committee", "what should the email subject say", "is english ok for the form"],
        "zh": ["报名截止到哪天", "能报几个奖", "要交钱吗", "评委是谁", "图片用了别人的可以吗", "园区奖看什么",
               "附件多大", "需要专家推荐吗", "评审保密吗", "入围有什么好处", "前年被罚过款", "哪些行业可以报",
               "可以用笔名吗", "组委会在哪", "邮件标题怎么写", "可以用英文填表吗"],
    }
    for lang, asked in questions.items():
        for question in asked:
            ours = [(c.entry.id, round(c.confidence, 6)) for c in kb.retriever.faq_candidates(question, lang=lang)]
            theirs = [(c.entry.id, round(c.confidence, 6)) for c in fresh.retriever.faq_candidates(question, lang=lang)]
            assert ours == theirs, question
