"""The outbox: replies a channel did not take, kept in the database and delivered later as they were."""

from __future__ import annotations

from bot.outbox import deliver, queue_replies
from bot.replies import Choice, EditOut, Reply, TextOut


async def test_a_queued_toggle_keeps_its_mark_and_an_edit_comes_as_a_new_message(sessionmaker):
    question = EditOut("企业获得过哪些资质认定（可多选）？", (
        Choice("高新技术企业", "~abcdef|intake:toggle:high_tech", chosen=True),
        Choice("专精特新", "~abcdef|intake:toggle:specialised", chosen=False),
        Choice("完成", "~abcdef|intake:done"),
    ))
    await queue_replies(sessionmaker, channel="test", external_id="42", replies=[question])
    sent: list[tuple[str, Reply]] = []

    async def send(external_id: str, reply: Reply) -> None:
        sent.append((external_id, reply))

    assert await deliver(sessionmaker, channel="test", send=send) == 1
    # The message it was to replace is long gone by now: a new one, its buttons as they were.
    [(to, reply)] = sent
    assert to == "42" and type(reply) is TextOut
    assert reply == TextOut(question.text, question.choices)
    assert [c.marked for c in reply.choices] == ["✓ 高新技术企业", "专精特新", "完成"]
