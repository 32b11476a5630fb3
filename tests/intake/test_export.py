"""Masking of sensitive answers (top-level and inside repeated groups) and the flattening of exports."""

from __future__ import annotations

from config.campaign import Campaign
from intake.export import export_rows
from intake.forms import load_forms
from intake.sensitive import mask, mask_answers, sensitive_field_ids
from tests.intake.factories import ID_NUMBER, answers_for
from tests.shipped import shipped_edition


def test_sensitive_answers_are_masked_and_nothing_else(campaign: Campaign):
    form = load_forms(campaign, directory=shipped_edition().forms_dir)["pioneer_person"]
    answers = answers_for(form, typed={"nomination": "专家推荐"})
    masked = mask_answers(answers, sensitive_field_ids([form]))
    assert masked["id_number"] == mask(ID_NUMBER) != ID_NUMBER
    assert masked["contact_mobile"] == mask(answers["contact_mobile"])
    assert masked["recommender_contact"] == mask(answers["recommender_contact"])
    unchanged = {k for k in answers if k not in {"id_number", "contact_mobile", "recommender_contact"}}
    assert {k: masked[k] for k in unchanged} == {k: answers[k] for k in unchanged}
    assert answers["id_number"] == ID_NUMBER  # the record's own answers are left alone


def test_export_rows_flatten_groups_and_keep_a_header_when_empty(campaign: Campaign):
    assert export_rows([])[0][:2] == ["reference", "award_id"]
    columns, rows = export_rows([{"reference": "R", "answers": {"projects": [{"project_name": "A"}, {"project_name": "B"}]}}])
    assert columns == ["reference", "answers.projects.1.project_name", "answers.projects.2.project_name"]
    assert rows[0]["answers.projects.2.project_name"] == "B"
