"""The maintainers' inbox on a real index and database: a few hundred messages fed through the bot are grouped by
question (identical after normalisation, and near-duplicates by the index's own embedding), counted, ranked and
kept apart from statements; answering a group resolves every message in it, and the bot answers them from then on.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest

from bot.engine import Engine
from bot.events import TextIn
from bot.replies import TextOut
from bot.runtime import Runtime
from bot.users import UserRef
from db.base import utcnow
from knowledge.admin import FaqDraft, KnowledgeEditError
from knowledge.grouping import QuestionGroup, Similarity, calibrate, group_messages, normalise, rank
from knowledge.unanswered import DISLIKED, LoggedQuestion, count_open, log_unanswered
from tests.knowledge.inbox_corpus import STATEMENTS, TOPICS, messages, topic_of


async def say(engine: Engine, text: str, *, channel: str = "telegram", user: str = "entrant") -> str:
    [reply] = await engine.handle(UserRef(channel=channel, external_id=user), TextIn(text))
    assert isinstance(reply, TextOut)
    return reply.text


def by_topic(groups: list[QuestionGroup]) -> dict[str, QuestionGroup]:
    """Each group under the one topic all its messages belong to (a group mixing topics fails here)."""
    out = {}
    for group in groups:
        topics = {topic_of(m.question) for m in group.members}
        assert len(topics) == 1, f"one group mixes {topics}: {[m.question for m in group.members]}"
        [topic] = topics
        assert topic not in out, f"{topic} split in two groups: {out[topic].question!r} and {group.question!r}"
        out[topic] = group
    return out


async def test_hundreds_of_messages_become_one_group_per_question_and_statements_stay_apart(live_runtime: Runtime):
    engine = await live_runtime.engine()
    replies: dict[str, str] = {}
    for n, (text, channel) in enumerate(messages()):
        replies[text] = await say(engine, text, channel=channel, user=f"u{n % 37}")
    inbox = live_runtime.knowledge_inbox

    groups = by_topic(await inbox.groups())
    assert set(groups) == {t.name for t in TOPICS}
    for topic in TOPICS:
        group = groups[topic.name]
        assert group.count == topic.count, topic.name
        assert group.langs == [topic.lang]
        assert group.question == topic.wordings[0][0]  # the most asked wording stands for the group
        assert set(group.channels) <= {"telegram", "cli"}
        assert group.first_seen <= group.last_seen
    # Ranked by count (all arrived within seconds, so recency hardly weighs): the most asked first.
    ranked = [g.question for g in await inbox.groups()]
    assert ranked[:3] == ["论坛现场提供午餐吗", "评委名单会公布吗", "获奖企业有奖金吗"]

    # Statements got a note on what the bot does, and sit in their own bin, not in the inbox.
    for text, _ in STATEMENTS:
        assert "/apply" in replies[text], text
        assert "kcxf@thepaper.cn" not in replies[text]
    assert "kcxf@thepaper.cn" in replies["论坛现场提供午餐吗"]
    statements = await inbox.groups(statements=True)
    assert sum(g.count for g in statements) == sum(n for _, n in STATEMENTS)
    assert {g.question for g in statements} == {text for text, _ in STATEMENTS}
    assert Counter({g.question: g.count for g in statements}) == Counter(dict(STATEMENTS))

    # Answering a group with a new entry resolves all 60 of its messages; its wordings became the variants.
    lunch = groups["lunch_zh"]
    draft = inbox.draft(lunch)
    assert draft.questions["zh"][:2] == ["论坛现场提供午餐吗", "论坛当天提供午餐吗"]
    assert len(draft.questions["zh"]) == 3  # five wordings, three after normalisation
    done = await inbox.answer_new(FaqDraft(section="八", questions=draft.questions,
                                           answer={"zh": "论坛当天为入围者提供工作午餐。"}),
                                  anchor=lunch.anchor, seen=lunch.ids, by="tester")
    assert sorted(done.ids) == lunch.ids and len(done.ids) == 60
    after = by_topic(await inbox.groups())
    assert "lunch_zh" not in after and after["lunch_en"].count == 29
    for wording, _ in TOPICS[0].wordings:
        assert "工作午餐" in await say(engine, wording), wording

    # Answering with an existing entry adds the group's wordings to it in the languages it answers.
    prize = await inbox.answer_new(
        FaqDraft(section="三", questions={"zh": ["获奖企业有奖金吗"], "en": ["Are there cash prizes?"]},
                 answer={"zh": "本次征集不设奖金。", "en": "There is no prize money."}),
        anchor=groups["prize_zh"].anchor, seen=groups["prize_zh"].ids, by="tester")
    assert prize.faq is not None and len(prize.ids) == 30
    suggested = await inbox.suggestions(after["prize_en"])
    # Among the first two: the sentence model reads "prize money for winners" as near "What benefits do winners
    # get?" (the rewards entry) as "Are there cash prizes?"; the maintainer picks from the list.
    assert prize.faq.id in [c.faq_id for c in suggested[:2]]
    done = await inbox.answer_with(prize.faq.id, anchor=after["prize_en"].anchor, seen=after["prize_en"].ids,
                                   by="tester")
    assert len(done.ids) == 18 and set(done.added or []) == {w for w, _ in TOPICS[6].wordings}
    assert "no prize money" in await say(engine, "Do winners get prize money?", user="new")

    # Ignoring a group takes all of it off the inbox; --all shows it as ignored, the answered ones by their entry.
    judges = after["judges_zh"]
    assert len((await inbox.ignore(anchor=judges.anchor, seen=judges.ids, by="tester")).ids) == 38
    remaining = by_topic(await inbox.groups())
    assert set(remaining) == {"parking_zh", "lunch_en", "stream_en", "poster_en", "shuttle_zh"}
    everything = await inbox.groups(include_resolved=True)
    done_groups = {g.question: g for g in everything if not g.open}
    assert done_groups["论坛现场提供午餐吗"].faq_ids == [lunch_id := done_groups["论坛现场提供午餐吗"].faq_ids[0]]
    assert lunch_id and done_groups["评委名单会公布吗"].faq_ids == []
    maker = await live_runtime.sessionmaker()
    async with maker() as session:
        assert await count_open(session) == sum(g.count for g in remaining.values())

    # A group resolved meanwhile (another maintainer) resolves nothing twice.
    again = await inbox.ignore(anchor=judges.anchor, seen=judges.ids, by="someone else")
    assert again.ids == []
    with pytest.raises(KnowledgeEditError):
        await inbox.ignore(anchor=999_999, seen=[], by="tester")


async def test_the_statement_reply_is_in_the_senders_language(
    live_runtime: Runtime,
):
    engine = await live_runtime.engine()
    profile = "We are a robotics company founded in 2016 in Shenzhen. Our collaborative arms serve 300 factories."
    assert "/apply" in (reply := await say(engine, profile)) and "I can" in reply
    assert "申报" in await say(engine, "谢谢")
    inbox = live_runtime.knowledge_inbox
    assert {g.question for g in await inbox.groups(statements=True)} == {profile, "谢谢"}
    assert await inbox.groups() == []


async def test_a_bare_number_typed_outside_any_choice_gets_help_in_the_conversations_language(
    live_runtime: Runtime,
):
    engine = await live_runtime.engine()
    # It once matched the guideline's "1、启动（即日起）" and answered "1. (See the Guideline, VII. Timeline)".
    reply = await say(engine, "1")
    assert "/apply" in reply and "申报" in reply and "Guideline" not in reply
    # The engine answers it with the help before any lookup: nothing for the maintainers to read.
    assert await live_runtime.knowledge_inbox.groups(statements=True) == []


def _message(n: int, text: str, *, hours_ago: float, lang: str = "zh", kind: str = "declined") -> LoggedQuestion:
    return LoggedQuestion(id=n, question=text, lang=lang, channel="telegram",
                          created_at=utcnow() - timedelta(hours=hours_ago), faq_id=None, resolved_at=None, kind=kind)


def test_ranking_weighs_count_by_recency_and_shows_what_is_new(live_runtime: Runtime):
    similarity = live_runtime.knowledge_inbox.similarity
    old = [_message(i, "评委名单会公布吗", hours_ago=24 * 14) for i in range(1, 9)]  # 8 asks two weeks ago: 2
    fresh = [_message(20 + i, "论坛现场提供午餐吗", hours_ago=2) for i in range(3)]  # 3 asks today: nearly 3
    disliked = [_message(40, "报名需要交费吗", hours_ago=1, kind=DISLIKED)]
    groups = rank(group_messages([*old, *fresh, *disliked], similarity), now=utcnow())
    assert [g.question for g in groups] == ["论坛现场提供午餐吗", "评委名单会公布吗", "报名需要交费吗"]
    assert groups[2].disliked == 1 and groups[0].disliked == 0
    looked = utcnow() - timedelta(hours=3)
    assert [g.new_since(looked) for g in groups] == [3, 0, 1]
    assert groups[0].new_since(None) == 3
    assert groups[1].anchor == 1 and groups[1].count == 8


def test_normalisation_ignores_width_case_punctuation_and_spaces():
    assert normalise("论坛现场 提供午餐吗？") == normalise("论坛现场提供午餐吗?") == "论坛现场提供午餐吗"
    assert normalise("ＩＳ Lunch provided?!") == normalise("is lunch provided") == "islunchprovided"
    assert normalise("👍") != normalise("🙏")


def test_the_threshold_is_calibrated_for_the_embedding_in_use():
    # Cut where a different-question pair above the line would cost twice a same-question pair below it.
    assert calibrate([0.8, 0.9], [0.1, 0.2]) == pytest.approx(0.5)
    assert 0.4 < calibrate([0.45, 0.8, 0.9], [0.1, 0.5]) <= 0.65

    # A model whose vectors of one topic all sit close together (as sentence models' do) gets a higher cut than
    # one that spreads them out: the same texts, embedded two ways.
    def tight(texts: list[str]) -> np.ndarray:
        spread = Similarity(lambda ts: [_hashed(t) for t in ts]).vectors(texts)
        return spread + 2.0 * np.ones_like(spread) / np.sqrt(spread.shape[1])

    loose = Similarity(lambda ts: [_hashed(t) for t in ts]).threshold
    assert 0.4 < loose < 0.8
    assert Similarity(tight).threshold > loose + 0.1
    assert Similarity(tight, threshold=0.3).threshold == 0.3


def _hashed(text: str) -> np.ndarray:
    from knowledge.embeddings import HashedNgramEmbedding

    return HashedNgramEmbedding().vector(text)


async def test_a_disliked_answer_is_logged_beside_declines_and_marked(live_runtime: Runtime):
    maker = await live_runtime.sessionmaker()
    async with maker() as session, session.begin():
        await log_unanswered(session, edition=2024, question="报名需要交费吗", lang="zh", channel="telegram", kind=DISLIKED)
        await log_unanswered(session, edition=2024, question="报名需要交费吗？", lang="zh", channel="telegram")
        with pytest.raises(ValueError, match="unknown kind"):
            await log_unanswered(session, edition=2024, question="x", lang="zh", channel="telegram", kind="liked")
    [group] = await live_runtime.knowledge_inbox.groups()
    assert group.count == 2 and group.disliked == 1
