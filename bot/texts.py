"""Every user-facing string, from prompts/<lang>.yaml; all languages share the same keys and placeholders."""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.language import LANGS
from config.yaml_location import load_yaml

__all__ = ["PROMPTS_DIR", "Texts", "TextsError"]

log = logging.getLogger(__name__)

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class TextsError(ValueError):
    """The prompt files disagree or are malformed; the message names every offending key."""


class Texts:
    """Look up a text by dotted key and language, filling in its {placeholders}."""

    def __init__(self, catalog: Mapping[str, Mapping[str, str]]) -> None:
        _check(catalog)
        self._catalog = {lang: dict(entries) for lang, entries in catalog.items()}

    @classmethod
    def load(cls, directory: Path = PROMPTS_DIR, *, langs: Iterable[str] = LANGS) -> Texts:
        """Read <directory>/<lang>.yaml for each language; TextsError if they do not match."""
        catalog = {lang: _read(Path(directory) / f"{lang}.yaml") for lang in langs}
        texts = cls(catalog)
        log.debug("loaded %d texts in %s from %s", len(texts.keys()), ", ".join(catalog), directory)
        return texts

    @property
    def langs(self) -> tuple[str, ...]:
        """The languages loaded."""
        return tuple(self._catalog)

    def keys(self) -> frozenset[str]:
        """Every dotted key (the same in each language)."""
        return frozenset(next(iter(self._catalog.values()), {}))

    def t(self, key: str, lang: str, **vars: object) -> str:
        """The text for `key` in `lang`, `vars` filled in; KeyError for an unknown key, language or var."""
        try:
            entries = self._catalog[lang]
        except KeyError:
            raise KeyError(f"no texts in language {lang!r} (have: {', '.join(self._catalog)})") from None
        try:
            template = entries[key]
        except KeyError:
            raise KeyError(f"unknown text key {key!r}") from None
        try:
            return template.format_map(vars)
        except KeyError as exc:
            raise KeyError(f"text {key!r} needs the variable {exc.args[0]!r}") from None


def _read(path: Path) -> dict[str, str]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TextsError(f"{path}: top level must be a mapping, found {type(data).__name__}")
    flat: dict[str, str] = {}
    _flatten(data, prefix="", out=flat, path=path)
    return flat


def _flatten(node: Mapping[Any, Any], *, prefix: str, out: dict[str, str], path: Path) -> None:
    for name, value in node.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            _flatten(value, prefix=f"{key}.", out=out, path=path)
        elif isinstance(value, str):
            out[key] = value
        else:
            raise TextsError(f"{path}: {key} must be a text or a mapping, found {type(value).__name__}")


def _placeholders(template: str) -> frozenset[str]:
    """Root names of the {fields} in a format string; ValueError if it is malformed or positional."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is None:
            continue
        root = field.split(".", 1)[0].split("[", 1)[0]
        if not root.isidentifier():
            raise ValueError(f"placeholder {{{field}}} must be a name")
        names.add(root)
    return frozenset(names)


def _check(catalog: Mapping[str, Mapping[str, str]]) -> None:
    problems: list[str] = []
    all_keys = set().union(*(entries.keys() for entries in catalog.values())) if catalog else set()
    for lang, entries in catalog.items():
        missing = sorted(all_keys - entries.keys())
        if missing:
            problems.append(f"{lang} lacks {', '.join(missing)}")
    for key in sorted(all_keys):
        fields: dict[str, frozenset[str]] = {}
        for lang, entries in catalog.items():
            if key not in entries:
                continue
            try:
                fields[lang] = _placeholders(entries[key])
            except ValueError as exc:
                problems.append(f"{lang} {key}: {exc}")
        if len(set(fields.values())) > 1:
            detail = "; ".join(f"{lang} has {{{', '.join(sorted(f)) or '-'}}}" for lang, f in fields.items())
            problems.append(f"{key}: placeholders differ ({detail})")
    if problems:
        raise TextsError("prompt texts do not match:\n  " + "\n  ".join(problems))
