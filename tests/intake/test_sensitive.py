"""Masking keeps a value recognisable to its owner without disclosing it."""

import pytest

from intake.sensitive import SENSITIVE_TYPES, mask


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("110101199003074578", "110***********4578"),
        ("+8613812345678", "**********5678"),
        ("13812345678", "*******5678"),
        ("E12345678", "******678"),
        ("G1234567", "*****567"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_hides_the_middle(value: str, shown: str) -> None:
    assert mask(value) == shown
    assert len(mask(value)) == len(value)


def test_identity_and_phone_types_are_sensitive() -> None:
    assert {"id_number", "passport", "mobile"} <= SENSITIVE_TYPES
    assert "email" not in SENSITIVE_TYPES


@pytest.mark.parametrize("value", ["E12345678", "G1234567", "13812345678", "+8613812345678", "+447700900123"])
def test_a_short_identifier_shows_at_most_its_last_4_characters(value: str) -> None:
    shown = mask(value)
    kept = shown.lstrip("*")
    assert len(kept) <= 4 and value.endswith(kept) and len(shown) == len(value)
