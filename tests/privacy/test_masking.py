"""Masking: the queue commands hide identifiers unless asked, and the log filter masks what a library logs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.users import User
from config import Campaign, Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake import queue
from intake.forms import load_forms
from intake.sensitive import RedactingFilter, mask, mask_answers, redact, redact_logs
from knowledge.answer import KnowledgeBase
from tests.bot.test_telegram import Person, _serving, stub, tg_settings  # noqa: F401 - fixtures
from tests.intake.factories import ID_NUMBER, answers_for
from tests.shipped import shipped_edition
from tests.stubs import BotApiStub

SUBMITTED_AT = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PERSON = {"nomination": "专家推荐"}  # brings in the nominating expert's phone as well
TRAVELLER = {"id_type": "护照"}


def kcxf(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KCXF_DATA_DIR": str(data_dir), "COLUMNS": "250", "KCXF_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "bot", "queue", *args], capture_output=True, text=True, env=env,
                          timeout=120)


async def fill(settings: Settings, campaign: Campaign) -> list[dict]:
    engine = make_engine(settings.db_url)
    await upgrade(engine)
    form = load_forms(campaign, directory=shipped_edition().forms_dir)["pioneer_person"]
    entries = [answers_for(form, typed=PERSON), answers_for(form, typed=TRAVELLER)]
    try:
        async with make_sessionmaker(engine)() as session:
            user = User(channel="test", external_id="1")
            session.add(user)
            await session.flush()
            for n, answers in enumerate(entries):
                await queue.submit(session, draft_key=f"d{n}", user_id=user.id, form=form, answers=answers,
                                   campaign=campaign, now=SUBMITTED_AT)
            await session.commit()
    finally:
        await engine.dispose()
    return entries


@pytest.fixture(scope="module")
def queued(tmp_path_factory: pytest.TempPathFactory, campaign: Campaign) -> tuple[Path, list[dict]]:
    data = tmp_path_factory.mktemp("masked") / "var"
    return data, asyncio.run(fill(Settings(_env_file=None, data_dir=data), campaign))  # type: ignore[call-arg]


def test_show_masks_identifiers_unless_unmasked(queued: tuple[Path, list[dict]]):
    data, _ = queued
    shown = kcxf(data, "show", "KCXF-2024-00001")
    assert shown.returncode == 0, shown.stderr
    assert mask(ID_NUMBER) in shown.stdout and "**********5678" in shown.stdout
    for full in (ID_NUMBER, "13812345678", "13912345678"):
        assert full not in shown.stdout
    assert "张伟" in shown.stdout and "王丽" in shown.stdout  # names are not identifiers of these types
    assert "E12345678" not in kcxf(data, "show", "KCXF-2024-00002").stdout
    unmasked = kcxf(data, "show", "KCXF-2024-00001", "--unmasked")
    assert unmasked.returncode == 0 and ID_NUMBER in unmasked.stdout and "13912345678" in unmasked.stdout
    assert "authorised" in kcxf(data, "show", "--help").stdout


def test_export_masks_identifiers_unless_unmasked(queued: tuple[Path, list[dict]]):
    data, entries = queued
    done = kcxf(data, "export", "--format", "json")
    assert done.returncode == 0, done.stderr
    person, traveller = (o["answers"] for o in json.loads(done.stdout))
    fields = frozenset({"id_number", "passport_number", "contact_mobile", "recommender_contact"})
    assert person == mask_answers(entries[0], fields) and traveller == mask_answers(entries[1], fields)
    assert person["id_number"] == mask(ID_NUMBER) and traveller["passport_number"] == mask("E12345678")
    assert person["contact_name"] == entries[0]["contact_name"]
    csv = kcxf(data, "export", "--format", "csv")
    assert csv.returncode == 0 and ID_NUMBER not in csv.stdout and "13812345678" not in csv.stdout
    assert mask("+8613812345678") in csv.stdout
    full = kcxf(data, "export", "--format", "json", "--unmasked")
    assert [o["answers"] for o in json.loads(full.stdout)] == entries
    assert "authorised staff only" in full.stderr


def test_list_shows_no_identifier(queued: tuple[Path, list[dict]]):
    listed = kcxf(queued[0], "list")
    assert listed.returncode == 0 and "KCXF-2024-00002" in listed.stdout
    assert not any(v in listed.stdout for v in (ID_NUMBER, "13812345678", "E12345678", "*"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"身份证{ID_NUMBER}。", f"身份证{mask(ID_NUMBER)}。"),
        ("id 110105 19491231 002x ok", "id 110*************002x ok"),
        ("手机 13812345678，谢谢", "手机 *******5678，谢谢"),
        ("call +86 138 1234 5678", "call +86**********5678"),
        ("tel:+8613812345678", "tel:**********5678"),
        ("UK +44 7700 900123.", "UK +44********0123."),
        ("passport E12345678 please", "passport ******678 please"),
    ],
)
def test_redact_masks_identifiers_in_free_text(text: str, shown: str):
    assert redact(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "KCXF-2024-00017 moved to first_review", "2024-10-01 10:00:00,123", "统一社会信用代码 91350100M000100Y43",
        "研发投入 20000000 元", "update 987654321 from user 4242 in chat -1001234567890",
        "sha 3f1e9a2b7c4d5e6f8a9b0c1d2e3f4a5b", "token gAAAAABm1234567890abcdef",
    ],
)
def test_redact_leaves_other_numbers_alone(text: str):
    assert redact(text) == text


_AROUND = st.text(alphabet="申报人手机号码是，。：:（）() \n请联系", max_size=12)
_WRITTEN = (
    lambda n: n, lambda n: f"+86{n}", lambda n: f"+86 {n}", lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}", lambda n: f"+86 {n[:3]} {n[3:7]} {n[7:]}",
)


@given(before=_AROUND, number=st.from_regex(r"1[3-9]\d{9}", fullmatch=True), after=_AROUND,
       written=st.sampled_from(_WRITTEN))
def test_no_mobile_survives_redaction_however_it_is_written(
    before: str, number: str, after: str, written: Callable[[str], str],
):
    redacted = redact(before + written(number) + after)
    assert number not in re.sub(r"\D", "", redacted)  # the middle digits are gone, whatever surrounds them


def test_the_filter_masks_message_arguments_and_tracebacks():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.privacy.filter")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("answer %s for %r", ID_NUMBER, {"mobile": "+8613812345678"})
        try:
            raise ValueError(f"bad value {ID_NUMBER}")
        except ValueError:
            logger.exception("failed on %s", "13812345678")
        logger.warning("%d%% fine, nothing to mask", 100)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert ID_NUMBER not in text and "13812345678" not in text
    assert mask(ID_NUMBER) in text and "**********5678" in text and "ValueError: bad value" in text
    assert "100% fine" in text


def test_redact_logs_installs_one_filter_per_root_handler():
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        redact_logs()
        redact_logs()
        assert sum(isinstance(f, RedactingFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)


@pytest.fixture
def redacted(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog at DEBUG behind the filter the entry points install, as `kcxf -v` runs with it."""
    caplog.set_level(logging.DEBUG)
    guard = RedactingFilter()
    caplog.handler.addFilter(guard)
    yield caplog
    caplog.handler.removeFilter(guard)


async def test_the_filter_masks_rows_sqlalchemy_logs_at_debug(
    redacted: pytest.LogCaptureFixture, sessionmaker: async_sessionmaker[AsyncSession], campaign: Campaign,
):
    redacted.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    form = load_forms(campaign, directory=shipped_edition().forms_dir)["pioneer_person"]
    async with sessionmaker() as session, session.begin():
        user = User(channel="test", external_id="rows")
        session.add(user)
        await session.flush()
        await queue.submit(session, draft_key="rows", user_id=user.id, form=form,
                           answers=answers_for(form, typed=PERSON), campaign=campaign, now=SUBMITTED_AT)
    async with sessionmaker() as session:
        record = await session.scalar(select(queue.Submission))
        assert record is not None and record.answers["id_number"] == ID_NUMBER
    rows = [r.getMessage() for r in redacted.records if r.getMessage().startswith("Row ")]
    # SQLAlchemy did log the opened answers (the first 300 characters: the expert's phone comes early) …
    assert any("'recommender_contact': '**********5678'" in row for row in rows)
    # … and the filter masked them.
    assert not [r for r in redacted.records if ID_NUMBER in r.getMessage() or "13912345678" in r.getMessage()]


async def test_python_telegram_bot_debug_lines_are_masked(
    redacted: pytest.LogCaptureFixture, stub: BotApiStub, tg_settings: Settings, kb: KnowledgeBase,  # noqa: F811
):
    async with _serving(tg_settings, kb):
        await Person(stub).say("我的手机号 13812345678 可以用来报名吗？", expect="")
    updates = [r.getMessage() for r in redacted.records if r.getMessage().startswith("Processing update")]
    assert any("*******5678" in line for line in updates)  # the whole update was logged, masked
    assert not [r for r in redacted.records if "13812345678" in r.getMessage()]
