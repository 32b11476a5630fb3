"""Split a Document along its own structure: sections, subsections, numbered items and paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.ingest import Document

_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*$")
_ITEM = re.compile(r"^\s*[-*]\s+")
_SUB_ITEM = re.compile(r"^\s{2,}[-*]\s+")
# Paragraphs shorter than this are merged with the next unit: a lone "具体表现为：" answers nothing.
_MIN_UNIT = 12


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage with the metadata an answer cites."""

    id: str
    doc: str
    lang: str
    section: str
    title: str
    text: str
    position: int
    doc_title: str = ""

    @property
    def index_text(self) -> str:
        """What the index sees: the heading path gives short items their context ("截止" under 申报方式)."""
        heading = self.section if self.title == self.section else f"{self.section} {self.title}"
        return f"{heading}\n{_strip_markup(self.text)}"

    @property
    def plain_text(self) -> str:
        return _strip_markup(self.text)

    def metadata(self, *, digest: str) -> dict[str, str | int]:
        return {
            "doc": self.doc,
            "lang": self.lang,
            "section": self.section,
            "title": self.title,
            "position": self.position,
            "digest": digest,
        }


def chunk_document(document: Document) -> list[Chunk]:
    """Chunks in reading order: each list item (with its sub-items) and each paragraph is one passage."""
    section = title = document.title
    units: list[tuple[str, str, str]] = []  # (section, title, text)
    pending: list[str] = []

    def flush() -> None:
        if pending:
            units.append((section, title, "\n".join(pending)))
            pending.clear()

    for raw in document.text.splitlines():
        heading = _HEADING.match(raw)
        if heading:
            flush()
            level, text = len(heading.group(1)), heading.group(2)
            if level == 2:
                section = title = text
            elif level == 3:
                title = text
            continue
        if not raw.strip():
            flush()
        elif _SUB_ITEM.match(raw) and pending:
            pending.append(raw.strip())
        elif _ITEM.match(raw):
            flush()
            pending.append(raw.strip())
        else:
            if pending and _ITEM.match(pending[0]):
                flush()
            pending.append(raw.strip())
    flush()

    merged: list[tuple[str, str, str]] = []
    carry: tuple[str, str, str] | None = None
    for unit in units:
        if carry and carry[:2] == unit[:2]:
            unit = (unit[0], unit[1], f"{carry[2]}\n{unit[2]}")
        elif carry:
            merged.append(carry)
        carry = None
        if len(_strip_markup(unit[2])) < _MIN_UNIT and not _ITEM.match(unit[2]):
            carry = unit
        else:
            merged.append(unit)
    if carry:
        merged.append(carry)

    return [
        Chunk(id=f"{document.doc}:{document.lang}:{n:03d}", doc=document.doc, lang=document.lang,
              section=sec, title=ttl, text=text, position=n, doc_title=document.title)
        for n, (sec, ttl, text) in enumerate(merged)
    ]


def _strip_markup(text: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    return re.sub(r"^\s*[-*]\s+", "", text, flags=re.MULTILINE)
