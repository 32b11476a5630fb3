"""Answers from the shipped guideline and FAQ: the right facts, the asker's language, a citation, or a decline."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from knowledge.answer import KnowledgeBase
from knowledge.chunk import chunk_document
from knowledge.ingest import read_document
from tests.shipped import shipped_edition


def test_guideline_chunks_follow_its_structure():
    zh = chunk_document(read_document(shipped_edition().docs_dir / "guideline-2024.zh.md"))
    en = chunk_document(read_document(shipped_edition().docs_dir / "guideline-2024.en.md"))
    sections = list(dict.fromkeys(c.section for c in zh))
    assert len(sections) == 11 and sections[0].startswith("一·") and sections[-1].startswith("十一·")
    assert len(dict.fromkeys(c.section for c in en)) == 11
    awards = [c.title for c in zh if c.section.startswith("三·")]
    assert sum(1 for t in dict.fromkeys(awards) if "年度" in t) == 7  # one subsection per award
    deadline = [c for c in zh if "10 月 20 日" in c.text or "10月20日" in c.text]
    assert deadline and deadline[0].section == "五·申报方式" and len(deadline[0].text) < 120  # an item alone
    assert all(c.doc == "guideline-2024" and c.lang == "zh" and c.title for c in zh)


@pytest.mark.parametrize(
    ("question", "lang", "must"),
    [
        ("报名截止到什么时候？", "zh", ["10", "20", "24"]),
        ("When do entries close?", "en", ["October"]),
        ("申报材料发到哪个邮箱？", "zh", ["kcxf@thepaper.cn"]),
        ("Do I have to pay a fee to enter?", "en", ["fee"]),
    ],
)
async def test_answers_carry_the_fact_the_language_and_a_citation(
    kb: KnowledgeBase, question: str, lang: str, must: list[str]
):
    answer = await kb.answer(question)
    assert answer.answered and answer.lang == lang, answer
    for fact in must:
        assert fact.lower() in answer.answer.lower(), answer.answer
    assert ("见《申报指南》" if lang == "zh" else "See the Guideline") in answer.answer
    assert answer.sources and answer.latency_ms > 0


async def test_extractive_answer_quotes_a_passage_and_cites_its_section(kb: KnowledgeBase):
    answer = await kb.answer("参与对象在科创领域需要有什么样的实力和投入？")
    assert answer.answered and answer.via in {"extractive", "faq"}
    assert "科研实力" in answer.answer or "研发能力" in answer.answer
    assert "四·征集规则" in answer.answer


async def test_english_question_gets_english_passages(kb: KnowledgeBase):
    answer = await kb.answer("How are entries judged, in how many stages?")
    assert answer.lang == "en" and answer.answered
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in answer.answer.split("(See")[0].replace("初审", "")
                   .replace("终审", "")), answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "明天上海会下雨吗？",
        "What's the best restaurant near the Bund?",
        "组委会的电话号码是多少？",
        "How much prize money does the winner get in RMB?",
        "去年都有哪些公司获奖了？",
        "Will our company win this year?",
    ],
)
async def test_questions_the_guideline_does_not_answer_are_declined(kb: KnowledgeBase, question: str):
    answer = await kb.answer(question)
    assert not answer.answered and answer.via == "none"
    assert "kcxf@thepaper.cn" in answer.answer


async def test_eligibility_question_names_track_awards_and_conditions(kb: KnowledgeBase):
    answer = await kb.answer("我们是做芯片的初创公司，能报哪个奖？")
    assert answer.answered
    text = answer.answer
    assert "新一代信息技术" in text and "年度新锐潜力" in text
    assert text.index("年度新锐潜力") < text.index("年度先锋引擎")  # a startup's best fit comes first
    for condition in ("知识产权", "3 年", "实名", "10 月 20 日"):
        assert condition in text


async def test_an_electric_car_part_maker_is_placed_in_energy_saving(kb: KnowledgeBase):
    # the guideline lists key new energy vehicle components under energy saving and environmental protection
    answer = await kb.answer("我们做新能源车电驱系统，算哪个赛道")
    assert answer.answered and "节能环保" in answer.answer, answer.answer
    answer = await kb.answer("we build BMS boards for EV packs, which award can we enter?")
    assert answer.answered and "energy saving" in answer.answer.lower(), answer.answer


async def test_protein_and_biologics_makers_are_placed_in_biomedicine(kb: KnowledgeBase):
    # the guideline's biomedicine holds biological products; a portfolio company is a "portco" in chat
    for question in ("we engineer therapeutic proteins, which industry is that under?",
                     "a portco of ours makes biologics, which track?"):
        answer = await kb.answer(question)
        assert answer.answered and "Biomedicine" in answer.answer, (question, answer.answer)


async def test_eligibility_in_english(kb: KnowledgeBase):
    answer = await kb.answer("We are a biotech startup making cancer drugs. Which award can we apply for?")
    assert answer.answered and answer.lang == "en"
    assert "Biomedicine" in answer.answer or "biomedicine" in answer.answer.lower()
    assert "Rising Potential of the Year" in answer.answer and "real name" in answer.answer


async def test_declined_question_reaches_the_unanswered_log(kb_runtime: Runtime):
    try:
        answer = await kb_runtime.ask_and_log("请问论坛的停车场在哪里？", channel="test")
        assert not answer.answered
        logged = await kb_runtime.unanswered(limit=5)
        assert logged[0].question == "请问论坛的停车场在哪里？" and logged[0].channel == "test"
    finally:
        await kb_runtime.close()  # the connections belong to this test's event loop


@pytest.mark.parametrize(
    "question", ["申报材料需要公证吗？", "我们寄过去的样品，评审会做拆机检测吗", "Do we need to notarise the application form?"]
)
async def test_a_yes_no_question_about_a_thing_the_guideline_never_names_is_declined(kb: KnowledgeBase, question: str):
    # The nearest FAQ entry or passage speaks of the form or the review, and would read as a yes or a no.
    answer = await kb.answer(question)
    assert not answer.answered, answer.answer


@pytest.mark.parametrize("question", ["is anything payable when we apply?", "is the fee waived entirely for startups?"])
async def test_an_adverb_or_a_word_made_from_a_known_one_is_not_an_unknown_thing(kb: KnowledgeBase, question: str):
    # "payable" is made from "pay", and "entirely" names nothing: the ask is about the fee the guideline rules on.
    answer = await kb.answer(question)
    assert answer.answered and "fee" in answer.answer, answer.answer


async def test_words_the_guideline_never_uses_that_describe_the_entrant_are_not_what_is_asked(kb: KnowledgeBase):
    answer = await kb.answer("我们是做无人机飞控的公司，能报吗？")
    assert answer.answered, answer.answer


async def test_an_english_paraphrase_sharing_no_word_with_the_faq_finds_its_entry(kb: KnowledgeBase):
    # No variant says "videos", "heavy" or "mail": the sentence model reads it as "What if my attachments are too
    # large?".
    answer = await kb.answer("our videos are too heavy to mail, what now")
    assert answer.answered and answer.via == "faq", answer.answer
    assert "link" in answer.answer.lower()
