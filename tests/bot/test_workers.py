"""Two `kcxf bot` webhook workers sharing one PostgreSQL database and one Chroma server, as deployed at scale.

Four applicants fill in a whole form, their updates posted alternately to the two workers; one update is posted
to both, one keyboard is pressed twice at once (once on each worker), one press is posted to both, and one toggle
of a multi-select (an enterprise's 创新评级) is pressed twice at once, its selection made across both. A fifth user
floods both workers past the rate limit. Then: every reply is right, each applicant has one record, the staff get
one notice per record, queued notices reach each user once, and the limit counted both workers' updates.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import webhook_options
from bot.users import User
from config.campaign import load_campaign
from config.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake.forms import load_forms
from intake.notify import Notification, notify_user
from intake.queue import Submission
from knowledge.service import ensure_builtin, open_index
from tests.knowledge.chroma_server import ChromaServer
from tests.processes import child_env, listening
from tests.scratch_pg import scratch_database
from tests.stubs import BotApiStub, Call

from .applicants import PROGRESS, Action, Applicant, assert_holds_exactly
from .test_crash import running_bot
from .test_telegram import SECRET_HEADER, _free_port

SECRET = "two-workers-secret"
PUBLIC = "https://kcxf.example.org/tg"
STAFF = 999
FLOODER = 4000
RATE = 100  # per user and minute: above what an applicant sends, below what the flooder sends
WAIT_S = 120.0


@pytest.fixture
async def stub() -> AsyncIterator[BotApiStub]:
    api = await BotApiStub(token="123:TEST").start()
    yield api
    await api.close()


class Workers:
    """The two webhook ports, posted to as Telegram would (with the secret token)."""

    def __init__(self, ports: list[int], path: str) -> None:
        self.ports, self.path = ports, path
        self.client = httpx.AsyncClient(timeout=30)
        self.posted: Counter[int] = Counter()

    async def post(self, worker: int, update: dict[str, Any]) -> None:
        port = self.ports[worker % len(self.ports)]
        answer = await self.client.post(f"http://127.0.0.1:{port}{self.path}", json=update,
                                        headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 200, answer.text
        self.posted[port] += 1


def to(stub: BotApiStub, chat: int, *, after: int = 0) -> list[Call]:
    return [c for c in stub.calls[after:] if c.method in {"sendMessage", "sendDocument"}
            and int(c.params.get("chat_id", 0)) == chat]


async def apply(stub: BotApiStub, workers: Workers, me: Applicant, *, twist: str) -> None:
    """Fill in the whole form through both workers in turn; `twist` is this applicant's repeated update."""
    turn, twisted = me.user_id, False
    mark = len(stub.calls)
    update = stub.text_update(me.user_id, "/apply")
    while True:
        version = (await me.where())[3]
        repeat = not twisted and (
            (twist == "same text to both" and "message" in update and version >= 8)
            or (twist.startswith("press") and "callback_query" in update and version >= 4)
            or (twist == "toggle twice at once" and ":toggle:" in update.get("callback_query", {}).get("data", ""))
        )
        if repeat and twist in {"press twice at once", "toggle twice at once"}:
            # Two presses of one keyboard (two updates), one on each worker at the same moment.
            query = update["callback_query"]
            again = stub.press_update(me.user_id, query["message"]["message_id"], query["data"])
            await asyncio.gather(workers.post(turn, update), workers.post(turn + 1, again))
        elif repeat:  # one update delivered to both workers at once
            await asyncio.gather(workers.post(turn, update), workers.post(turn + 1, update))
        else:
            await workers.post(turn, update)
        twisted, turn = twisted or repeat, turn + 1
        await _until(me.where, lambda got, before=version: got[3] > before, what=f"user {me.user_id} past {version} saves")
        action = await me.next_action()
        if action is None:
            break
        update = await _update_for(stub, me, action, after=mark)
        mark = len(stub.calls)
    assert twisted
    await stub.wait_for(lambda c: c.method == "sendDocument" and c.params.get("chat_id") == me.user_id,
                        within=WAIT_S)


async def _update_for(stub: BotApiStub, me: Applicant, action: Action, *, after: int) -> dict[str, Any]:
    if action.kind == "type":
        return stub.text_update(me.user_id, action.value)
    # The keyboard of the question just asked: it came with the answer to the previous update, or a toggle's
    # press edited it in place.
    offer = await stub.wait_for(
        lambda c: c.method in {"sendMessage", "editMessageReplyMarkup"} and c.params.get("chat_id") == me.user_id
        and c.offering(action.value) is not None, after=after, within=WAIT_S,
    )
    return stub.press_update(me.user_id, offer.message_id, offer.offering(action.value) or action.value)


async def _until(read: Any, test: Any, *, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while asyncio.get_running_loop().time() < deadline:
        got = await read()
        if test(got):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited {WAIT_S:.0f} s in vain: {what}")


async def test_two_webhook_workers_share_one_database(stub: BotApiStub, tmp_path: Path):
    data_dir = tmp_path / "var"
    chroma = await ChromaServer(tmp_path / "chroma").start()
    try:
        async with scratch_database("kcxf_workers") as db_url:
            await _with_database(stub, tmp_path, data_dir, db_url, chroma)
    finally:
        await chroma.close()


async def _with_database(stub: BotApiStub, tmp_path: Path, data_dir: Path, db_url: str, chroma: ChromaServer) -> None:
    settings = Settings(_env_file=None, data_dir=data_dir, database_url=db_url,  # type: ignore[call-arg]
                        chroma_url=chroma.url, telegram_webhook_url=PUBLIC, telegram_webhook_secret=SECRET,
                        telegram_token=stub.token)
    # What a deployment does once before starting workers: the schema (`kcxf db upgrade`) and the index.
    pool = make_engine(db_url)
    await upgrade(pool)
    await asyncio.to_thread(lambda: ensure_builtin(open_index(settings)))
    sessions = make_sessionmaker(pool)
    options = webhook_options(settings)
    assert options is not None
    ports = [_free_port(), _free_port()]
    base = child_env() | {
        "KCXF_DATA_DIR": str(data_dir), "KCXF_DATABASE_URL": db_url, "KCXF_CHROMA_URL": chroma.url,
        "KCXF_TELEGRAM_TOKEN": stub.token, "KCXF_TELEGRAM_BASE_URL": f"{stub.url}/bot",
        "KCXF_TELEGRAM_BASE_FILE_URL": f"{stub.url}/file/bot", "KCXF_NOW": "2024-10-01T10:00:00+08:00",
        "KCXF_TELEGRAM_WEBHOOK_URL": PUBLIC, "KCXF_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "KCXF_TELEGRAM_STAFF_IDS": f"[{STAFF}]", "KCXF_TELEGRAM_RATE_PER_MINUTE": str(RATE),
    }
    forms = load_forms(load_campaign(settings.campaign_file))
    workers = Workers(ports, f"/{options.url_path}")
    try:
        async with (
            running_bot(stub, base | {"KCXF_TELEGRAM_WEBHOOK_PORT": str(ports[0])}, tmp_path / "worker-1.log",
                        ready=False),
            running_bot(stub, base | {"KCXF_TELEGRAM_WEBHOOK_PORT": str(ports[1])}, tmp_path / "worker-2.log",
                        ready=False),
        ):
            await stub.wait_until(lambda: len(stub.sent("setWebhook")) == 2, within=WAIT_S)
            await asyncio.gather(*(listening(port, within=WAIT_S) for port in ports))  # they listen after that
            assert stub.webhook["url"] == options.webhook_url and stub.webhook["secret_token"] == SECRET
            applicants = [Applicant(user_id, forms[award], sessions)
                          for user_id, award in ((101, "pioneer_product"), (102, "pioneer_product"),
                                                 (103, "pioneer_product"), (104, "enterprise_npf"))]
            twists = ["same text to both", "press twice at once", "press to both", "toggle twice at once"]
            await asyncio.gather(*(apply(stub, workers, me, twist=twist)
                                   for me, twist in zip(applicants, twists, strict=True)))
            await _flood(stub, workers)
            await _notices(stub, sessions, applicants)
    finally:
        await workers.client.aclose()
        await pool.dispose()

    error = load_texts_error()
    for me in applicants:
        calls = to(stub, me.user_id)
        asked = [c.text for c in calls if PROGRESS.match(c.text)]
        assert len(asked) == len(set(asked)), [q for q in asked if asked.count(q) > 1]
        assert sum("KCXF-2024-" in c.text for c in calls) == 1
        assert sum(c.method == "sendDocument" for c in calls) == 1
        assert not any(error in c.text for c in calls)
    pool = make_engine(db_url)
    try:
        async with make_sessionmaker(pool)() as session:
            records = list((await session.scalars(select(Submission))).all())
            users = dict((await session.execute(select(User.id, User.external_id))).all())
    finally:
        await pool.dispose()
    assert sorted(users[r.user_id] for r in records) == ["101", "102", "103", "104"]  # one record per applicant
    for me in applicants:
        [record] = [r for r in records if users[r.user_id] == str(me.user_id)]
        assert_holds_exactly(me.form, record.answers, me.typed, pressed=me.pressed, today=record.created_at.date())
    assert applicants[3].pressed == {"innovation_rating": ["high_tech", "little_giant"]}
    # Two toggles, two edits: the toggle pressed twice at once was applied once (twice would have cleared it, and
    # the applicant pressed it a third time).
    toggled = [c for c in stub.calls if c.method == "editMessageReplyMarkup" and c.params.get("chat_id") == 104]
    assert len(toggled) == 2, [c.buttons for c in toggled]
    assert min(workers.posted.values()) > 50  # both workers took a good share


async def _flood(stub: BotApiStub, workers: Workers) -> None:
    """RATE + 10 /help, alternately to both workers: RATE answered, one notice, the rest dropped."""
    mark = len(stub.calls)
    for n in range(RATE + 10):
        await workers.post(n, stub.text_update(FLOODER, "/help"))
    await stub.wait_until(lambda: len(to(stub, FLOODER, after=mark)) >= RATE + 1, within=WAIT_S)
    actions = [c for c in stub.sent("sendChatAction", after=mark) if c.params["chat_id"] == FLOODER]
    replies = to(stub, FLOODER, after=mark)
    assert len(actions) == RATE  # what reached the engine, whichever worker took it
    assert sum(f"最多处理 {RATE} 条" in c.text for c in replies) == 1


async def _notices(stub: BotApiStub, sessions: Any, applicants: list[Applicant]) -> None:
    """Staff notices of the four records, and ten status notices queued by another process, each sent once."""
    async with sessions() as session, session.begin():
        ids = dict((await session.execute(select(User.external_id, User.id))).all())
        for n in range(10):
            me = applicants[n % len(applicants)]
            await notify_user(session, user_id=ids[str(me.user_id)], text=f"状态更新 #{n}")

    async def unsent() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Notification)
                                            .where(Notification.sent_at.is_(None))) or 0)

    await _until(unsent, lambda left: left == 0, what="every notice marked sent")
    staff = to(stub, STAFF)
    assert len(staff) == len(applicants) and all("KCXF-2024-" in c.text for c in staff)
    texts = Counter(c.text for me in applicants for c in to(stub, me.user_id) if c.text.startswith("状态更新 #"))
    assert texts == Counter({f"状态更新 #{n}": 1 for n in range(10)})


def load_texts_error() -> str:
    from bot.texts import Texts

    return Texts.load().t("engine.error", "zh")
