"""Sealing answers at rest: the envelope, the column type on a real database, key rotation and rekeying."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import Engine
from bot.users import User
from config import Campaign, Settings
from intake import queue, sealing
from intake.data_keys import DataKeyError, DataKeys, new_key
from intake.drafts import Draft
from intake.forms import Form, load_forms
from intake.rekey import reseal_all
from intake.sensitive import sensitive_field_ids
from tests.intake.factories import ID_NUMBER, add_draft, answers_for
from tests.intake.test_flow import Entrant, engine  # noqa: F401 - the fixture
from tests.shipped import shipped_edition

FIELDS = frozenset({"id_number", "contact_mobile", "recommender_contact"})
SUBMITTED_AT = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def keys() -> DataKeys:
    return DataKeys([new_key()])


@pytest.fixture
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def raw_answers(settings: Settings, table: str) -> list[dict[str, Any]]:
    """The answers column as the database file holds it, read with the sqlite3 module (no ORM, no sealer)."""
    with sqlite3.connect(settings.data_dir / "kcxf.db") as db:
        return [json.loads(text) for (text,) in db.execute(f"SELECT answers FROM {table} ORDER BY id")]  # noqa: S608


def test_sealing_replaces_sensitive_values_at_any_depth_and_opening_restores_them(keys: DataKeys):
    sealer = sealing.Sealer(keys, FIELDS)
    answers = {
        "id_number": ID_NUMBER, "contact_mobile": "+8613812345678", "contact_name": "王丽",
        "projects": [{"project_name": "A", "recommender_contact": "+8613912345678"}],
        "project_period": {"start": "2021-03", "end": None}, "recommender_contact": None,
    }
    sealed = sealer.seal(answers)
    text = json.dumps(sealed, ensure_ascii=False)
    assert ID_NUMBER not in text and "13812345678" not in text and "13912345678" not in text
    assert set(sealed["id_number"]) == {sealing.ENVELOPE} and sealed["contact_name"] == "王丽"
    assert sealed["projects"][0]["project_name"] == "A" and set(sealed["projects"][0]["recommender_contact"]) == {
        sealing.ENVELOPE}
    assert sealed["project_period"] == {"start": "2021-03", "end": None} and sealed["recommender_contact"] is None
    assert sealer.open(sealed) == answers
    assert sealer.seal(sealed) == sealed  # already sealed values are left as they are
    assert sealer.seal(answers)["id_number"] != sealed["id_number"]  # Fernet tokens are randomised


def test_sealing_keeps_the_rows_own_envelopes_of_unchanged_values_and_seals_changed_ones_afresh():
    key = new_key()
    sealer = sealing.Sealer(DataKeys([key]), FIELDS)
    answers = {"id_number": ID_NUMBER, "contact_mobile": "+8613812345678",
               "projects": [{"recommender_contact": "+8613912345678"}, {"recommender_contact": "+8613912345679"}]}
    stored = sealer.seal(answers)
    changed = {**answers, "contact_mobile": "+8613800000000",
               "projects": [answers["projects"][0], {"recommender_contact": "+8613900000000"}]}
    again = sealer.seal(changed, stored)
    assert again["id_number"] == stored["id_number"]
    assert again["projects"][0] == stored["projects"][0]
    assert again["contact_mobile"] != stored["contact_mobile"]
    assert again["projects"][1] != stored["projects"][1]
    assert sealer.open(again) == changed
    # Another row's envelope of the same value is never taken: without its own previous row a value is sealed
    # afresh, so equal numbers in two drafts do not show as equal ciphertexts.
    assert sealer.seal(answers)["id_number"] != stored["id_number"]
    # During a key rotation every write seals under the first key, unchanged values included.
    rotating = sealing.Sealer(DataKeys([new_key(), key]), FIELDS)  # KCXF_DATA_KEY=NEW,OLD
    assert rotating.seal(answers, stored)["id_number"] != stored["id_number"]


async def test_the_chat_leaves_an_unchanged_answers_envelope_as_the_row_holds_it(
    engine: Engine, forms: dict[str, Form], settings: Settings,  # noqa: F811 - engine: the fixture imported above
):
    form = forms["pioneer_person"]
    entrant = Entrant(engine, form)
    await entrant.to_form()
    envelopes = []

    async def note_envelope() -> None:
        [stored] = raw_answers(settings, "drafts")
        if stored.get("id_number") is not None:
            envelopes.append(stored["id_number"])

    await entrant.fill(after_each=note_envelope)
    assert (await entrant.state())[1] == "summary" and len(envelopes) > 10
    assert all(envelope == envelopes[0] for envelope in envelopes)  # sealed once, when it was answered
    assert (await entrant.draft()).answers["id_number"] == ID_NUMBER


def test_every_sensitive_type_of_the_shipped_forms_is_sealed(forms: dict[str, Form]):
    fields = sensitive_field_ids(forms.values())
    assert fields == {"id_number", "passport_number", "contact_mobile", "recommender_contact"}


async def test_the_column_stores_sealed_values_and_the_model_reads_plain_ones(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, campaign: Campaign, forms: dict[str, Form],
):
    form = forms["pioneer_person"]
    answers = answers_for(form)
    async with sessionmaker() as session, session.begin():
        user = User(channel="test", external_id="seal")
        session.add(user)
        await session.flush()
        draft = await add_draft(session, user_id=user.id, award_id=form.award_id)
        draft.set_answers(answers)
        # Through the queue's Core INSERT … ON CONFLICT as well as through the ORM.
        await queue.submit(session, draft_key=draft.key, user_id=user.id, form=form, answers=answers,
                           campaign=campaign, now=SUBMITTED_AT)
    for table in ("drafts", "submissions"):
        [stored] = raw_answers(settings, table)
        assert ID_NUMBER not in json.dumps(stored) and "13812345678" not in json.dumps(stored)
        assert set(stored["id_number"]) == {sealing.ENVELOPE}
        assert stored["person_name"] == answers["person_name"]  # the rest stays readable
    async with sessionmaker() as session:
        assert (await session.scalar(select(Draft))).answers == answers  # type: ignore[union-attr]
        record = await session.scalar(select(queue.Submission))
        assert record is not None and record.answers == answers and record.answers["id_number"] == ID_NUMBER


async def test_nothing_is_written_or_read_without_an_installed_sealer(
    sessionmaker: async_sessionmaker[AsyncSession],
):
    previous = sealing.install(None)
    try:
        async with sessionmaker() as session:
            user = User(channel="test", external_id="none")
            session.add(user)
            await session.flush()
            session.add(Draft(edition=2024, user_id=user.id, award_id="pioneer_person", answers={"id_number": ID_NUMBER},
                              progress={}))
            with pytest.raises(StatementError) as failed:
                await session.flush()
            assert isinstance(failed.value.orig, sealing.SealerMissing)
    finally:
        sealing.install(previous)


async def test_rotation_old_keys_still_open_new_writes_use_the_first_and_rekey_retires_the_old(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
):
    old, new = new_key(), new_key()
    previous = sealing.install(sealing.Sealer(DataKeys([old]), FIELDS))
    try:
        async with sessionmaker() as session, session.begin():
            user = User(channel="test", external_id="rotate")
            session.add(user)
            await session.flush()
            for n in range(3):
                draft = await add_draft(session, user_id=user.id, award_id="pioneer_person", now=SUBMITTED_AT)
                draft.set_answers({"id_number": ID_NUMBER, "contact_mobile": f"+861381234567{n}"})
                draft.touch(SUBMITTED_AT)
        before = raw_answers(settings, "drafts")

        sealing.install(sealing.Sealer(DataKeys([new]), FIELDS))  # the old key dropped too early
        async with sessionmaker() as session:
            with pytest.raises(DataKeyError, match="NEW,OLD"):
                await session.scalar(select(Draft))

        sealing.install(sealing.Sealer(DataKeys([new, old]), FIELDS))  # KCXF_DATA_KEY=NEW,OLD
        async with sessionmaker() as session:
            drafts = list(await session.scalars(select(Draft).order_by(Draft.id)))
            assert [d.answers["contact_mobile"] for d in drafts] == [f"+861381234567{n}" for n in range(3)]
        assert await reseal_all(sessionmaker) == 3
        after = raw_answers(settings, "drafts")
        assert all(a["id_number"] != b["id_number"] for a, b in zip(after, before, strict=True))

        sealing.install(sealing.Sealer(DataKeys([new]), FIELDS))  # OLD removed
        async with sessionmaker() as session:
            drafts = list(await session.scalars(select(Draft).order_by(Draft.id)))
            assert all(d.answers["id_number"] == ID_NUMBER for d in drafts)
            # Rekeying is not activity: the retention period still counts from the entrant's last step.
            assert {d.updated_at for d in drafts} == {SUBMITTED_AT}
    finally:
        sealing.install(previous)


def test_a_token_from_another_key_says_how_to_recover():
    key = new_key()
    keys = DataKeys([key])
    with pytest.raises(DataKeyError, match="KCXF_DATA_KEY"):
        keys.decrypt(DataKeys([new_key()]).encrypt("x"))
    assert keys.decrypt(keys.encrypt("张伟 ✓")) == "张伟 ✓"
    assert repr(keys) == "DataKeys(1 key)" and key not in repr(keys)


def test_a_malformed_key_is_refused_without_repeating_it():
    with pytest.raises(DataKeyError) as refused:
        DataKeys([new_key(), "not-a-key-but-a-secret"])
    assert "key 2 of 2" in str(refused.value) and "not-a-key-but-a-secret" not in str(refused.value)


async def test_rekey_also_seals_answers_stored_in_clear_before_encryption_existed(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
):
    async with sessionmaker() as session, session.begin():
        user = User(channel="test", external_id="legacy")
        session.add(user)
        await session.flush()
        await add_draft(session, user_id=user.id, award_id="pioneer_person", now=SUBMITTED_AT)
    with sqlite3.connect(settings.data_dir / "kcxf.db") as db:  # as an older version wrote it
        db.execute("UPDATE drafts SET answers = ?", (json.dumps({"id_number": ID_NUMBER, "city": "上海市"}),))
    async with sessionmaker() as session:
        assert (await session.scalar(select(Draft))).answers["id_number"] == ID_NUMBER  # type: ignore[union-attr]
    assert await reseal_all(sessionmaker) == 1
    [stored] = raw_answers(settings, "drafts")
    assert set(stored["id_number"]) == {sealing.ENVELOPE} and stored["city"] == "上海市"
