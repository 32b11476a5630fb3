"""Properties of every field validator and of `Form.check` on arbitrary, hostile and malformed input."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.forms import Field, Form
from intake.validation import VALIDATORS, Checked, Choice
from tests.shipped import shipped_forms

TODAY = date(2024, 10, 1)
KB100 = 100 * 1024

# Strings people (and attackers) really send, and the malformed numbers and dates a form meets.
NASTY = [
    "'; DROP TABLE users;--",
    "<script>alert(1)</script>",
    "\" OR 1=1 --",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "2024-13-45",
    "2024-02-30",
    "0000-00-00",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "０x1F",
    "0x1F",
    "--5",
    "5..5",
    "1,2,3,4",
    "１２３４５",
    "１２.５％",
    "９９９９９９９９９９９９９９９９９９９９９９万亿",
    "二十五",
    "负一百",
    "2021.03-2024.13",
    "2024年13月",
    "+86 ",
    "@",
    "http://",
    "https://127.0.0.1/",
    "\x00",
    "\u200b",
    "\u202e",
    "👩‍💻🚀",
    " \n\t ",
    "",
    "99999999999999999999999999999999999999999999",
    "1" * 400,
]
FULL_WIDTH_DIGITS = st.text(alphabet="０１２３４５６７８９．，％－", min_size=1, max_size=20)
RAW = st.one_of(
    st.text(),
    st.sampled_from(NASTY),
    FULL_WIDTH_DIGITS,
    st.tuples(st.sampled_from(NASTY), st.text(max_size=20)).map("".join),
)
LANG = st.sampled_from(["zh", "en"])

OPTIONS = (
    Choice.of("ai", "人工智能", "Artificial intelligence"),
    Choice.of("robotics", "机器人/智能制造", "Robotics / smart manufacturing", "机器人"),
    Choice.of("bio", "生物医药", "Biomedicine"),
)
# What each validator needs besides the raw answer, with the limits at their defaults.
NEEDS: dict[str, dict[str, Any]] = {
    "choice": {"options": OPTIONS},
    "choices": {"options": OPTIONS},
    "date": {"today": TODAY},
    "id_number": {"today": TODAY},
}
TEXT_TYPES = {"text", "long_text"}
DEFAULT_MAX = {"text": 200, "long_text": 2000}
# No normalised value of a non-text type comes anywhere near this (a credit code is 18, an e-mail 254).
SHORT_VALUE = 2100


def _forms() -> dict[str, Form]:
    return shipped_forms()


FORMS = _forms()


def _distinct_fields() -> list[tuple[str, Field]]:
    """One field per distinct (type, limits, choices) across all forms; the others check the same way."""
    seen: dict[str, tuple[str, Field]] = {}
    for award_id, form in FORMS.items():
        for slot in form.fields():
            field = slot.field
            key = json.dumps([field.type, field.limits, [c.id for c in field.choices]], default=str)
            seen.setdefault(key, (award_id, field))
    return list(seen.values())


FIELDS = _distinct_fields()


def _check(kind: str, raw: str, lang: str) -> Checked[Any]:
    return VALIDATORS[kind](raw, lang=lang, **NEEDS.get(kind, {}))


def _assert_refusal(checked: Checked[Any], *, examples: bool) -> None:
    assert checked.error is not None
    assert checked.error.zh.strip() and checked.error.en.strip(), checked.error
    assert checked.message
    if examples:
        assert "例如：" in checked.error.zh and "Example: " in checked.error.en, checked.error


# A refusal fits in one chat message (Telegram's limit is 4096 characters) and quotes a snippet at most.
MAX_MESSAGE = 1000
# Known bug (see test_choices_refusal_of_100kb_quotes_a_snippet): check_choices quotes every unknown token.
QUOTES_EVERYTHING = {"choices"}


def _assert_short_refusal(checked: Checked[Any]) -> None:
    assert checked.error is not None
    assert len(checked.error.zh) <= MAX_MESSAGE and len(checked.error.en) <= MAX_MESSAGE, checked.error.zh[:200]


def _assert_limits(kind: str, value: Any, limits: dict[str, Any]) -> None:
    if kind in TEXT_TYPES:
        assert isinstance(value, str)
        assert len(value) <= limits.get("max_len", DEFAULT_MAX[kind])
        assert len(value) >= limits.get("min_len", 1)
    else:
        assert len(json.dumps(value, ensure_ascii=False, default=str)) <= SHORT_VALUE


# --------------------------------------------------------------------------------------- raw validators


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
@settings(max_examples=200, deadline=None)
@given(raw=RAW, lang=LANG)
def test_validator_never_raises_and_explains_refusals(kind: str, raw: str, lang: str):
    checked = _check(kind, raw, lang)
    assert isinstance(checked, Checked)
    assert checked.lang == lang
    if not checked.ok:
        assert checked.value is None
        _assert_refusal(checked, examples=True)
        return
    assert checked.error is None and checked.message is None
    _assert_limits(kind, checked.value, {})
    if isinstance(checked.value, str):
        # A normalised text is itself an answer that normalises to the same text.
        again = _check(kind, checked.value, lang)
        assert again.ok and again.value == checked.value, (raw, checked.value, again)


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
@settings(max_examples=200, deadline=None)
@given(raw=RAW, lang=LANG)
def test_refusal_example_is_accepted_by_the_same_validator(kind: str, raw: str, lang: str):
    checked = _check(kind, raw, lang)
    if checked.ok:
        return
    assert checked.error is not None
    example_zh = checked.error.zh.rsplit("例如：", 1)[1]
    assert _check(kind, example_zh, "zh").ok, (raw, checked.error.zh)


@pytest.mark.parametrize("kind", sorted(VALIDATORS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(NASTY[:5] + ["１", "人工智能", "a"])))
def test_validator_refuses_or_bounds_100kb(kind: str, unit: str):
    raw = (unit * (KB100 // len(unit) + 1))[:KB100]
    checked = _check(kind, raw, "zh")
    if checked.ok:
        _assert_limits(kind, checked.value, {})
        assert checked.value != raw
    else:
        _assert_refusal(checked, examples=True)
        if kind not in QUOTES_EVERYTHING:
            _assert_short_refusal(checked)


def test_choices_refusal_of_100kb_quotes_a_snippet():
    """Regression: check_choices used to quote every unknown item, a 200 KB message for a 100 KB answer."""
    checked = _check("choices", ("0," * KB100)[:KB100], "zh")
    assert not checked.ok
    _assert_short_refusal(checked)


@settings(max_examples=200, deadline=None)
@given(number=st.integers(min_value=0, max_value=10**12), lang=LANG)
def test_full_width_digits_read_like_ascii_digits(number: int, lang: str):
    full = str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for kind in ("integer", "money", "year"):
        ascii_result, full_result = _check(kind, str(number), lang), _check(kind, full, lang)
        assert ascii_result.ok == full_result.ok, (kind, number)
        assert ascii_result.value == full_result.value, (kind, number)


# ----------------------------------------------------------------------------------------- Form.check


@pytest.mark.parametrize(("award_id", "field"), FIELDS, ids=[f"{a}.{f.id}" for a, f in FIELDS])
@settings(max_examples=40, deadline=None)
@given(raw=RAW, lang=LANG)
def test_form_check_stores_json_and_rechecks_to_the_same_value(award_id: str, field: Field, raw: str, lang: str):
    form = FORMS[award_id]
    checked = form.check(field, raw, lang=lang, today=TODAY)
    if not checked.ok:
        _assert_refusal(checked, examples=field.type != "file_list")
        return
    stored = json.loads(json.dumps(checked.value, ensure_ascii=False))
    assert stored == checked.value
    _assert_limits(field.type, stored, field.limits)
    again = form.check(field, stored, lang=lang, today=TODAY)
    assert again.ok and again.value == stored, (raw, stored, again)


@pytest.mark.parametrize(("award_id", "field"), FIELDS, ids=[f"{a}.{f.id}" for a, f in FIELDS])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.sampled_from(["a", "中", "１", "人工智能,", "<script>", "2024-01-01 ", "13812345678"]))
def test_form_check_refuses_or_bounds_100kb(award_id: str, field: Field, unit: str):
    raw = (unit * (KB100 // len(unit) + 1))[:KB100]
    checked = FORMS[award_id].check(field, raw, today=TODAY)
    if checked.ok:
        _assert_limits(field.type, checked.value, field.limits)
    else:
        _assert_refusal(checked, examples=field.type != "file_list")
        if field.type not in QUOTES_EVERYTHING:
            _assert_short_refusal(checked)


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.dictionaries(st.text(), st.text()),
                       st.lists(st.integers()), st.binary()))
def test_form_check_of_a_shape_no_field_stores_is_refused_not_raised(value: Any):
    for award_id, field in FIELDS[::7]:
        checked = FORMS[award_id].check(field, value, today=TODAY)
        if not checked.ok:
            _assert_refusal(checked, examples=False)


@pytest.mark.parametrize("raw", ["A://[", "https://[::1", "http://[x]/"])
def test_url_with_a_broken_bracket_is_refused_not_raised(raw: str):
    """Regression: urlsplit raised "Invalid IPv6 URL" out of check_url."""
    checked = VALIDATORS["url"](raw, lang="zh")
    assert not checked.ok and checked.error is not None and "例如：" in checked.error.zh
