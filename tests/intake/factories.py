"""Builders of complete, valid answers for any form, from what a real applicant would type."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intake.drafts import Draft
from intake.forms import Field, FieldGroup, Form

# The seven awards, each of which every intake test covers.
AWARDS = (
    "enterprise_npf",
    "pioneer_engine",
    "rising_potential",
    "pioneer_person",
    "innovation_park",
    "innovation_district",
    "pioneer_product",
)
TODAY = date(2024, 10, 1)
CREDIT_CODE = "91350100M000100Y43"  # GB 32100-2015's worked example
ID_NUMBER = "11010519491231002X"  # GB 11643-1999's example

ZH_LONG = "公司自主研发的工业视觉检测系统已在 30 多家工厂落地应用，累计为客户节约成本 2000 万元。"
EN_LONG = "Our inspection system runs in more than 30 factories and has saved customers RMB 20 million."

# What an applicant types, by field id; a group's own entries win where groups use an id differently.
TYPED: dict[str, str] = {
    "nomination": "自荐",
    "recommender_name": "李明华",
    "recommender_position": "复旦大学 教授",
    "recommender_contact": "139 1234 5678",
    "region": "境内",
    "contact_name": "王丽",
    "contact_position": "品牌总监",
    "contact_mobile": "13812345678",
    "contact_email": "wangli@pioneer-tech.cn",
    "risk_tech_cooperation": "与复旦大学共建机器视觉联合实验室，合作期 2022 年至 2025 年。",
    "risk_patent_transfer": "无",
    "risk_litigation": "无",
    "materials_note": "产品演示视频：https://pan.baidu.com/s/1AbCdEf 提取码 8k2m",
    "decl_truthful": "同意",
    "decl_ip_owned": "是",
    "decl_no_incident": "同意",
    "decl_publicity": "同意",
    "decl_no_fee": "同意",
    "company_name": "上海科创先锋科技有限公司",
    "credit_code": CREDIT_CODE,
    "founded_on": "2018年5月20日",
    "registered_in": "上海市浦东新区",
    "legal_representative": "陈志强",
    "main_business": "工业机器视觉检测设备与软件的研发、生产和销售。",
    "employees": "320人",
    "rd_staff": "150",
    "industry_track": "高端装备",
    "industry_subfield": "工业机器视觉",
    "financing_stage": "B轮",
    "innovation_rating": "高新技术企业、专精特新",
    "rd_investment": "2000万元",
    "rd_ratio": "15%",
    "invention_patents": "36",
    "other_ip": "实用新型专利 52 项，软件著作权 40 项。",
    "revenue_recent": "1.2亿元",
    "revenue_cagr": "65%",
    "financing_details": "2023 年完成 B 轮融资 2 亿元，由国投创业领投。",
    "policy_support": "获上海市科技小巨人工程资助 300 万元，享受研发费用加计扣除。",
    "product_name": "灵眸 AI 质检相机",
    "product_category": "计算机与人工智能产品",
    "released_on": "2024-03-01",
    "product_ip": "发明专利 12 项，外观设计专利 3 项。",
}
TYPED_BY_GROUP: dict[str, dict[str, str]] = {
    "person": {
        "person_name": "张伟",
        "id_type": "居民身份证",
        "id_number": ID_NUMBER,
        "passport_number": "E12345678",
        "nationality": "中国",
        "employer": "上海交通大学",
        "job_title": "首席科学家",
        "field_of_work": "类脑芯片",
        "financing": "主导创立的企业已完成 A 轮融资 1 亿元。",
        "innovation_rating": "入选国家级人才计划，所在企业为高新技术企业。",
        "innovation_investment": "主持研发项目年投入 5000 万元，占企业营收 30%。",
        "intellectual_property": "作为第一发明人获授权发明专利 20 项。",
        "investment_financing": "带领团队完成三轮融资，累计 3 亿元。",
    },
    "city": {
        "case_name": "张江科学城",
        "city": "上海市",
        "operator": "上海张江高新技术产业开发区管理委员会",
        "operator_credit_code": CREDIT_CODE,
        "operator_head": "刘建国",
        "industry_subfield": "集成电路、生物医药、人工智能",
        "financing": "设立 100 亿元产业引导基金，区内企业年融资超过 200 亿元。",
        "innovation_rating": "国家级高新技术产业开发区，区内高新技术企业 2000 余家。",
        "innovation_investment": "全社会研发投入占地区生产总值比例超过 10%。",
        "ip_assets": "区内企业累计拥有发明专利 5 万余项。",
        "park_type": "高新技术产业开发区",
        "development_stage": "建设中、初具形态",
    },
}
PROJECT = {
    "project_name": "AI 质检相机研发及产业化",
    "project_period": "2021.03-2024.06",
    "project_investment": "3000万元",
    "project_results": "完成三代产品迭代，检测准确率达到 99.5%，已交付 1200 台。",
}
ATTACHMENTS = [{"name": "产品手册.pdf", "size": 2 * 1024 * 1024, "file_id": "BQACAgUAAxkBAAIB"}]

# A foreign entry that applies in English; names stay real names in Latin letters.
OVERSEAS_EN = {
    "region": "境外",
    "submission_language": "English",
    "contact_name": "Jane Smith",
    "contact_position": "Head of Communications",
    "contact_mobile": "+44 7700 900123",
    "contact_email": "jane.smith@pioneer-tech.co.uk",
    "company_name": "Pioneer Technologies Ltd.",
    "legal_representative": "John Miller",
    "employer": "Imperial College London",
    "person_name": "Jane Smith",
    "operator": "Pioneer Science Park Ltd.",
    "case_name": "Pioneer Science Park",
    "product_name": "PioneerEye Inspection Camera",
    "operator_head": "John Miller",
    "risk_patent_transfer": "None",
    "risk_litigation": "无",
    "materials_note": "Demo video: https://example.com/demo.mp4",
    "id_type": "passport",
}


def typed_answer(form: Form, field: Field, *, typed: Mapping[str, str], long_text: str | None) -> str:
    """The answer an applicant would type for `field` on this form."""
    if field.id in typed:
        return typed[field.id]
    if long_text is not None and field.type == "long_text":
        return long_text
    group = form.award.group
    for table in (TYPED_BY_GROUP.get(group, {}), TYPED, PROJECT):
        if field.id in table:
            return table[field.id]
    if field.type == "long_text":
        return ZH_LONG
    if field.type in {"choice", "choices"}:
        return field.choices[0].zh
    raise AssertionError(f"no sample answer for {field.id} ({field.type}) on {form.award_id}")


def answers_for(
    form: Form,
    *,
    typed: Mapping[str, str] | None = None,
    long_text: str | None = None,
    projects: int = 1,
) -> dict[str, Any]:
    """A complete answers dict for `form`, typed through `form.check` the way the bot stores them."""
    typed = typed or {}
    answers: dict[str, Any] = {}

    def store(field: Field, target: dict[str, Any]) -> None:
        if field.type == "file_list":
            raw: Any = ATTACHMENTS
        else:
            raw = typed_answer(form, field, typed=typed, long_text=long_text)
        checked = form.check(field, raw, today=TODAY)
        assert checked.ok, f"{form.award_id}.{field.id} refused {raw!r}: {checked.error}"
        target[field.id] = checked.value

    for section in form.sections:
        for entry in section.fields:
            if isinstance(entry, FieldGroup):
                items = []
                for _ in range(projects):
                    item: dict[str, Any] = {}
                    for field in entry.fields:
                        store(field, item)
                    items.append(item)
                answers[entry.id] = items
            elif form.visible(entry, answers):
                store(entry, answers)
    return answers


_GIVEN = "明华伟强丽军平刚芳静敏燕玲英兰霞红梅杰涛"
_SYLLABLES = ("al", "be", "ca", "do", "el", "fa", "gi", "ho", "in", "jo", "ka", "le", "mi", "no", "or", "pa", "ri",
              "sa", "tu", "vi")


def numbered_name(field: Field, value: str, n: int) -> str:
    """`value` told apart by `n` (0–7999) so that the field's own check still takes it: digits before an
    organisation's legal form, given names for a person, the number after any other name."""
    if field.type == "org_name":
        for suffix in ("有限公司", " Ltd."):
            if value.endswith(suffix):
                return f"{value.removesuffix(suffix)}{' ' if suffix[0] == ' ' else ''}{n:04d}{suffix}"
    if field.type == "person_name":
        digits = (n % 20, n // 20 % 20, n // 400 % 20)
        if "\u4e00" <= value[0] <= "\u9fff":  # a Chinese name: the surname and three given characters
            return value[0] + "".join(_GIVEN[d] for d in digits)
        first, _, last = value.partition(" ")  # a Latin name: a middle name
        return f"{first} {''.join(_SYLLABLES[d] for d in digits).capitalize()} {last}"
    return f"{value} {n:04d}"


def overseas_english(form: Form, **kwargs: Any) -> dict[str, Any]:
    """A complete entry from outside China that applies in English."""
    return answers_for(form, typed=OVERSEAS_EN, long_text=EN_LONG, **kwargs)


async def with_position(session: AsyncSession, data: Mapping[str, Any]) -> dict[str, Any]:
    """A conversation state's data with the question the entrant is at, which the intake keeps in the draft."""
    out = dict(data)
    draft = await session.get(Draft, out["draft"]) if isinstance(out.get("draft"), int) else None
    if draft is not None and "position" in draft.progress:
        out["position"] = draft.progress["position"]
    return out


async def add_draft(session: AsyncSession, *, user_id: int, award_id: str, now: datetime | None = None) -> Draft:
    """An empty draft added and flushed through the ORM, for a test that sets up drafts without the chat."""
    draft = Draft(edition=2024, user_id=user_id, award_id=award_id, answers={}, progress={"history": [], "closed": []})
    if now is not None:
        draft.created_at = draft.updated_at = now
    session.add(draft)
    await session.flush()
    return draft
