"""The README stays a front door and docs/ stays whole: links resolve, every setting and command is documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from bot.cli import app
from config.settings import PROJECT_ROOT, Settings

README = PROJECT_ROOT / "README.md"
DOCS = PROJECT_ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_LIMIT = 8 * 1024

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, tg:


def _prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are code, not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped (CJK kept), spaces to hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _HEADING.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _relative_links() -> Iterator[tuple[Path, str]]:
    for page in PAGES:
        for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
            if not _EXTERNAL.match(target):
                yield page, target


def test_the_pages_have_relative_links_to_check():
    # A parser that finds nothing would pass every check below.
    assert sum(1 for page, _ in _relative_links() if page == README) >= 5


@pytest.mark.parametrize(("page", "target"), list(_relative_links()),
                         ids=lambda value: value.name if isinstance(value, Path) else value)
def test_a_relative_link_reaches_a_file_and_its_heading(page: Path, target: str):
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    assert file.exists(), f"{page.name}: {target} names no file"
    assert file.is_relative_to(PROJECT_ROOT), f"{page.name}: {target} leaves the repository"
    if anchor:
        assert file.suffix == ".md", f"{page.name}: {target}: an anchor into a file that is not Markdown"
        assert anchor in _anchors(file), f"{page.name}: {target}: {file.name} has no heading with that anchor"


def test_the_readme_fits_on_a_screen_or_two():
    size = len(README.read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move detail to docs/ (limit {README_LIMIT})"


def test_the_readme_keeps_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text


def _docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md")))


def test_every_setting_is_documented_in_docs():
    docs = _docs_text()
    missing = [f"KCXF_{name.upper()}" for name in Settings.model_fields if f"KCXF_{name.upper()}" not in docs]
    assert not missing, f"settings not documented in docs/: {missing}"


def _commands(group: Any, prefix: str) -> Iterator[str]:
    """Every leaf command's full name (typer's groups, whichever click they are built on, have `commands`)."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_command_is_documented():
    commands = list(_commands(typer.main.get_command(app), "kcxf"))
    assert "kcxf kb faq sync" in commands  # the walk reaches nested groups
    text = README.read_text(encoding="utf-8") + _docs_text()
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"commands with no `kcxf …` line in README.md or docs/: {missing}"
