"""The generated 申报表: every award renders its visible answers, formatted for people, into a safe file name."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.document import Document
from docx.oxml.ns import qn
from docx.shared import Cm
from pypdf import PdfReader

from config import Campaign
from intake.forms import CHOICE_TYPES, Field, FieldGroup, Form, load_forms
from intake.render import form_filename, render_form
from tests.intake.factories import AWARDS, answers_for, overseas_english
from tests.shipped import shipped_edition

REFERENCE = "KCXF-2024-000123"
SUBMITTED = datetime(2024, 10, 1, 2, 30, tzinfo=ZoneInfo("UTC"))  # 10:30 in Shanghai
TITLE = "2024 科创先锋案例征集申报表"
EMPTY = "（未填写）"


@pytest.fixture(scope="module")
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def render(
    form: Form, answers: dict[str, Any], campaign: Campaign, out_dir: Path, **kwargs: Any
) -> tuple[Path, Document]:
    options: dict[str, Any] = {"reference": REFERENCE, "submitted_at": SUBMITTED} | kwargs
    path = render_form(form=form, answers=answers, campaign=campaign, out_dir=out_dir, **options)
    return path, docx.Document(str(path))


def rows(document: Document) -> list[tuple[str, str]]:
    """Every (label, value) row of the document's two-column tables."""
    return [
        (row.cells[0].text, row.cells[1].text)
        for table in document.tables
        for row in table.rows
        if len(row.cells) == 2
    ]


def paragraphs(document: Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def value_of(document: Document, label: str) -> str:
    found = [value for name, value in rows(document) if name == label]
    assert len(found) == 1, (label, found)
    return found[0]


# What a person should read for each stored value, written out independently of the renderer.
def expected(field: Field, value: Any, *, english: bool = False) -> str:
    if value is None:
        return EMPTY
    match field.type:
        case kind if kind in CHOICE_TYPES:
            labels = {c.id: (c.en if english else c.zh) for c in field.choices}
            ids = value if isinstance(value, list) else [value]
            return (", " if english else "、").join(labels[i] for i in ids)
        case "consent":
            return "已确认：申报方" if value else "未确认"
        case "money":
            return f"{value:,} 元"
        case "percentage":
            return f"{Decimal(value).normalize():f}%"
        case "integer":
            return f"{value:,}"
        case "date":
            day = date.fromisoformat(value)
            return f"{day.year} 年 {day.month} 月 {day.day} 日"
        case "period":
            start_year, start_month = (int(x) for x in value["start"].split("-"))
            if value["end"] is None:
                return f"{start_year} 年 {start_month} 月 — 至今"
            end_year, end_month = (int(x) for x in value["end"].split("-"))
            return f"{start_year} 年 {start_month} 月 — {end_year} 年 {end_month} 月"
        case "file_list":
            return "\n".join(
                f"{n}. {f['name']}（{f['size'] / 1048576:.1f} MB）" for n, f in enumerate(value, 1)
            )
        case "mobile" if value.startswith("+86"):
            return f"+86 {value[3:6]} {value[6:10]} {value[10:]}"
        case _:
            return str(value)


def test_every_award_is_rendered(campaign: Campaign):
    assert set(AWARDS) == {award.id for award in campaign.awards}


# --------------------------------------------------------------------------------------- every award


@pytest.mark.parametrize("award_id", AWARDS)
def test_complete_entry_renders_every_visible_answer(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path, award_id: str
):
    form = forms[award_id]
    answers = answers_for(form, projects=2)
    path, document = render(form, answers, campaign, tmp_path)
    award = form.award
    entrant = answers[form.entrant_field.id]  # the award's own subject field names the entrant

    assert path == tmp_path / f"{award.name.zh}+{entrant}.docx"
    assert list(tmp_path.iterdir()) == [path]
    texts = paragraphs(document)
    assert texts[0] == TITLE
    assert document.paragraphs[0].style.name == "Title"
    assert any(award.name.zh in t and f"（{award.name.en}）" in t.replace("\n", "") for t in texts)
    assert any(REFERENCE in t and "2024 年 10 月 1 日 10:30" in t for t in texts)
    assert f"邮件标题：{campaign.subject(award_id, entrant)}" in texts
    assert texts[-1] == "申报日期：2024 年 10 月 1 日"
    assert "申报方已逐项确认以上全部声明。" in texts

    table_rows = rows(document)
    for section in form.sections:
        if any(isinstance(e, FieldGroup) or form.visible(e, answers) for e in section.fields):
            assert section.title.zh in texts
        for entry in section.fields:
            if isinstance(entry, FieldGroup) or not form.visible(entry, answers):
                continue
            want = expected(entry, answers.get(entry.id))
            assert any(label == entry.label.zh and want in value for label, value in table_rows), (
                entry.id,
                want,
            )


@pytest.mark.parametrize("award_id", AWARDS)
def test_hidden_fields_are_left_out(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path, award_id: str
):
    form = forms[award_id]
    answers = answers_for(form)
    assert answers["nomination"] == "self"
    # Stale answers from before the entrant switched back to 自荐 must not reach the committee.
    answers |= {"recommender_name": "李明华", "recommender_position": "复旦大学 教授"}
    _, document = render(form, answers, campaign, tmp_path)

    shown = {label for label, _ in rows(document)}
    visible_labels = {
        slot.field.label.zh for slot in form.fields() if slot.group or form.visible(slot.field, answers)
    }
    hidden = [
        slot.field for slot in form.fields() if not slot.group and not form.visible(slot.field, answers)
    ]
    assert any(f.id == "recommender_name" for f in hidden)
    for field in hidden:
        if field.label.zh not in visible_labels:
            assert field.label.zh not in shown, field.id
    everything = "\n".join(v for _, v in rows(document))
    assert "李明华" not in everything


@pytest.mark.parametrize("award_id", AWARDS)
def test_each_project_gets_its_own_table(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path, award_id: str
):
    form = forms[award_id]
    answers = answers_for(form, projects=3)
    answers["projects"][2] |= {
        "project_name": "第三个项目",
        "project_period": {"start": "2023-01", "end": None},
    }
    _, document = render(form, answers, campaign, tmp_path)

    (group,) = form.groups()
    body = document.element.body
    for n, item in enumerate(answers["projects"], start=1):
        (heading,) = [p for p in document.paragraphs if p.text == f"科创项目 {n}"]
        assert heading.style.name == "Heading 2"
        table = next(
            t for t in document.tables if t._tbl is heading._p.getnext()
        )  # the table right after its title
        assert body.index(table._tbl) == body.index(heading._p) + 1
        got = {row.cells[0].text: row.cells[1].text for row in table.rows}
        assert list(got) == [f.label.zh for f in group.fields]
        for field in group.fields:
            assert expected(field, item[field.id]) in got[field.label.zh]
    assert "科创项目 4" not in paragraphs(document)
    assert any(value == "2023 年 1 月 — 至今" for _, value in rows(document))


# --------------------------------------------------------------------------------------- values


def test_expert_nomination_shows_the_recommender(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["pioneer_product"]
    answers = answers_for(form, typed={"nomination": "专家推荐"})
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "报名方式") == "专家推荐"
    assert value_of(document, "推荐专家姓名") == "李明华"
    assert value_of(document, "推荐专家单位及职务") == "复旦大学 教授"
    assert value_of(document, "推荐专家联系方式") == "+86 139 1234 5678"


def test_values_are_formatted_for_people(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["rising_potential"]
    answers = answers_for(form) | {
        "rd_investment": 5_000_000,
        "revenue_recent": 1_234_567,
        "rd_ratio": "12.50",
        "revenue_cagr": "100",
        "employees": 12345,
        "founded_on": "2024-03-01",
        "innovation_rating": ["high_tech", "little_giant"],
        "main_business": "第一段：研发。\n第二段：生产。\n\n第三段：销售。",
        "materials_note": "演示视频：https://pan.baidu.com/s/1AbCdEf 提取码 8k2m\n路演 PPT：https://example.com/deck",
        "attachments": [
            {"name": "营业执照.jpg", "size": 300 * 1024, "sha256": "ab" * 32},
            {"name": "产品手册.pdf", "size": 5 * 1024 * 1024 + 400 * 1024},
        ],
    }
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "研发投入") == "5,000,000 元（500 万元）"
    assert value_of(document, "近年营收") == "1,234,567 元"
    assert value_of(document, "研发投入占营收比例") == "12.5%"
    assert value_of(document, "营收复合增长率") == "100%"
    assert value_of(document, "员工人数") == "12,345"
    assert value_of(document, "成立日期") == "2024 年 3 月 1 日"
    assert value_of(document, "创新评级") == "高新技术企业、专精特新“小巨人”"
    assert value_of(document, "主营业务") == "第一段：研发。\n第二段：生产。\n\n第三段：销售。"
    assert value_of(document, "其他申报材料说明") == answers["materials_note"]
    assert value_of(document, "已上传附件") == (
        f"1. 营业执照.jpg（300 KB）\n    SHA-256: {'ab' * 32}\n2. 产品手册.pdf（5.4 MB）"
    )
    assert value_of(document, "信息真实、准确、完整") == "已确认：申报方确认所填信息真实、准确、完整。"
    assert value_of(document, "知悉不收费、不退稿") == "已确认：申报方知悉本次征集不收取费用、不退稿。"


def test_skipped_optional_fields_say_so(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["innovation_park"]
    answers = answers_for(form) | {"materials_note": None, "attachments": None}
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "其他申报材料说明") == EMPTY
    assert value_of(document, "已上传附件") == EMPTY


def test_an_english_entry_gets_english_choice_labels(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["pioneer_engine"]
    answers = overseas_english(form)
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "境内/境外") == "Outside China"
    assert value_of(document, "申报语言") == "English"
    assert value_of(document, "融资进展") == "Series B"
    assert value_of(document, "创新评级") == "High-Tech Enterprise, Specialised and Sophisticated SME"
    assert value_of(document, "所属行业赛道") == expected(
        form.field("industry_track"), answers["industry_track"], english=True
    )
    assert value_of(document, "技术合作情况") == answers["risk_tech_cooperation"]
    assert paragraphs(document)[0] == TITLE  # the form itself stays the committee's Chinese form


def test_an_overseas_entry_in_chinese_keeps_chinese_labels(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["pioneer_engine"]
    answers = answers_for(form, typed={"region": "境外", "submission_language": "中文"})
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "境内/境外") == "境外"
    assert value_of(document, "融资进展") == "B轮"


def test_the_form_can_be_rendered_in_english(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["pioneer_person"]
    answers = overseas_english(form)
    _, document = render(form, answers, campaign, tmp_path, lang="en")
    texts = paragraphs(document)
    assert texts[0] == "2024 Sci-Tech Innovation Pioneer Awards Application Form"
    assert value_of(document, "Identity document") == "Passport"
    assert value_of(document, "Information is true, accurate and complete") == (
        "Confirmed: The entrant confirms that the information given is true, accurate and complete."
    )
    assert value_of(document, "Intellectual property owned or licensed") == (
        "Confirmed: The entrant confirms that the intellectual property involved is its own or licensed by its "
        "holder."
    )
    assert ("Planned investment", "RMB 30,000,000 (RMB 30 million)") in rows(document)
    assert texts[-1] == "Date of entry: 1 October 2024"


def test_without_reference_or_date_the_form_says_it_is_not_submitted(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["pioneer_product"]
    answers = answers_for(form) | {"decl_no_fee": False}
    _, document = render(form, answers, campaign, tmp_path, reference=None, submitted_at=None)
    texts = paragraphs(document)
    assert not any("申报编号" in t or "提交时间" in t for t in texts)
    assert texts[-1] == "申报日期：（尚未提交）"
    assert "申报方尚未确认全部声明。" in texts
    assert value_of(document, "知悉不收费、不退稿") == "未确认"


def test_a_naive_submission_time_is_refused(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["pioneer_product"]
    with pytest.raises(ValueError, match="timezone-aware"):
        render(form, answers_for(form), campaign, tmp_path, submitted_at=datetime(2024, 10, 1))  # noqa: DTZ001


# --------------------------------------------------------------------------------------- file names


def test_a_hostile_entrant_name_stays_inside_out_dir(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["pioneer_product"]
    out_dir = tmp_path / "forms" / "entry-1"
    answers = answers_for(form) | {"product_name": "../../etc/passwd\x00<script>"}
    path, document = render(form, answers, campaign, out_dir)

    assert path.parent == out_dir
    assert path.resolve().parent == out_dir.resolve()
    assert list(out_dir.iterdir()) == [path]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "forms",
        "forms/entry-1",
        f"forms/entry-1/{path.name}",
    ]
    assert path.name.startswith("年度科创先锋产品+") and path.name.endswith(".docx")
    for bad in ("/", "\\", "\x00", "<", ">", ":", '"', "|", "?", "*"):
        assert bad not in path.name
    assert not path.name.startswith(".")
    # The document itself still shows the name, minus what XML cannot hold.
    assert value_of(document, "产品名称") == "../../etc/passwd<script>"


@pytest.mark.parametrize(
    ("entrant", "name"),
    [
        ("上海科创先锋科技有限公司", "年度科创先锋产品+上海科创先锋科技有限公司.docx"),
        ("Pioneer Technologies Ltd.", "年度科创先锋产品+Pioneer Technologies Ltd.docx"),
        ("  a:b*c?  ", "年度科创先锋产品+a_b_c_.docx"),
        ("\u202egpj.exe", "年度科创先锋产品+gpj.exe.docx"),
        ("...", "年度科创先锋产品+未命名参选者.docx"),
        ("", "年度科创先锋产品+未命名参选者.docx"),
        (None, "年度科创先锋产品+未命名参选者.docx"),
    ],
)
def test_file_names_are_safe_on_every_os(forms: dict[str, Form], entrant: str | None, name: str):
    assert form_filename(forms["pioneer_product"].award, entrant) == name


def test_long_names_are_trimmed(forms: dict[str, Form]):
    name = form_filename(forms["pioneer_product"].award, "超长名称" * 100)
    assert len(name.encode()) <= 200
    assert name.startswith("年度科创先锋产品+超长名称") and name.endswith(".docx")


def test_rendering_again_replaces_the_file(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    form = forms["pioneer_product"]
    answers = answers_for(form)
    first, _ = render(form, answers, campaign, tmp_path)
    second, document = render(
        form, answers | {"product_summary": "更新后的产品简介：更快、更准。"}, campaign, tmp_path
    )
    assert first == second
    assert list(tmp_path.iterdir()) == [second]
    assert value_of(document, form.field("product_summary").label.zh) == "更新后的产品简介：更快、更准。"


# --------------------------------------------------------------------------------------- layout


def test_page_fonts_and_tables_look_like_an_official_form(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["enterprise_npf"]
    _, document = render(form, answers_for(form), campaign, tmp_path)
    section = document.sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.01)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.01)
    assert section.page_width < section.page_height
    assert Cm(1.5) <= section.left_margin <= Cm(3) and Cm(1.5) <= section.top_margin <= Cm(3)

    normal = document.styles["Normal"]
    assert 10.5 <= normal.font.size.pt <= 11
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == fonts.get(qn("w:ascii")) == fonts.get(qn("w:hAnsi"))
    assert "CJK" in fonts.get(qn("w:eastAsia"))
    assert fonts.get(qn("w:eastAsiaTheme")) is None

    text_width = section.page_width - section.left_margin - section.right_margin
    for table in document.tables:
        assert table.style.name == "Table Grid"
        label, value = table.columns
        assert 0.25 < label.width / text_width < 0.35
        assert abs(label.width + value.width - text_width) < Cm(0.05)
        for row in table.rows:
            assert row.cells[0].paragraphs[0].runs[0].bold
            shading = row.cells[0]._tc.tcPr.find(qn("w:shd"))
            assert shading is not None and shading.get(qn("w:fill")) != "FFFFFF"

    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("Heading"):
            assert paragraph.style.font.bold


# --------------------------------------------------------------------------------------- LibreOffice


def test_libreoffice_prints_the_form(forms: dict[str, Form], campaign: Campaign, tmp_path: Path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed; .ci/run installs libreoffice-writer-nogui")
    form = forms["pioneer_person"]
    answers = answers_for(form, projects=2)
    path, _ = render(form, answers, campaign, tmp_path / "out")
    pdf_dir = tmp_path / "pdf"
    subprocess.run(
        [
            soffice,
            # A private profile, so parallel runs (and a desktop LibreOffice) do not fight over the lock.
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(pdf_dir),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = pdf_dir / path.with_suffix(".pdf").name
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    for wanted in (TITLE, answers[form.entrant_field.id], form.award.name.zh, REFERENCE, "申报日期"):
        assert "".join(wanted.split()) in text, wanted


def test_an_answer_of_an_unexpected_shape_is_shown_as_stored(
    forms: dict[str, Form], campaign: Campaign, tmp_path: Path
):
    form = forms["enterprise_npf"]
    answers = answers_for(form) | {"rd_investment": "约两千万", "founded_on": "2018年春"}
    answers["projects"][0]["project_period"] = "2021 年起"
    _, document = render(form, answers, campaign, tmp_path)
    assert value_of(document, "研发投入") == "约两千万"
    assert value_of(document, "成立日期") == "2018年春"
    assert ("起止时间", "2021 年起") in rows(document)
