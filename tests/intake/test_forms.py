"""The shipped forms of the seven awards, their helpers, and the loader's refusal of broken form files."""

from __future__ import annotations

import inspect
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import Campaign
from intake.forms import (
    CHECKS,
    Field,
    FieldGroup,
    Form,
    FormError,
    check_consent,
    check_file_list,
    load_form,
    load_forms,
)
from tests.intake.factories import AWARDS, CREDIT_CODE, TODAY, answers_for
from tests.shipped import shipped_edition

COMMON_FIELDS = {
    "nomination": "choice",
    "recommender_name": "person_name",
    "recommender_position": "text",
    "recommender_contact": "mobile",
    "region": "choice",
    "submission_language": "choice",
    "contact_name": "person_name",
    "contact_position": "text",
    "contact_mobile": "mobile",
    "contact_email": "email",
    "project_name": "text",
    "project_period": "period",
    "project_investment": "money",
    "project_results": "long_text",
    "risk_tech_cooperation": "long_text",
    "risk_patent_transfer": "long_text",
    "risk_litigation": "long_text",
    "materials_note": "long_text",
    "attachments": "file_list",
    "decl_truthful": "consent",
    "decl_ip_owned": "consent",
    "decl_no_incident": "consent",
    "decl_publicity": "consent",
    "decl_no_fee": "consent",
}
GROUP_FIELDS = {
    "enterprise": {
        "company_name": "org_name",
        "credit_code": "credit_code",
        "founded_on": "date",
        "registered_in": "text",
        "legal_representative": "person_name",
        "main_business": "long_text",
        "employees": "integer",
        "rd_staff": "integer",
        "industry_track": "choice",
        "industry_subfield": "text",
        "financing_stage": "choice",
        "innovation_rating": "choices",
        "rd_investment": "money",
        "rd_ratio": "percentage",
        "invention_patents": "integer",
        "other_ip": "long_text",
    },
    "person": {
        "person_name": "person_name",
        "id_type": "choice",
        "id_number": "id_number",
        "passport_number": "passport",
        "nationality": "text",
        "employer": "org_name",
        "job_title": "text",
        "industry_track": "choice",
        "field_of_work": "text",
    },
    "city": {
        "case_name": "text",
        "city": "text",
        "operator": "org_name",
        "operator_credit_code": "credit_code",
        "industry_track": "choice",
    },
    "product": {
        "product_name": "text",
        "product_category": "choice",
        "company_name": "org_name",
        "credit_code": "credit_code",
        "released_on": "date",
        "product_summary": "long_text",
    },
}
AWARD_FIELDS = {
    "enterprise_npf": ["high_tech", "high_efficiency", "high_quality", "innovation", "total_factor", "digital_intelligence"],
    "pioneer_engine": ["market_recognition", "industry_position", "team_strength", "social_responsibility", "policy_support"],
    "rising_potential": ["revenue_recent", "revenue_cagr", "growth", "financing_details", "rd_results", "business_model"],
    "pioneer_person": [
        "tech_innovation", "industry_influence", "market_recognition", "intellectual_property", "investment_financing",
        "team_leadership", "social_responsibility", "personal_character", "industry_contribution",
    ],
    "innovation_park": [
        "park_type", "innovation_elements", "industrial_layout", "industrial_projects", "industry_city_integration",
        "innovation_source", "talent_attraction",
    ],
    "innovation_district": ["development_stage", "urban_governance", "community_development", "outcomes"],
    "pioneer_product": ["innovativeness", "technology", "frontier", "applicability", "market_potential", "product_ip"],
}  # fmt: skip


@pytest.fixture(scope="module")
def forms(campaign: Campaign) -> dict[str, Form]:
    return load_forms(campaign, directory=shipped_edition().forms_dir)


def ids(form: Form) -> list[str]:
    return [slot.field.id for slot in form.fields()]


def file_ids(name: str) -> list[str]:
    """Field ids defined in one shipped form file, read straight from the YAML."""
    data = yaml.safe_load((shipped_edition().forms_dir / name).read_text(encoding="utf-8"))
    out = []
    for section in data.get("sections", []):
        for entry in section["fields"]:
            out += [f["id"] for f in entry["fields"]] if "fields" in entry else [entry["id"]]
    return out


# ------------------------------------------------------------------------------------------ shipped forms


def test_every_award_has_a_form(campaign: Campaign, forms: dict[str, Form]):
    assert tuple(forms) == AWARDS == tuple(a.id for a in campaign.awards)
    assert all(form.award_id == award_id for award_id, form in forms.items())


@pytest.mark.parametrize("award_id", AWARDS)
def test_form_is_common_then_group_then_award(campaign: Campaign, forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    group = campaign.award(award_id).group
    common, own_group, own_award = (
        file_ids("common.yaml"),
        file_ids(f"{group}.yaml"),
        file_ids(f"{award_id}.yaml"),
    )
    assert sorted(ids(form)) == sorted(common + own_group + own_award)
    assert len(set(ids(form))) == len(ids(form))
    for field_id, type_ in {**COMMON_FIELDS, **GROUP_FIELDS[group]}.items():
        assert form.field(field_id).type == type_, field_id
    assert set(AWARD_FIELDS[award_id]) <= set(own_award)
    sections = [s.id for s in form.sections]
    # Who is applying comes first, the award's own points before the projects, the declarations last.
    assert sections[:2] == ["basics", "contact"]
    assert sections[-4:] == ["projects", "risk", "materials", "declarations"]
    assert sections.index("award_criteria") == sections.index("projects") - 1


@pytest.mark.parametrize("award_id", AWARDS)
def test_every_field_speaks_both_languages_briefly(forms: dict[str, Form], award_id: str):
    for slot in forms[award_id].fields():
        field = slot.field
        assert field.label.zh and field.label.en and slot.section.title.zh and slot.section.title.en
        # A question on a phone: one short sentence.
        assert len(field.prompt.zh) <= 40 and len(field.prompt.en) <= 110, field.id
        assert len(re.findall(r"[。？！?]", field.prompt.zh.rstrip("。？！?"))) == 0, field.prompt.zh


def test_common_fields(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    assert [c.zh for c in form.field("nomination").choices] == ["自荐", "专家推荐"]
    for field_id in ("recommender_name", "recommender_position", "recommender_contact"):
        when = form.field(field_id).when
        assert when is not None and (when.field, when.equals) == ("nomination", "expert")
    assert [c.zh for c in form.field("region").choices] == ["境内", "境外"]
    assert [c.id for c in form.field("submission_language").choices] == ["zh", "en"]
    assert form.field("contact_name").real_name and form.field("recommender_name").real_name
    (projects,) = form.groups()
    assert (projects.id, projects.repeat.min, projects.repeat.max) == ("projects", 1, 5)
    assert [f.id for f in projects.fields] == [
        "project_name",
        "project_period",
        "project_investment",
        "project_results",
    ]
    for field_id in ("risk_tech_cooperation", "risk_patent_transfer", "risk_litigation"):
        assert form.field(field_id).required and form.check(field_id, "无").ok
    assert not form.field("materials_note").required and not form.field("attachments").required
    declarations = [s.field for s in form.fields() if s.section.id == "declarations"]
    assert len(declarations) == 5 and all(f.type == "consent" and f.required for f in declarations)


def test_choices_come_from_the_campaign(campaign: Campaign, forms: dict[str, Form]):
    tracks = [(t.id, t.name.zh, t.name.en) for t in campaign.tracks]
    for award_id in ("enterprise_npf", "pioneer_person", "innovation_park"):
        field = forms[award_id].field("industry_track")
        assert field.choices_from == "tracks"
        assert [(c.id, c.zh, c.en) for c in field.choices] == tracks
    categories = forms["pioneer_product"].field("product_category").choices
    assert [c.id for c in categories] == [c.id for c in campaign.product_categories]
    assert len(categories) == 10


def test_group_and_award_specifics(forms: dict[str, Form]):
    assert [c.zh for c in forms["innovation_park"].field("park_type").choices] == [
        "高新技术产业园区",
        "高新技术产业开发区",
        "国家自主创新示范区",
    ]
    assert [c.zh for c in forms["innovation_district"].field("development_stage").choices] == [
        "成熟",
        "建设中、初具形态",
    ]
    assert [c.zh for c in forms["pioneer_person"].field("id_type").choices] == ["居民身份证", "护照"]
    rating = [c.zh for c in forms["rising_potential"].field("innovation_rating").choices]
    assert {"高新技术企业", "专精特新", "专精特新“小巨人”", "其他", "无"} <= set(rating)
    for award_id, field_id in [
        ("enterprise_npf", "company_name"),
        ("enterprise_npf", "legal_representative"),
        ("pioneer_person", "person_name"),
        ("innovation_park", "operator"),
        ("pioneer_product", "company_name"),
    ]:
        assert forms[award_id].field(field_id).real_name, (award_id, field_id)


@pytest.mark.parametrize("award_id", AWARDS)
def test_limits_are_keyword_arguments_of_the_validator(forms: dict[str, Form], award_id: str):
    for slot in forms[award_id].fields():
        accepted = inspect.signature(CHECKS[slot.field.type]).parameters
        assert set(slot.field.limits) <= set(accepted), slot.field.id


# --------------------------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("award_id", "field_id", "hidden", "shown"),
    [
        ("enterprise_npf", "recommender_name", {"nomination": "self"}, {"nomination": "expert"}),
        ("enterprise_npf", "recommender_contact", {}, {"nomination": "expert"}),
        ("pioneer_product", "submission_language", {"region": "domestic"}, {"region": "overseas"}),
        ("pioneer_person", "id_number", {"id_type": "passport"}, {"id_type": "resident_id"}),
        ("pioneer_person", "passport_number", {"id_type": "resident_id"}, {"id_type": "passport"}),
        (
            "rising_potential",
            "innovation_rating_other",
            {"innovation_rating": ["high_tech"]},
            {"innovation_rating": ["high_tech", "other"]},
        ),
    ],
)
def test_conditional_fields_appear_only_when_their_condition_holds(
    forms: dict[str, Form], award_id: str, field_id: str, hidden: dict, shown: dict
):
    form = forms[award_id]
    assert not form.visible(field_id, {})
    assert not form.visible(form.field(field_id), hidden)
    assert form.visible(field_id, shown)


def test_unconditional_fields_are_always_visible(forms: dict[str, Form]):
    form = forms["pioneer_person"]
    assert all(form.visible(s.field, {}) for s in form.fields() if s.field.when is None)


def test_language_rule_follows_region_and_chosen_language(forms: dict[str, Form]):
    form = forms["pioneer_engine"]
    assert form.language_rule({}) is None
    assert form.language_rule({"region": "domestic"}).language == "zh"
    assert form.language_rule({"region": "overseas"}) is None
    assert form.language_rule({"region": "overseas", "submission_language": "en"}).language == "en"
    assert form.language_rule({"region": "overseas", "submission_language": "zh"}).language == "zh"
    # A language picked while 境外 and then left behind by switching to 境内 no longer counts.
    assert form.language_rule({"region": "domestic", "submission_language": "en"}).language == "zh"


# ---------------------------------------------------------------------------------------------- progress


def test_progress_counts_visible_fields(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    top = [s.field for s in form.fields() if s.group is None]
    (projects,) = form.groups()
    always = sum(f.when is None for f in top) + len(projects.fields)
    assert form.progress({}) == (0, always)
    assert form.progress({"nomination": "self"}) == (1, always)
    assert form.progress({"nomination": "expert"}) == (1, always + 3)
    assert form.progress({"nomination": "expert", "recommender_name": "李明华"}) == (2, always + 3)


def test_progress_of_a_complete_entry_is_full(forms: dict[str, Form]):
    for form in forms.values():
        done, total = form.progress(answers_for(form))
        assert done == total > 30


def test_progress_counts_each_project_and_skipped_optionals(forms: dict[str, Form]):
    form = forms["pioneer_product"]
    answers = answers_for(form, projects=2)
    one = answers_for(form)
    assert form.progress(answers)[1] == form.progress(one)[1] + 4
    answers["projects"][1].pop("project_results")
    done, total = form.progress(answers)
    assert done == total - 1
    one["materials_note"] = None  # skipped
    assert form.progress(one)[0] == form.progress(one)[1]
    one["contact_email"] = ""
    assert form.progress(one)[0] == form.progress(one)[1] - 1


# ------------------------------------------------------------------------------------------------- check


@pytest.mark.parametrize(("raw", "value"), [("是", True), ("同意", True), ("Yes", True), ("I agree", True), ("agree", True), ("否", False), ("不同意", False), ("no", False), (True, True)])  # fmt: skip
def test_consent_answers(forms: dict[str, Form], raw: Any, value: bool):
    checked = forms["enterprise_npf"].check("decl_no_fee", raw)
    assert checked.ok and checked.value is value


def test_consent_refuses_anything_else():
    checked = check_consent("也许吧", lang="en")
    assert not checked.ok and "agree" in checked.message and checked.error.zh.startswith("请回答")


def test_check_normalises_to_json_values(forms: dict[str, Form]):
    form = forms["rising_potential"]
    assert form.check("founded_on", "2018年5月20日", today=TODAY).value == "2018-05-20"
    assert form.check("rd_ratio", "百分之十二点五").value == "12.5"
    assert form.check("revenue_cagr", "180%").value == "180"
    assert form.check("rd_investment", "2000万元").value == 20_000_000
    assert form.check("project_period", "2022年1月至今").value == {"start": "2022-01", "end": None}
    assert form.check("innovation_rating", "1、3").value == ["high_tech", "little_giant"]
    assert form.check("industry_track", "新能源").value == "new_energy"
    assert form.check("nomination", "推荐").value == "expert"
    assert form.check("credit_code", CREDIT_CODE.lower()).value == CREDIT_CODE
    assert form.check("contact_mobile", "138 1234 5678").value == "+8613812345678"
    refused = form.check("credit_code", "91350100M000100Y44", lang="en")
    assert not refused.ok and "check character" in refused.message


def test_check_respects_limits_and_today(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    assert not form.check("founded_on", "2025-01-01", today=TODAY).ok  # not_future
    assert form.check("founded_on", "2024-09-30", today=TODAY).ok
    assert not form.check("employees", "0").ok  # min_value 1
    assert not form.check("high_tech", "很好").ok  # min_len 10
    assert not form.check("project_period", "1990.01-1995.01").ok  # min_year 2000


@pytest.mark.parametrize("award_id", AWARDS)
def test_stored_values_check_again_unchanged(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    answers = answers_for(form)
    for slot in form.fields():
        if slot.group is None and slot.field.id in answers:
            stored = answers[slot.field.id]
        elif slot.group is not None:
            stored = answers[slot.group.id][0][slot.field.id]
        else:
            continue
        assert form.check(slot.field, stored, today=TODAY).value == stored, slot.field.id


def test_check_refuses_a_value_of_the_wrong_shape(forms: dict[str, Form]):
    form = forms["enterprise_npf"]
    assert not form.check("employees", {"n": 3}).ok
    assert not form.check("company_name", True).ok


def test_file_list():
    files = [{"name": "产品手册.pdf", "size": 1024, "file_id": "abc", "extra": object()}]
    assert check_file_list(files).value == [{"name": "产品手册.pdf", "size": 1024, "file_id": "abc"}]
    assert not check_file_list([{"name": "video.mp4", "size": 21 * 1024 * 1024}]).ok
    assert not check_file_list([{"name": "a.pdf", "size": 1}] * 3, max_files=2).ok
    assert not check_file_list("https://example.com").ok


def test_unknown_field_is_a_key_error(forms: dict[str, Form]):
    with pytest.raises(KeyError, match="nickname"):
        forms["enterprise_npf"].field("nickname")


# ------------------------------------------------------------------------------------------ broken files


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(shipped_edition().forms_dir, tmp_path / "forms"))


def edit(directory: Path, name: str, change: Callable[[dict], Any]) -> int | None:
    """Apply `change` to one form file; return the line of the value it marks with 'MARK' (if any)."""
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text.replace("MARK", ""), encoding="utf-8")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if "MARK" in line]
    return lines[0] if lines else None


def fields_of(data: dict, section: int) -> list[dict]:
    return data["sections"][section]["fields"]


def set_in(target: dict, key: str, value: Any) -> None:
    target[key] = value


BROKEN = [
    pytest.param(
        "enterprise.yaml",
        lambda d: set_in(fields_of(d, 0)[1], "type", "telepathyMARK"),
        "sections[0].fields[1].type",
        "unknown type 'telepathy'",
        id="unknown-type",
    ),
    pytest.param(
        "enterprise_npf.yaml",
        lambda d: set_in(fields_of(d, 0)[2], "id", "contact_emailMARK"),
        "sections[0].fields[2].id",
        "duplicate field id 'contact_email', first defined in common.yaml sections[1].fields[3]",
        id="duplicate-id",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 0)[1]["when"], "field", "nomination_kindMARK"),
        "sections[0].fields[1].when.field",
        "'nomination_kind' is not an earlier field",
        id="when-unknown-field",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 0)[1], "when", {"field": "regionMARK", "equals": "overseas"}),
        "sections[0].fields[1].when.field",
        "it comes later",
        id="when-later-field",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 0)[1]["when"], "equals", "professorMARK"),
        "sections[0].fields[1].when.equals",
        "'professor' is not a choice of 'nomination'; choices: self, expert",
        id="when-unknown-choice",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 1)[1], "when", {"field": "contact_nameMARK", "equals": "x"}),
        "sections[1].fields[1].when.field",
        "'contact_name' is a person_name field; conditions need a choice",
        id="when-not-a-choice",
    ),
    pytest.param(
        "pioneer_engine.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "limits", {"min_lengthMARK": 10}),
        "sections[0].fields[0].limits.min_length",
        "long_text takes no limit 'min_length'; it accepts: min_len, max_len, languages, example",
        id="bad-limit-name",
    ),
    pytest.param(
        "pioneer_engine.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "limits", {"max_len": "longMARK"}),
        "sections[0].fields[0].limits.max_len",
        "invalid value 'long'",
        id="bad-limit-value",
    ),
    pytest.param(
        "pioneer_engine.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "limits", {"min_len": 50, "max_len": 10}),
        "sections[0].fields[0].limits.min_len",
        "min_len 50 is greater than max_len 10",
        id="limits-out-of-order",
    ),
    pytest.param(
        "pioneer_engine.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "limits", {"languages": ["fr"]}),
        "sections[0].fields[0].limits",
        "refused by the long_text validator: languages must be zh and/or en",
        id="limit-refused-by-validator",
    ),
    pytest.param(
        "person.yaml",
        lambda d: fields_of(d, 0)[1].pop("choices"),
        "sections[0].fields[1].choices",
        "a choice field needs choices or choices_from",
        id="choice-without-choices",
    ),
    pytest.param(
        "product.yaml",
        lambda d: set_in(fields_of(d, 0)[1], "choices_from", "planetsMARK"),
        "sections[0].fields[1].choices_from",
        "Input should be 'tracks', 'product_categories' or 'awards'",
        id="unknown-choices-from",
    ),
    pytest.param(
        "city.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "requried", False),
        "sections[0].fields[0].requried",
        "unknown key",
        id="misspelt-key",
    ),
    pytest.param(
        "city.yaml",
        lambda d: set_in(fields_of(d, 0)[0], "real_name", True),
        "sections[0].fields[0].real_name",
        "real_name applies to org_name and person_name",
        id="real-name-on-text",
    ),
    pytest.param(
        "innovation_park.yaml",
        lambda d: set_in(d["sections"][0], "before", "appendixMARK"),
        "sections[0].before",
        "unknown section 'appendix'",
        id="before-unknown-section",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 2)[0]["repeat"], "min", 9),
        "sections[2].fields[0].repeat",
        "min 9 is greater than max 5",
        id="repeat-out-of-order",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(fields_of(d, 2)[0]["fields"][0], "when", {"field": "region", "equals": "domestic"}),
        "sections[2].fields[0].fields[0].when",
        "a field inside the repeated group 'projects' cannot have a condition",
        id="condition-inside-group",
    ),
    pytest.param(
        "common.yaml",
        lambda d: set_in(d["language_rules"][0]["when"], "field", "countryMARK"),
        "language_rules[0].when.field",
        "'country' is not a field of this form",
        id="language-rule-unknown-field",
    ),
    pytest.param(
        "pioneer_product.yaml",
        lambda d: set_in(d["sections"][0], "id", "riskMARK"),
        "sections[0].id",
        "duplicate section id 'risk', first used in common.yaml sections[3]",
        id="duplicate-section",
    ),
    pytest.param(
        "enterprise.yaml",
        lambda d: set_in(fields_of(d, 0)[4], "entrant", True),
        "sections[0].fields[4].entrant",
        "'company_name' is already the entrant's name",
        id="two-entrant-names",
    ),
    pytest.param(
        "product.yaml",
        lambda d: (fields_of(d, 0)[0].pop("entrant"), set_in(fields_of(d, 0)[1], "entrant", True)),
        "sections[0].fields[1].entrant",
        "the entrant's name must be a required org_name, person_name, text field",
        id="entrant-name-a-choice",
    ),
    pytest.param(
        "enterprise.yaml",
        lambda d: set_in(fields_of(d, 0)[7], "agrees", {"at_most": "headcountMARK"}),
        "sections[0].fields[7].agrees.at_most",
        "'headcount' is not another field of this form",
        id="agrees-unknown-field",
    ),
    pytest.param(
        "enterprise.yaml",
        lambda d: set_in(fields_of(d, 0)[7], "agrees", {"at_most": "founded_onMARK"}),
        "sections[0].fields[7].agrees.at_most",
        "integer answers cannot be compared with date answers",
        id="agrees-incomparable",
    ),
    pytest.param(
        "enterprise.yaml",
        lambda d: set_in(fields_of(d, 0)[7], "agrees", {"not_after": "employeesMARK"}),
        "sections[0].fields[7].agrees.not_after",
        "integer answers agree by at_least, at_most, not not_after",
        id="agrees-wrong-relation",
    ),
]


def test_a_form_without_the_entrants_name_is_refused(campaign: Campaign, forms_dir: Path):
    edit(forms_dir, "city.yaml", lambda d: fields_of(d, 0)[0].pop("entrant"))
    with pytest.raises(FormError, match="innovation_park.yaml: no field says `entrant: true`"):
        load_form("innovation_park", campaign=campaign, directory=forms_dir)


@pytest.mark.parametrize("award_id", AWARDS)
def test_each_form_names_the_entrant_by_its_subject_field(forms: dict[str, Form], award_id: str):
    form = forms[award_id]
    subject = {"enterprise": "company_name", "person": "person_name", "city": "case_name", "product": "product_name"}
    assert form.entrant_field.id == subject[form.award.group]
    answers = answers_for(form)
    assert form.entrant_name(answers) == answers[form.entrant_field.id]
    assert form.entrant_name({}) is None


@pytest.mark.parametrize(("name", "change", "key", "message"), BROKEN)
def test_broken_form_file_is_refused_naming_file_and_key(
    campaign: Campaign, forms_dir: Path, name: str, change: Callable[[dict], Any], key: str, message: str
):
    line = edit(forms_dir, name, change)
    with pytest.raises(FormError) as caught:
        load_forms(campaign, directory=forms_dir)
    text = str(caught.value)
    where = f"{forms_dir / name}{f':{line}' if line else ''}"
    assert any(
        str(p).startswith(where) and f": {key}: " in str(p) and message in str(p)
        for p in caught.value.problems
    ), text
    assert all(str(p) in text for p in caught.value.problems)
    # common.yaml is part of every form, but its mistakes are reported once.
    assert len(caught.value.problems) == len(set(caught.value.problems))


def test_the_broken_award_alone_fails(campaign: Campaign, forms_dir: Path):
    edit(forms_dir, "rising_potential.yaml", lambda d: set_in(fields_of(d, 0)[0], "type", "telepathy"))
    assert load_form("pioneer_engine", campaign=campaign, directory=forms_dir).award_id == "pioneer_engine"
    with pytest.raises(FormError, match=r"rising_potential\.yaml:\d+: sections\[0\]\.fields\[0\]\.type"):
        load_form("rising_potential", campaign=campaign, directory=forms_dir)


def test_missing_file_and_unknown_award(campaign: Campaign, forms_dir: Path):
    (forms_dir / "city.yaml").unlink()
    with pytest.raises(FormError, match=r"city\.yaml: form file not found"):
        load_form("innovation_district", campaign=campaign, directory=forms_dir)
    with pytest.raises(FormError, match="unknown award 'best_startup'; known: enterprise_npf"):
        load_form("best_startup", campaign=campaign, directory=forms_dir)


def test_yaml_syntax_error_names_the_line(campaign: Campaign, forms_dir: Path):
    path = forms_dir / "product.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken = next(n for n, line in enumerate(lines) if "id: product_name" in line)
    lines[broken] += ": oops"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(FormError, match=rf"product\.yaml:{broken + 1}: YAML syntax error"):
        load_form("pioneer_product", campaign=campaign, directory=forms_dir)


def test_problems_in_several_files_are_all_reported(campaign: Campaign, forms_dir: Path):
    edit(forms_dir, "enterprise.yaml", lambda d: set_in(fields_of(d, 0)[1], "type", "telepathy"))
    edit(forms_dir, "person.yaml", lambda d: set_in(fields_of(d, 0)[3], "type", "telepathy"))
    with pytest.raises(FormError, match="2 problems") as caught:
        load_forms(campaign, directory=forms_dir)
    assert {p.path.name for p in caught.value.problems} == {"enterprise.yaml", "person.yaml"}


def test_models_refuse_unknown_keys():
    with pytest.raises(ValueError, match="extra"):
        Field.model_validate(
            {
                "id": "x",
                "type": "text",
                "label": {"zh": "x", "en": "x"},
                "prompt": {"zh": "x", "en": "x"},
                "hint": 1,
            }
        )
    with pytest.raises(ValueError, match="min 3 is greater than max 2"):
        FieldGroup.model_validate(
            {
                "id": "g",
                "label": {"zh": "g", "en": "g"},
                "prompt": {"zh": "g", "en": "g"},
                "more": {"zh": "g", "en": "g"},
                "repeat": {"min": 3, "max": 2},
                "fields": [],
            }
        )
