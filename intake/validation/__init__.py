"""Field validation for the intake: each check turns a raw chat answer into a normalised value or a reason.

The checks live by kind: `text` (free text and its script), `choices`, `numbers` (counts, money, percentages),
`dates`, `identity` (credit codes, identity and passport numbers), `names` (people and organisations) and
`contact` (mobiles, e-mail, links); `checked` holds the result type they share. Form definitions name a
check by its field type, a key of `VALIDATORS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from intake.validation.checked import Checked
from intake.validation.choices import Choice, Option, check_choice, check_choices
from intake.validation.contact import check_email, check_mobile, check_url, format_mobile
from intake.validation.dates import Period, YearMonth, check_date, check_period, check_year
from intake.validation.identity import check_credit_code, check_id_number, check_passport
from intake.validation.names import check_org_name, check_person_name
from intake.validation.numbers import check_integer, check_money, check_percentage
from intake.validation.text import Script, check_long_text, check_text, detect_script, is_chinese_text

__all__ = [
    "VALIDATORS",
    "Checked",
    "Choice",
    "Option",
    "Period",
    "Script",
    "Validator",
    "YearMonth",
    "check_choice",
    "check_choices",
    "check_credit_code",
    "check_date",
    "check_email",
    "check_id_number",
    "check_integer",
    "check_long_text",
    "check_mobile",
    "check_money",
    "check_org_name",
    "check_passport",
    "check_percentage",
    "check_period",
    "check_person_name",
    "check_text",
    "check_url",
    "check_year",
    "detect_script",
    "format_mobile",
    "is_chinese_text",
]


# Every check_* takes (raw, *, lang="zh", **limits); the limits differ by type, hence the loose signature.
Validator = Callable[..., Checked[Any]]

_REGISTRY: dict[str, Validator] = {
    "text": check_text,
    "long_text": check_long_text,
    "choice": check_choice,
    "choices": check_choices,
    "integer": check_integer,
    "money": check_money,
    "percentage": check_percentage,
    "date": check_date,
    "year": check_year,
    "period": check_period,
    "mobile": check_mobile,
    "email": check_email,
    "url": check_url,
    "credit_code": check_credit_code,
    "id_number": check_id_number,
    "passport": check_passport,
    "person_name": check_person_name,
    "org_name": check_org_name,
}
# Field types as the form definitions name them; the intake looks a field's validator up here.
VALIDATORS: Mapping[str, Validator] = MappingProxyType(_REGISTRY)
