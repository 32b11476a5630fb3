"""The completeness check: complete entries of every award pass, and each kind of gap is named in zh and en."""

from __future__ import annotations

from typing import Any

import pytest

from config import Campaign
from intake.complete import Problem, completeness
from intake.forms import Form, load_forms
from tests.intake.factories import AWARDS, EN_LONG, TODAY, answers_for, overseas_english
from tests.shipped import shipped_edition

ZH_TEXT = "与复旦大学共建机器视觉联合实验室，合作期三年。"


@pytest.fixture(scope="module")
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def problems(form: Form, answers: dict[str, Any], **kwargs: Any) -> list[Problem]:
    return completeness(form, answers, today=TODAY, **kwargs)


def only(found: list[Problem]) -> Problem:
    """The single problem; every reason and label must be there in both languages."""
    assert len(found) == 1, found
    (problem,) = found
    assert problem.reason.zh and problem.reason.en and problem.label.zh and problem.label.en
    assert problem.reason.zh != problem.reason.en
    return problem


# --------------------------------------------------------------------------------------- complete entries


@pytest.mark.parametrize("award_id", AWARDS)
def test_complete_entry_has_no_problems(forms: dict[str, Form], award_id: str):
    assert problems(forms[award_id], answers_for(forms[award_id])) == []


@pytest.mark.parametrize("award_id", AWARDS)
def test_complete_overseas_entry_in_english_has_no_problems(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    answers = overseas_english(form)
    assert answers["submission_language"] == "en"
    assert problems(form, answers) == []


@pytest.mark.parametrize("award_id", AWARDS)
def test_complete_overseas_entry_in_chinese_has_no_problems(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    answers = answers_for(form, typed={"region": "境外", "submission_language": "中文"})
    assert problems(form, answers) == []


def test_expert_nomination_with_the_expert_is_complete(forms: dict[str, Form]):
    form = forms["innovation_park"]
    answers = answers_for(form, typed={"nomination": "专家推荐"})
    assert answers["recommender_name"] == "李明华" and answers["recommender_contact"] == "+8613912345678"
    assert problems(form, answers) == []


def test_person_with_passport_is_complete(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    answers = answers_for(form, typed={"id_type": "护照"})
    assert "id_number" not in answers and answers["passport_number"] == "E12345678"
    assert problems(form, answers) == []


def test_several_projects_and_skipped_optionals_are_complete(forms: dict[str, Form]):
    form = forms["pioneer_product"]
    answers = answers_for(form, projects=5)
    answers["materials_note"] = None
    del answers["attachments"]
    assert problems(form, answers) == []


def test_answers_to_hidden_fields_are_ignored(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    answers = answers_for(form)
    # Left over from choosing 专家推荐 and then 自荐 again.
    answers |= {"recommender_name": "小王", "recommender_contact": "12345", "submission_language": "en"}
    assert problems(form, answers) == []


# ---------------------------------------------------------------------------------------------- missing


@pytest.mark.parametrize("award_id", AWARDS)
def test_every_required_field_is_reported_when_missing(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    complete = answers_for(form)
    for slot in form.fields():
        if slot.group is not None or not slot.field.required or slot.field.id not in complete:
            continue
        answers = {k: v for k, v in complete.items() if k != slot.field.id}
        problem = only(problems(form, answers))
        assert (problem.field_id, problem.label, problem.item) == (slot.field.id, slot.field.label, None)
        assert problem.reason.zh == "这一项必须填写" and problem.reason.en == "This is required"


@pytest.mark.parametrize("blank", [None, "", "   ", []])
def test_blank_answers_count_as_missing(forms: dict[str, Form], blank: Any):
    form = forms["pioneer_engine"]
    answers = answers_for(form) | {"contact_email": blank}
    assert only(problems(form, answers)).field_id == "contact_email"


def test_expert_nomination_needs_the_expert(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    answers = answers_for(form) | {"nomination": "expert"}
    assert [p.field_id for p in problems(form, answers)] == [
        "recommender_name",
        "recommender_position",
        "recommender_contact",
    ]


def test_overseas_entry_must_choose_a_language(forms: dict[str, Form]):
    form = forms["pioneer_product"]
    answers = answers_for(form) | {"region": "overseas"}
    # Until the language is chosen no language rule applies, so only the choice itself is missing.
    assert only(problems(form, answers)).field_id == "submission_language"


# ---------------------------------------------------------------------------------------------- projects


@pytest.mark.parametrize("projects", [[], None])
def test_an_entry_without_a_project_is_incomplete(forms: dict[str, Form], projects: Any):
    form = forms["rising_potential"]
    answers = answers_for(form)
    if projects is None:
        del answers["projects"]
    else:
        answers["projects"] = projects
    problem = only(problems(form, answers))
    assert (problem.field_id, problem.label.zh, problem.label.en) == ("projects", "科创项目", "Project")
    assert "至少需要填写 1 个科创项目" in problem.reason.zh and "At least 1 project" in problem.reason.en


def test_more_than_five_projects_is_too_many(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    problem = only(problems(form, answers_for(form, projects=6)))
    assert problem.field_id == "projects" and "最多" in problem.reason.zh and "At most 5" in problem.reason.en


def test_a_gap_inside_a_project_names_the_project(forms: dict[str, Form]):
    form = forms["innovation_district"]
    answers = answers_for(form, projects=2)
    del answers["projects"][1]["project_results"]
    answers["projects"][0]["project_period"] = {"start": "2024-06", "end": "2021-03"}
    found = problems(form, answers)
    assert [(p.field_id, p.item) for p in found] == [("project_period", 0), ("project_results", 1)]
    assert found[0].label.zh == "科创项目 1：起止时间" and found[0].label.en == "Project 1: Period"
    assert "早于开始时间" in found[0].reason.zh and "before the start" in found[0].reason.en
    assert found[1].label.zh == "科创项目 2：进展与成果"


def test_malformed_projects_are_reported(forms: dict[str, Form]):
    form = forms["pioneer_engine"]
    answers = answers_for(form) | {"projects": "我们有很多项目"}
    assert only(problems(form, answers)).field_id == "projects"


# ------------------------------------------------------------------------------------------ invalid values


@pytest.mark.parametrize(
    ("award_id", "field_id"),
    [
        ("enterprise_npf", "credit_code"),
        ("pioneer_product", "credit_code"),
        ("innovation_park", "operator_credit_code"),
    ],
)
def test_invalid_credit_code_is_reported(forms: dict[str, Form], award_id: str, field_id: str):
    form = forms[award_id]
    answers = answers_for(form) | {field_id: "91350100M000100Y44"}
    problem = only(problems(form, answers))
    assert problem.field_id == field_id
    assert "校验位不符" in problem.reason.zh and "check character does not match" in problem.reason.en


def test_invalid_identity_number_is_reported(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    answers = answers_for(form) | {"id_number": "110105194912310021"}
    problem = only(problems(form, answers))
    assert (
        problem.field_id == "id_number"
        and "校验位" in problem.reason.zh
        and "check digit" in problem.reason.en
    )


@pytest.mark.parametrize(
    ("field_id", "value"),
    [
        ("contact_email", "wangli@pioneer"),
        ("contact_mobile", "12345"),
        ("employees", 0),
        ("rd_ratio", "-5"),
        ("industry_track", "quantum_gravity"),
        ("founded_on", "2030-01-01"),
        ("employees", {"count": 320}),
    ],
)
def test_stored_values_are_checked_again(forms: dict[str, Form], field_id: str, value: Any):
    form = forms["enterprise_npf"]
    assert only(problems(form, answers_for(form) | {field_id: value})).field_id == field_id


# ---------------------------------------------------------------------------------------------- declarations


@pytest.mark.parametrize(
    "field_id", ["decl_truthful", "decl_ip_owned", "decl_no_incident", "decl_publicity", "decl_no_fee"]
)
def test_every_declaration_must_be_accepted(forms: dict[str, Form], field_id: str):
    form = forms["pioneer_product"]
    problem = only(problems(form, answers_for(form) | {field_id: False}))
    assert problem.field_id == field_id
    assert "须同意这项声明" in problem.reason.zh and "must be accepted" in problem.reason.en
    assert only(problems(form, answers_for(form) | {field_id: "不同意"})).field_id == field_id


# ---------------------------------------------------------------------------------------------- language


def test_domestic_entry_with_english_long_text_is_reported(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    answers = answers_for(form) | {"high_tech": EN_LONG}
    problem = only(problems(form, answers))
    assert problem.field_id == "high_tech"
    assert "境内参选项目须使用中文提交" in problem.reason.zh and "in Chinese" in problem.reason.en
    assert problems(form, answers, lang_rule=False) == []


def test_language_rule_covers_project_texts(forms: dict[str, Form]):
    form = forms["innovation_park"]
    answers = answers_for(form)
    answers["projects"][0]["project_results"] = EN_LONG
    problem = only(problems(form, answers))
    assert (problem.field_id, problem.item) == ("project_results", 0)


def test_overseas_entry_keeps_to_its_chosen_language(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    in_chinese = answers_for(form, typed={"region": "境外", "submission_language": "中文"}) | {
        "team_leadership": EN_LONG
    }
    problem = only(problems(form, in_chinese))
    assert problem.field_id == "team_leadership" and "您选择了中文申报" in problem.reason.zh

    in_english = overseas_english(form) | {"team_leadership": ZH_TEXT}
    problem = only(problems(form, in_english))
    assert problem.field_id == "team_leadership"
    assert "You chose to apply in English" in problem.reason.en and "英文" in problem.reason.zh


def test_links_and_none_are_language_neutral(forms: dict[str, Form]):
    form = forms["pioneer_engine"]
    domestic = answers_for(form) | {
        "materials_note": "演示视频 https://pan.baidu.com/s/1AbCdEf?pwd=8k2m 提取码 8k2m"
    }
    assert problems(form, domestic) == []
    english = overseas_english(form) | {"risk_litigation": "无", "risk_patent_transfer": "N/A"}
    assert problems(form, english) == []


# ---------------------------------------------------------------------------------------------- real names


@pytest.mark.parametrize(
    ("field_id", "name", "zh", "en"),
    [
        ("contact_name", "小王", "昵称", "nickname"),
        ("contact_name", "@kcxf_fan", "Telegram", "Telegram username"),
        ("contact_name", "王老师", "称呼", "form of address"),
        ("contact_name", "🚀 Rocket", "表情", "emoji"),
        ("contact_name", "王", "一个字", "single character"),
        ("legal_representative", "张总", "称呼", "form of address"),
        ("company_name", "腾讯公司", "简称", "short name"),
    ],
)
def test_real_name_rule_refuses_nicknames(forms: dict[str, Form], field_id: str, name: str, zh: str, en: str):
    form = forms["pioneer_engine"]
    problem = only(problems(form, answers_for(form) | {field_id: name}))
    assert problem.field_id == field_id
    assert problem.reason.zh.startswith("实名报名要求：") and zh in problem.reason.zh
    assert problem.reason.en.startswith("Entries are made under real names: ") and en in problem.reason.en


def test_real_name_rule_covers_the_nominee_and_the_expert(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    answers = answers_for(form, typed={"nomination": "专家推荐"}) | {
        "person_name": "张某",
        "recommender_name": "Dr Smith",
    }
    found = problems(form, answers)
    assert [p.field_id for p in found] == ["recommender_name", "person_name"]
    assert all(p.reason.zh.startswith("实名报名要求") for p in found)
