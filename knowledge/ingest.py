"""Read a source file (Markdown, text, Word, PDF) into a Document of Markdown-like text with metadata."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from config.yaml_location import load_yaml
from knowledge.tokens import detect_lang

SUPPORTED = (".md", ".markdown", ".txt", ".docx", ".pdf")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)


@dataclass(frozen=True)
class Document:
    """One knowledge document in one language; `text` uses `#`/`##`/`###` headings and `- ` list items."""

    doc: str
    lang: str
    title: str
    text: str
    source: str

    @property
    def digest(self) -> str:
        """Content hash: re-indexing skips a document whose hash is unchanged."""
        return hashlib.sha256(f"{self.doc}\n{self.lang}\n{self.title}\n{self.text}".encode()).hexdigest()[:16]


class IngestError(ValueError):
    """A file that cannot become a knowledge document, with the reason."""


class NoTextError(IngestError):
    """A readable file with no text in it (an empty document, a PDF of scanned images)."""


def read_document(path: Path) -> Document:
    """Load one file; the document id, language and title come from front matter or are derived."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise IngestError(f"{path}: unsupported type {suffix!r}; use one of {', '.join(SUPPORTED)}")
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
    if suffix == ".docx":
        text = _docx_text(path)
    elif suffix == ".pdf":
        text = _pdf_text(path)
    else:
        text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = {str(k): str(v) for k, v in (load_yaml(match.group(1)) or {}).items()}
        text = text[match.end() :]
    text = _clean(text)
    if not text.strip():
        raise NoTextError(f"{path}: no text found")
    title = meta.get("title") or _first_heading(text) or path.stem
    lang = meta.get("lang") or detect_lang(text[:2000])
    return Document(doc=meta.get("doc") or path.stem, lang=lang, title=title, text=text, source=str(path))


def _docx_text(path: Path) -> str:
    from docx import Document as Docx  # imported here: only maintainers ingesting Word files pay for it

    lines = []
    for para in Docx(str(path)).paragraphs:
        style = (para.style.name or "").lower() if para.style is not None else ""
        text = para.text.strip()
        if not text:
            continue
        level = re.search(r"heading (\d)", style)
        if style == "title":
            lines.append(f"# {text}")
        elif level:
            lines.append("#" * min(int(level.group(1)) + 1, 3) + " " + text)
        elif "list" in style:
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return "\n\n".join(lines)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return "\n\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\u3000", " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _first_heading(text: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None
