"""The maintainers' daily digest: due at the configured local time, sent once however many workers look, with the
top new groups and a link to the inbox, to the committee mailbox (a real SMTP server on loopback) and to the staff
chat (the running bot, talking to the Bot API stub)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest import InboxDigest, send_digest_if_due
from bot.texts import Texts
from config.campaign import Campaign
from config.settings import Settings
from intake.notify import MAIL_CHANNEL, Notification, deliver_mail
from knowledge.answer import KnowledgeBase
from knowledge.embeddings import HashedNgramEmbedding
from knowledge.unanswered import STATEMENT, log_unanswered
from tests.bot.test_telegram import _serving
from tests.bot.test_telegram import _settings as telegram_settings
from tests.intake.test_mail import serve
from tests.stubs import BotApiStub

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF_CHAT = -100555
MORNING = datetime(2024, 10, 15, 9, 0, tzinfo=SHANGHAI)


def digest_settings(settings: Settings, **extra: object) -> Settings:
    return settings.model_copy(update={
        "inbox_digest_at": time(9, 0), "telegram_staff_chat_id": STAFF_CHAT,
        "console_public_url": "https://kcxf.example.org/", **extra})


async def _log(sessions: async_sessionmaker[AsyncSession], text: str, at: datetime, *, times: int = 1,
               lang: str = "zh", kind: str = "declined") -> None:
    async with sessions() as session, session.begin():
        for _ in range(times):
            row = await log_unanswered(session, edition=2024, question=text, lang=lang, channel="telegram", kind=kind)
            row.created_at = at


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


def hashed() -> HashedNgramEmbedding:
    return HashedNgramEmbedding()


async def test_the_digest_is_sent_once_at_its_time_with_the_new_groups_and_mailed(
    pools: list[async_sessionmaker[AsyncSession]], settings: Settings, texts: Texts, campaign: Campaign,
):
    first, second = pools
    await _log(first, "评委名单会公布吗", MORNING - timedelta(days=3), times=4)  # asked before: not new
    await _log(first, "评委名单会公布吗？", MORNING - timedelta(hours=5))
    await _log(first, "论坛现场提供午餐吗", MORNING - timedelta(hours=10), times=5)
    await _log(first, "Is lunch provided at the forum?", MORNING - timedelta(hours=1), lang="en", times=2)
    await _log(first, "谢谢", MORNING - timedelta(hours=2), kind=STATEMENT, times=3)  # never in a digest
    for collector, port in serve():
        configured = digest_settings(settings, smtp_host="127.0.0.1", smtp_port=port)
        kwargs = {"settings": configured, "texts": texts, "campaign": campaign, "embedding": hashed}
        assert await send_digest_if_due(first, now=MORNING - timedelta(minutes=1), **kwargs) is None

        # Two workers look at the same moment: one sends, the other finds the day taken.
        done = await asyncio.gather(*(send_digest_if_due(pool, now=MORNING + timedelta(minutes=1), **kwargs)
                                      for pool in (first, second)))
        [digest] = [d for d in done if d is not None]
        assert digest.day == "2024-10-15" and digest.groups == 3 and digest.messages == 8
        assert digest.targets == [("telegram", str(STAFF_CHAT)), (MAIL_CHANNEL, "kcxf@thepaper.cn")]
        lines = digest.text.splitlines()
        assert "未回答的问题日报 2024-10-15" in lines[0]
        assert lines[4].startswith("1. 论坛现场提供午餐吗（新增 5 条，共 5 条；中文）")
        assert lines[5].startswith("2. Is lunch provided at the forum?（新增 2 条")
        assert lines[6] == "3. 评委名单会公布吗（新增 1 条，共 5 条；中文）"
        assert lines[-1] == "在后台回答：https://kcxf.example.org/knowledge/unanswered"
        assert "谢谢" not in digest.text
        assert await send_digest_if_due(second, now=MORNING + timedelta(hours=5), **kwargs) is None

        # The mail goes out through the outbox, once.
        assert await deliver_mail(second, settings=configured) == 1
        assert await deliver_mail(first, settings=configured) == 0
        [mail] = collector.messages
        assert mail.rcpt_tos == ["kcxf@thepaper.cn"]
        assert mail.message["Subject"] == lines[0]
        body = mail.message.get_content()
        assert "1. 论坛现场提供午餐吗" in body and "https://kcxf.example.org/knowledge/unanswered" in body
        assert not body.startswith(lines[0])

        # The next morning lists only what came since; a morning with nothing new records the day, sends nothing.
        next_day = MORNING + timedelta(days=1, minutes=5)
        await _log(first, "会场有停车位吗", next_day - timedelta(hours=3), times=2)
        later = await send_digest_if_due(first, now=next_day, **kwargs)
        assert later is not None and later.groups == 1 and "1. 会场有停车位吗（新增 2 条" in later.text
        quiet = await send_digest_if_due(first, now=next_day + timedelta(days=1), **kwargs)
        assert quiet is not None and quiet.groups == 0 and quiet.targets == []
    async with first() as session:
        assert await session.scalar(select(func.count()).select_from(InboxDigest)) == 3
        sent = (await session.scalars(select(Notification.channel).order_by(Notification.id))).all()
        assert sent == ["telegram", MAIL_CHANNEL, "telegram", MAIL_CHANNEL]


async def test_no_digest_without_a_time_or_anywhere_to_send_it(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, texts: Texts, campaign: Campaign,
):
    await _log(sessionmaker, "评委名单会公布吗", MORNING - timedelta(hours=1))
    kwargs = {"texts": texts, "campaign": campaign, "embedding": hashed, "now": MORNING + timedelta(hours=1)}
    assert await send_digest_if_due(sessionmaker, settings=settings, **kwargs) is None  # no time set
    nowhere = digest_settings(settings, telegram_staff_chat_id=None)  # and no SMTP
    assert await send_digest_if_due(sessionmaker, settings=nowhere, **kwargs) is None
    chat_only = digest_settings(settings, inbox_digest_to=["mail"], smtp_host=None)
    assert await send_digest_if_due(sessionmaker, settings=chat_only, **kwargs) is None
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(InboxDigest)) == 0


async def test_the_running_bot_posts_the_digest_to_the_staff_chat(
    stub: BotApiStub, kb: KnowledgeBase, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path,
    database_url: str | None,
):
    """As `kcxf bot` runs: its housekeeping queues the digest, its outbox delivery sends it over the Bot API."""
    await _log(sessionmaker, "论坛现场提供午餐吗", datetime.now(SHANGHAI) - timedelta(hours=2), times=3)
    # Due from midnight: whenever the test runs, today's digest is due.
    settings = digest_settings(telegram_settings(stub, tmp_path, database_url), inbox_digest_at=time(0, 0))
    async with _serving(settings, kb, outbox_interval_s=0.05) as (runtime, _):
        call = await stub.wait_for(lambda c: c.method == "sendMessage" and "未回答的问题日报" in c.text)
        assert call.params["chat_id"] == STAFF_CHAT
        assert "1. 论坛现场提供午餐吗（新增 3 条，共 3 条；中文）" in call.text
        assert "https://kcxf.example.org/knowledge/unanswered" in call.text
        sessions = await runtime.sessionmaker()
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(InboxDigest)) == 1
    assert [c for c in stub.calls if "未回答的问题日报" in c.text] == [call]
