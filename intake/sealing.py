"""Answers at rest: sensitive values are sealed (encrypted) on their way into a row and opened on the way out.

The boundary is a column type, `SealedAnswers`, used by every column that stores answers (Draft.answers,
Submission.answers). Whatever writes such a column, through the ORM or a Core insert, goes through it, so no code
path can store an identity number or a phone in clear; whatever reads the column gets the real values back. In
memory and in every function of the intake, answers are plain dicts.

A sealed value is stored in place of the answer as {"$sealed": "<Fernet token of its JSON>"}: the rest of the
snapshot stays readable for debugging and SQL, and opening needs no form (any envelope is opened, so a field
that stops being sensitive in a later edition still opens).

Opening and sealing run at every chat step, and a Fernet token costs far more than the rest of the step's
Python, so each Sealer remembers the tokens it opened (token -> JSON text, bounded), and sealing reuses the
envelope a row already holds for a value that did not change (`previous`). The remembered plain values stay in
the process's memory, beside the key that opens every row anyway, and are forgotten when an entrant's data is
erased or drafts are purged (`forget_opened`), so they do not outlive the rows. A reused envelope is only ever
the same row's own, so equal values in two rows never share a ciphertext; and none is reused while the keys are
being rotated (KCXF_DATA_KEY=NEW,OLD), when every write seals under NEW.

The process installs one Sealer (the data keys and the sensitive field ids of its forms) when it opens the
database: `bot.runtime.Runtime.sessionmaker()` does it. Writing or reading answers with none installed fails
loudly rather than storing clear text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Dialect
from sqlalchemy.types import TypeDecorator

from intake.data_keys import DataKeys

if TYPE_CHECKING:
    from collections.abc import Mapping
    from functools import _lru_cache_wrapper

__all__ = ["ENVELOPE", "SealedAnswers", "Sealer", "SealerMissing", "forget_opened", "install", "installed"]

ENVELOPE = "$sealed"
# Tokens remembered per Sealer: a few values per draft, for many more entrants than are ever mid-form at once.
OPENED_TOKENS = 8192


class SealerMissing(RuntimeError):
    """Answers were written or read before the process installed its Sealer."""


@dataclass(frozen=True)
class Sealer:
    """Seals the values of `fields` (at any depth) with `keys`; opens any sealed value."""

    keys: DataKeys
    fields: frozenset[str]
    _decrypt: _lru_cache_wrapper[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_decrypt", lru_cache(maxsize=OPENED_TOKENS)(self.keys.decrypt))

    def forget(self) -> None:
        """Drop every remembered plain value."""
        self._decrypt.cache_clear()

    @property
    def remembered(self) -> int:
        """How many opened tokens are remembered."""
        return self._decrypt.cache_info().currsize

    def seal(self, answers: Mapping[str, Any], previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A copy with every value of a sensitive field replaced by its envelope.

        `previous` is what the same row held (sealed): where a value is unchanged, its envelope is kept.
        """
        previous = previous if isinstance(previous, dict) else {}
        sealed = {}
        for key, value in answers.items():
            if key in self.fields:
                sealed[key] = self._seal_value(value, previous.get(key))
            elif isinstance(value, dict | list):  # most answers are text, which holds nothing to seal
                sealed[key] = self._seal_within(value, previous.get(key))
            else:
                sealed[key] = value
        return sealed

    def open(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """A copy with every envelope replaced by the value it holds."""
        return {key: self._open_within(value) if isinstance(value, dict | list) else value
                for key, value in answers.items()}

    def _seal_value(self, value: Any, previous: Any) -> Any:
        if value is None or _is_envelope(value):
            return value
        # With one key every envelope is under the current key; during a rotation it may be under the old one.
        if self.keys.count == 1 and _is_envelope(previous) and self._open_within(previous) == value:
            return previous
        return {ENVELOPE: self.keys.encrypt(json.dumps(value, ensure_ascii=False))}

    # Nested answers are dicts and lists, as JSON makes them; checking for those (not the Mapping ABC) first
    # keeps the walk cheap, and it runs on every read and write of a draft.
    def _seal_within(self, value: Any, previous: Any) -> Any:
        if isinstance(value, dict):
            return value if _is_envelope(value) else self.seal(value, previous)
        if isinstance(value, list):
            before = previous if isinstance(previous, list) else []
            return [self._seal_within(item, before[n] if n < len(before) else None) for n, item in enumerate(value)]
        return value

    def _open_within(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.loads(self._decrypt(value[ENVELOPE])) if _is_envelope(value) else self.open(value)
        if isinstance(value, list):
            return [self._open_within(item) for item in value]
        return value


def _is_envelope(value: Any) -> bool:
    # A validated answer is never a one-key mapping named "$sealed", whatever the entrant typed.
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(ENVELOPE), str)


_installed: Sealer | None = None


def install(sealer: Sealer | None) -> Sealer | None:
    """Make `sealer` the process's (None: none); returns the one it replaces, so a test can put it back."""
    global _installed
    previous, _installed = _installed, sealer
    return previous


def forget_opened() -> None:
    """Forget the plain values the installed Sealer remembers, if one is installed: after an erasure or a purge."""
    if _installed is not None:
        _installed.forget()


def installed() -> Sealer:
    """The process's Sealer; SealerMissing when the entry point has not installed one."""
    if _installed is None:
        raise SealerMissing(
            "answers are read or written before any data key is installed: open the database through "
            "bot.runtime.Runtime.sessionmaker(), or call intake.sealing.install(Sealer(...)) first"
        )
    return _installed


class SealedAnswers(TypeDecorator[dict[str, Any]]):
    """A JSON column of answers whose sensitive values are encrypted in the database and plain in Python."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else installed().seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dict[str, Any] | None:
        return None if value is None else installed().open(value)
