"""Which answers are personal identifiers (PIPL), and how they are shown where they must not be read in full."""

from __future__ import annotations

__all__ = ["SENSITIVE_TYPES", "mask"]

# Field types whose values identify or reach a person: encrypted at rest, masked in logs, lists and exports.
SENSITIVE_TYPES = frozenset({"id_number", "passport", "mobile"})


def mask(value: str) -> str:
    """Keep enough to tell two values apart, hide the rest: 110101********1234 → 110***********1234."""
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    head = 3 if len(text) > 8 else 1
    return text[:head] + "*" * (len(text) - head - 4) + text[-4:]
