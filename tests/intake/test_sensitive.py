"""Masking keeps a value recognisable to its owner without disclosing it."""

import pytest

from intake.sensitive import SENSITIVE_TYPES, mask


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("110101199003074578", "110***********4578"),
        ("+8613812345678", "+86*******5678"),
        ("13812345678", "138****5678"),
        ("E12345678", "E12**5678"),
        ("G1234567", "G***4567"),
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
