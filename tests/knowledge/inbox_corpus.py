"""Messages entrants send that the shipped knowledge base cannot answer, as a campaign's inbox collects them.

Each topic is one question in several wordings (punctuation, spacing, case and small rephrasings), each wording
sent a given number of times; the statements ask nothing. Every question here is declined by the shipped guideline
and FAQ (test_inbox.py checks that too), so feeding them through the bot logs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

CHANNELS = ("telegram", "telegram", "telegram", "cli")


@dataclass(frozen=True)
class Topic:
    """One question: its wordings and how often each is sent."""

    name: str
    lang: str
    wordings: tuple[tuple[str, int], ...]

    @property
    def count(self) -> int:
        return sum(n for _, n in self.wordings)


TOPICS = (
    Topic("lunch_zh", "zh", (("论坛现场提供午餐吗", 30), ("论坛现场提供午餐吗？", 12), ("论坛当天提供午餐吗", 8),
                             ("请问论坛现场有午餐吗", 6), ("论坛现场 提供 午餐吗?", 4))),
    Topic("judges_zh", "zh", (("评委名单会公布吗", 20), ("评委名单会公布吗？", 9), ("请问评委名单会公布吗", 5),
                              ("评委名单会不会公布", 4))),
    Topic("prize_zh", "zh", (("获奖企业有奖金吗", 18), ("获奖企业有没有奖金", 7), ("获奖的企业有没有奖金？", 5))),
    Topic("parking_zh", "zh", (("会场有停车位吗", 10), ("会场有没有停车位", 4), ("会场有停车位吗？？", 2))),
    Topic("lunch_en", "en", (("Is lunch provided at the forum?", 16), ("is lunch provided at the forum", 6),
                             ("Will lunch be provided at the forum?", 5), ("IS LUNCH PROVIDED AT THE FORUM ?", 2))),
    Topic("stream_en", "en", (("Is the award ceremony streamed online?", 12),
                              ("Will the award ceremony be streamed online?", 6),
                              ("Is the award ceremony live streamed?", 3))),
    Topic("prize_en", "en", (("Is there prize money for winners?", 10),
                             ("Is there any prize money for the winners?", 5), ("Do winners get prize money?", 3))),
    Topic("poster_en", "en", (("Can we bring a poster to the ceremony?", 2),)),
    Topic("shuttle_zh", "zh", (("颁奖当天有从机场到会场的接驳车吗", 1),)),
)
STATEMENTS = (
    ("你好", 9), ("谢谢", 8), ("好的，收到", 5), ("ok", 7), ("Thanks!", 4), ("hello", 3), ("👍", 2),
    ("我公司成立于2015年，专注于工业机器视觉检测，拥有发明专利12项，服务汽车与电子制造客户超过300家。", 3),
    ("We are a robotics company founded in 2016 in Shenzhen. Our collaborative arms serve 300 factories.", 2),
)


def messages() -> Iterator[tuple[str, str]]:
    """(text, channel) of every message, topics and statements interleaved as they would arrive."""
    sent = [text for topic in TOPICS for text, n in topic.wordings for _ in range(n)]
    sent += [text for text, n in STATEMENTS for _ in range(n)]
    # A fixed shuffle: the same order every run, without the wordings of one topic arriving in a block.
    order = sorted(range(len(sent)), key=lambda i: (i * 7919) % len(sent))
    channels = itertools.cycle(CHANNELS)
    for i in order:
        yield sent[i], next(channels)


def topic_of(text: str) -> str:
    """The topic a question wording belongs to ('' for a statement)."""
    for topic in TOPICS:
        if any(text == wording for wording, _ in topic.wordings):
            return topic.name
    return ""
