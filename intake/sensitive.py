"""Which answers are personal identifiers (PIPL), and how they are shown where they must not be read in full.

Answers of these types are encrypted at rest (intake.sealing), masked in staff lists and exports unless an
authorised person asks for them, and never logged: the code logs no answer, and `redact_logs()` (installed by the
entry points) masks anything shaped like an identity number or a phone number in a log line that slips through,
and removes bot tokens (a Bot API address holds the token).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intake.forms import Form

__all__ = [
    "FREE_TEXT_TYPES",
    "SENSITIVE_TYPES",
    "AnswerMask",
    "RedactingFilter",
    "mask",
    "mask_answers",
    "redact",
    "redact_logs",
    "redact_secrets",
    "sensitive_field_ids",
]

# Field types whose values identify or reach a person: encrypted at rest, masked in logs, lists and exports.
SENSITIVE_TYPES = frozenset({"id_number", "passport", "mobile"})
# Field types whose values are whatever the entrant typed: an identifier may be anywhere in them.
FREE_TEXT_TYPES = frozenset({"text", "long_text"})

# Shapes of identifiers in free text (log lines, questions people type). Generous on purpose: masking a number
# that was not personal costs nothing, missing one leaks it. Each stands alone, not inside a longer word/number.
_ALONE_BEFORE, _ALONE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
_IDENTIFIERS = re.compile(
    _ALONE_BEFORE
    + "(?:"
    + r"\d(?:[ -]?\d){16}[ -]?[\dXx]"  # PRC identity number, possibly typed in groups
    + r"|(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}"  # mainland mobile, with or without +86
    + r"|\+\d{1,3}(?:[ -]?\d){6,14}"  # international number, E.164 with optional spaces
    + r"|[A-Za-z]{1,2}\d{7,9}"  # passport: one or two letters and 7–9 digits (E12345678, G1234567)
    + ")"
    + _ALONE_AFTER
)


# Secrets that reach log lines inside addresses: a Telegram bot token (the bot's id, a colon, its secret), and
# whatever stands after /bot in a Bot API address (a short test token such as 123:TEST has no token shape).
_SECRETS = re.compile(r"\d{6,}:[A-Za-z0-9_-]{30,}|(?<=/bot)[^/\s?#]*:[^/\s?#]+")
SECRET_SHOWN = "<secret>"


def mask(value: str) -> str:
    """Keep enough to tell two values apart, hide the rest.

    A long identifier (an identity number) keeps its first 3 and last 4 characters: 110***********1234. A short
    one keeps only its end, the last 3 of a passport number (******678) and the last 4 of a phone number
    (*******5678): its beginning (a passport's letter, a carrier's prefix) would narrow it down too much.
    """
    text = str(value)
    if len(text) <= 4:
        return "*" * len(text)
    if len(text) >= 15:
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    tail = 3 if len(text) <= 9 else 4
    return "*" * (len(text) - tail) + text[-tail:]


def sensitive_field_ids(forms: Iterable[Form]) -> frozenset[str]:
    """The ids of every field, in any of the forms (groups included), whose type is sensitive."""
    return frozenset(
        slot.field.id for form in forms for slot in form.fields() if slot.field.type in SENSITIVE_TYPES
    )


def mask_answers(answers: Mapping[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """A copy of the answers with the values of `fields` masked, at any depth (repeatable groups too)."""
    return {key: _masked(value) if key in fields else _mask_within(value, fields) for key, value in answers.items()}


def _mask_within(value: Any, fields: frozenset[str]) -> Any:
    if isinstance(value, Mapping):
        return mask_answers(value, fields)
    if isinstance(value, list):
        return [_mask_within(item, fields) for item in value]
    return value


def _masked(value: Any) -> Any:
    if value is None or value == "":
        return value
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return mask(str(value))


@dataclass(frozen=True, slots=True)
class AnswerMask:
    """What staff who may not read identifiers see of answers, whatever form (or none) the answers belong to.

    A field that is sensitive in any form is masked; the text of free-text fields, and of answers to fields no
    form has (an older edition's, a retired award's), has every identifier-shaped string in it masked (an entrant
    may type a phone number into a description; an unknown field may have been a passport number).
    """

    sensitive: frozenset[str]
    known: frozenset[str]
    free_text: frozenset[str]

    @classmethod
    def of(cls, forms: Iterable[Form]) -> AnswerMask:
        """The mask for answers to any of these forms (pass every form of the configuration)."""
        fields = [slot.field for form in forms for slot in form.fields()]
        sensitive = frozenset(f.id for f in fields if f.type in SENSITIVE_TYPES)
        return cls(sensitive=sensitive, known=frozenset(f.id for f in fields),
                   free_text=frozenset(f.id for f in fields if f.type in FREE_TEXT_TYPES) - sensitive)

    def answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the answers as such staff see them, at any depth (repeatable groups too)."""
        return {key: self.value(key, value) for key, value in answers.items()}

    def value(self, key: str, value: Any) -> Any:
        """One answer as such staff see it."""
        if key in self.sensitive:
            return _masked(value)
        if key in self.free_text or key not in self.known:
            return _redacted(value, self)
        if isinstance(value, Mapping):
            return self.answers(value)
        if isinstance(value, list):
            return [self.answers(item) if isinstance(item, Mapping) else item for item in value]
        return value


def _redacted(value: Any, masking: AnswerMask) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: masking.value(str(k), v) if str(k) in masking.known else _redacted(v, masking)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item, masking) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):  # a phone number stored as a number
        shown = redact(str(value))
        return shown if shown != str(value) else value
    return value


def redact(text: str) -> str:
    """`text` with everything shaped like an identity number, passport number or phone number masked."""
    return _IDENTIFIERS.sub(lambda match: mask(match.group(0)), text)


def redact_secrets(text: str) -> str:
    """`text` with every bot token (alone or in a Bot API address) replaced by a placeholder."""
    return _SECRETS.sub(SECRET_SHOWN, text)


def _clean(text: str) -> str:
    # Secrets first: the identifier shapes would otherwise mask part of a token and leave the rest.
    return redact(redact_secrets(text))


class RedactingFilter(logging.Filter):
    """A handler filter that masks identifiers and removes bot tokens in the message, the traceback and the stack
    of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (every handler after this one sees the masked text); never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed call elsewhere: let the formatter report it as logging always does
            return True
        clean = _clean(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatted here (the formatter would do it later and cache it the same way) so it can be masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _clean(record.exc_text)
        if record.stack_info:
            record.stack_info = _clean(record.stack_info)
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Put a RedactingFilter on every handler of `logger` (the root logger by default); safe to call again."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
