"""`kcxf queue …` run as real subprocesses on a data folder holding submitted entries."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.users import User
from config import Settings
from config.campaign import Campaign
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake import queue
from intake.files import store_upload
from intake.forms import load_forms
from tests.databases import Databases, kcxf_env
from tests.intake.factories import answers_for, overseas_english
from tests.shipped import shipped_edition

KCXF = [sys.executable, "-m", "bot", "queue"]
SUBMITTED_AT = datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
EXPORT_KEYS = {
    "reference", "award_id", "award_name", "award_name_en", "edition", "entrant_name", "subject", "status", "status_label",
    "status_label_en", "created_at", "updated_at", "mailed_at", "form_file", "draft_key", "user_id",
    "attachments", "answers", "history",
}


def kcxf(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **kcxf_env(settings), "COLUMNS": "250", "KCXF_LOG_LEVEL": "WARNING"}
    return subprocess.run([*KCXF, *args], capture_output=True, text=True, env=env, timeout=120)


async def fill(settings: Settings, campaign: Campaign) -> dict[str, dict]:
    """Three entries: a product (with an attachment), a person in first review, an English park entry."""
    engine = make_engine(settings.db_url)
    await upgrade(engine)
    forms = load_forms(campaign, directory=shipped_edition().forms_dir)
    deck = store_upload(files_dir=settings.files_dir, owner="1", file_name="产品手册.pdf",
                        source=b"%PDF-1.7 deck", mime_type="application/pdf", size=None)
    entries = {
        "pioneer_product": {**answers_for(forms["pioneer_product"]), "attachments": [deck.as_dict()]},
        "pioneer_person": answers_for(forms["pioneer_person"], projects=2),
        "innovation_park": overseas_english(forms["innovation_park"]),
    }
    try:
        async with make_sessionmaker(engine)() as session:
            user = User(channel="test", external_id="1")
            session.add(user)
            await session.flush()
            for award_id, answers in entries.items():
                record = (await queue.submit(session, draft_key=award_id, user_id=user.id, form=forms[award_id],
                                             answers=answers, campaign=campaign, now=SUBMITTED_AT)).record
                if award_id == "pioneer_product":
                    await queue.set_form_file(session, record, f"forms/{record.reference}/申报表.docx")
            await queue.change_status(session, reference="KCXF-2024-00002", to_status="first_review",
                                      note="材料齐全", actor="staff:li", now=SUBMITTED_AT)
            await session.commit()
    finally:
        await engine.dispose()
    return entries


@pytest.fixture(scope="module")
def data_dir(
    tmp_path_factory: pytest.TempPathFactory, campaign: Campaign, databases: Databases
) -> tuple[Settings, dict[str, dict]]:
    data = tmp_path_factory.mktemp("queue") / "var"
    settings = Settings(_env_file=None, data_dir=data, database_url=databases.create(data))  # type: ignore[call-arg]
    return settings, asyncio.run(fill(settings, campaign))


def test_list_shows_every_entry_in_beijing_time(data_dir: tuple[Settings, dict]):
    done = kcxf(data_dir[0], "list")
    assert done.returncode == 0, done.stderr
    for expected in ("KCXF-2024-00001", "KCXF-2024-00002", "KCXF-2024-00003", "年度科创先锋产品", "年度科创先锋人物",
                     "年度科创园区", "灵眸 AI 质检相机", "张伟", "Pioneer Science Park", "已提交", "初审中",
                     "2024-10-01 10:00", "3 entries"):
        assert expected in done.stdout


def test_list_filters_by_status_and_award(data_dir: tuple[Settings, dict]):
    done = kcxf(data_dir[0], "list", "--status", "first_review")
    assert done.returncode == 0 and "KCXF-2024-00002" in done.stdout and "KCXF-2024-00001" not in done.stdout
    done = kcxf(data_dir[0], "list", "--award", "innovation_park")
    assert done.returncode == 0 and "KCXF-2024-00003" in done.stdout and "KCXF-2024-00002" not in done.stdout
    assert "1 entries" in done.stdout


def test_show_groups_answers_by_section_with_history(data_dir: tuple[Settings, dict]):
    done = kcxf(data_dir[0], "show", "kcxf-2024-00002")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for expected in ("参选类别（年度科创先锋人物）+ 张伟", "基本信息", "申报联系人", "声明", "自荐", "王丽", "**********5678",
                     "科创项目 2", "AI 质检相机研发及产业化", "2021-03 — 2024-06", "30,000,000 元", "初审中",
                     "staff:li", "材料齐全", "user:1"):
        assert expected in out, expected
    assert out.index("基本信息") < out.index("声明") < out.index("history")
    assert "13812345678" not in out  # masked unless --unmasked (tests/privacy/test_masking.py)


def test_show_unknown_reference_fails(data_dir: tuple[Settings, dict]):
    done = kcxf(data_dir[0], "show", "KCXF-2024-09999")
    assert done.returncode == 1 and "KCXF-2024-09999" in done.stderr


def test_json_export_has_every_field_and_the_whole_snapshot(data_dir: tuple[Settings, dict], tmp_path: Path):
    settings, entries = data_dir
    done = kcxf(settings, "export", "--format", "json", "--unmasked")
    assert done.returncode == 0, done.stderr
    objects = json.loads(done.stdout)
    assert [o["reference"] for o in objects] == ["KCXF-2024-00001", "KCXF-2024-00002", "KCXF-2024-00003"]
    assert all(set(o) == EXPORT_KEYS for o in objects)
    product, person, park = objects
    assert product["answers"] == entries["pioneer_product"]
    assert person["answers"] == entries["pioneer_person"] and len(person["answers"]["projects"]) == 2
    assert park["answers"] == entries["innovation_park"]
    assert product["award_id"] == "pioneer_product" and product["award_name"] == "年度科创先锋产品"
    assert product["subject"] == "参选类别（年度科创先锋产品）+ 灵眸 AI 质检相机"
    assert product["form_file"] == "forms/KCXF-2024-00001/申报表.docx" and park["form_file"] is None
    assert [a["name"] for a in product["attachments"]] == ["产品手册.pdf"]
    assert set(product["attachments"][0]) == {"name", "path", "size", "sha256", "mime_type"}
    assert datetime.fromisoformat(product["created_at"]) == SUBMITTED_AT
    assert person["status"] == "first_review" and person["status_label"] == "初审中"
    assert [h["to_status"] for h in person["history"]] == ["submitted", "first_review"]

    out = tmp_path / "queue.json"
    assert kcxf(settings, "export", "--format", "json", "--unmasked", "--output", str(out)).returncode == 0
    assert json.loads(out.read_text(encoding="utf-8")) == objects


def test_csv_export_flattens_answers(data_dir: tuple[Settings, dict], tmp_path: Path):
    settings, entries = data_dir
    out = tmp_path / "queue.csv"
    done = kcxf(settings, "export", "--format", "csv", "--unmasked", "--output", str(out))
    assert done.returncode == 0, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["reference"] for r in rows] == ["KCXF-2024-00001", "KCXF-2024-00002", "KCXF-2024-00003"]
    product, person, park = rows
    assert product["subject"] == "参选类别（年度科创先锋产品）+ 灵眸 AI 质检相机"
    assert product["answers.product_name"] == product["entrant_name"] == "灵眸 AI 质检相机"
    assert product["answers.credit_code"] == entries["pioneer_product"]["credit_code"]
    assert person["answers.projects.2.project_name"] == "AI 质检相机研发及产业化"
    assert person["answers.projects.1.project_period.start"] == "2021-03"
    assert person["answers.decl_truthful"] == "true"
    assert product["answers.projects.2.project_name"] == ""  # a column another entry needed
    assert "产品手册.pdf" in product["attachments"]
    # A phone number starting with + would run as a formula in a spreadsheet; it is defused.
    assert park["answers.contact_mobile"] == "'+447700900123"

    stdout = kcxf(settings, "export", "--format", "csv", "--unmasked")
    assert stdout.returncode == 0
    assert list(csv.DictReader(io.StringIO(stdout.stdout))) == rows


def test_status_change_from_the_command_line(data_dir: tuple[Settings, dict]):
    settings = data_dir[0]
    done = kcxf(settings, "status", "KCXF-2024-00003", "first_review", "--note", "开始初审")
    assert done.returncode == 0, done.stderr
    assert "已提交 → 初审中" in done.stdout
    done = kcxf(settings, "status", "KCXF-2024-00003", "初审通过")  # the label works as well as the id
    assert done.returncode == 0, done.stderr
    refused = kcxf(settings, "status", "KCXF-2024-00003", "submitted")
    assert refused.returncode == 1
    assert "不能改为" in refused.stderr and "cannot become" in refused.stderr
    assert kcxf(settings, "status", "KCXF-2024-09999", "first_review").returncode == 1

    [park] = [o for o in json.loads(kcxf(settings, "export", "--format", "json").stdout)
              if o["reference"] == "KCXF-2024-00003"]
    assert park["status"] == "passed_first"
    assert [(h["from_status"], h["to_status"], h["actor"], h["note"]) for h in park["history"]] == [
        (None, "submitted", "user:1", ""),
        ("submitted", "first_review", "cli", "开始初审"),
        ("first_review", "passed_first", "cli", ""),
    ]
