"""The generated 申报表: one entry's answers as a Word document the committee can read, print and file.

`render_form` is a pure function of its inputs (no database, no clock) that writes one .docx into `out_dir`;
callers on the event loop run it through `asyncio.to_thread`. Labels, choices and the order of sections come from
the form data, so a new edition's form renders without code changes.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from copy import deepcopy
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Row
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from config import Award, Campaign, Localized
from intake.forms import CHOICE_TYPES, Field, FieldGroup, Form, Section, is_empty
from intake.validation import format_mobile

__all__ = ["form_filename", "format_value", "render_form"]

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Asia/Shanghai")

# A .docx only names its fonts; the reader's machine supplies them. Noto Sans CJK SC is the same design as
# Source Han Sans SC (思源黑体) and is what LibreOffice finds on Linux (fonts-noto-cjk); Word on Windows or macOS
# without it substitutes its own CJK sans (Microsoft YaHei / 等线, PingFang SC), which keeps the layout.
FONT = "Noto Sans CJK SC"
BODY_SIZE = Pt(10.5)  # 五号, the size of body text on Chinese official forms
LABEL_SHADE = "E7E6E6"
GREY = RGBColor(0x59, 0x59, 0x59)

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)
MARGIN_TOP = MARGIN_BOTTOM = Cm(2.5)
MARGIN_SIDE = Cm(2.3)
TEXT_WIDTH = Emu(PAGE_WIDTH - 2 * MARGIN_SIDE)
LABEL_WIDTH = Emu(int(TEXT_WIDTH * 0.3))
VALUE_WIDTH = Emu(TEXT_WIDTH - LABEL_WIDTH)

# ext4, APFS and NTFS allow 255 bytes or UTF-16 units per name; the margin leaves room for the temporary
# suffix and for a caller that adds a copy number. Entrant names are capped in characters too, for MAX_PATH.
_MAX_NAME_BYTES = 200
_MAX_ENTRANT_CHARS = 80
_RESERVED = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
# Characters XML 1.0 cannot hold; python-docx refuses them, and an applicant can paste them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip

_T = {
    "title": Localized(zh="{name}申报表", en="{name} Application Form"),
    "award": Localized(zh="申报类别", en="Award"),
    "reference": Localized(zh="申报编号", en="Reference"),
    "submitted": Localized(zh="提交时间", en="Submitted"),
    "subject": Localized(zh="邮件标题", en="Mail subject"),
    "empty": Localized(zh="（未填写）", en="(not given)"),
    "confirmed": Localized(zh="已确认", en="Confirmed"),
    "not_confirmed": Localized(zh="未确认", en="Not confirmed"),
    "present": Localized(zh="至今", en="present"),
    "all_declared": Localized(
        zh="申报方已逐项确认以上全部声明。", en="The entrant has accepted each of the declarations above."
    ),
    "not_declared": Localized(
        zh="申报方尚未确认全部声明。", en="The entrant has not yet accepted all of the declarations."
    ),
    "entrant": Localized(zh="参选者", en="Entrant"),
    "date": Localized(zh="申报日期", en="Date of entry"),
    "not_submitted": Localized(zh="（尚未提交）", en="(not submitted yet)"),
    "unnamed": Localized(zh="未命名参选者", en="Unnamed entrant"),
    "page": Localized(zh="第 {page} 页，共 {pages} 页", en="Page {page} of {pages}"),
}


def form_filename(award: Award, entrant_name: str | None) -> str:
    """申报类别+参选者名称.docx, safe as a file name on every OS (no separators, controls or reserved characters)."""
    award_part = _name_part(award.name.zh) or award.id
    entrant = _name_part(entrant_name or "")[:_MAX_ENTRANT_CHARS].rstrip(" .") or _T["unnamed"].zh
    budget = _MAX_NAME_BYTES - len(f"{award_part}+.docx".encode())
    while len(entrant.encode()) > budget and len(entrant) > 1:
        entrant = entrant[:-1].rstrip(" .") or entrant[:1]
    stem = f"{award_part}+{entrant}"
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    return f"{stem}.docx"


def _name_part(text: str) -> str:
    # NFC, so the same name typed on macOS (NFD) and elsewhere gives the same file; format characters go too,
    # since a right-to-left override can make "申报表.docx" display as something else.
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C") or ch.isspace())
    text = _RESERVED.sub("_", text)
    text = " ".join(text.split())
    # A leading dot hides the file on Unix; Windows drops trailing dots and spaces and then finds no file.
    return text.strip(" .")


def render_form(
    *,
    form: Form,
    answers: Mapping[str, Any],
    campaign: Campaign,
    reference: str | None,
    submitted_at: datetime | None,
    out_dir: Path,
    lang: str = "zh",
) -> Path:
    """Write the entry's 申报表 as `out_dir`/申报类别+参选者名称.docx (replacing one of that name) and return its path."""
    if submitted_at is not None and (submitted_at.tzinfo is None or submitted_at.utcoffset() is None):
        raise ValueError("submitted_at must be timezone-aware")
    document = _Renderer(
        form=form,
        answers=answers,
        campaign=campaign,
        reference=reference,
        submitted_at=submitted_at,
        lang=lang,
    ).build()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = form_filename(form.award, form.entrant_name(answers))
    target = out_dir / name
    # form_filename already makes this impossible; checked again because a path outside out_dir would be a leak.
    if Path(name).name != name or target.resolve().parent != out_dir.resolve():
        raise ValueError(f"refusing to write {name!r} outside {out_dir}")
    _save(document, target)
    log.debug("rendered %s for %s", target, form.award_id)
    return target


def _save(document: DocxDocument, target: Path) -> None:
    # Written beside the target and renamed, so a mailer or download never sees half a file.
    # (Not mkstemp: its 0600 mode would lock the form away from a console running as another user.)
    temp = target.with_name(f".{secrets.token_hex(8)}.docx.part")
    try:
        document.save(temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------------------------- values


# What fits on one centred 12 pt subtitle line, in units of half a CJK character (see _width).
_SUBTITLE_WIDTH = 72


def _width(text: str) -> float:
    """Rough printed width in half-CJK-character units: wide characters count 2, Latin letters about 1.1."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in text)


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise TypeError("not a number")
    return Decimal(str(value))


def _plain(value: Any) -> str:
    """Any stored value as readable text, for a shape the field's type does not expect."""
    if isinstance(value, list | tuple):
        return "、".join(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return "；".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


def _date_text(day: date, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return f"{day.year} 年 {day.month} 月 {day.day} 日"


def _month_text(value: Any, lang: str) -> str:
    if value is None:
        return _T["present"].get(lang)
    year, month = (int(part) for part in str(value).split("-"))
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    return f"{_MONTHS[month - 1]} {year}" if lang == "en" else f"{year} 年 {month} 月"


def _money(value: Any, lang: str) -> str:
    yuan = int(_decimal(value))
    if lang == "en":
        text = f"RMB {yuan:,}"
        return f"{text} (RMB {yuan // 1_000_000:,} million)" if yuan and yuan % 1_000_000 == 0 else text
    text = f"{yuan:,} 元"
    return f"{text}（{yuan // 10_000:,} 万元）" if yuan and yuan % 10_000 == 0 else text


def _percentage(value: Any) -> str:
    # format(..., "f") because normalize() alone writes 100 as 1E+2.
    return f"{format(_decimal(value).normalize(), 'f')}%"


def _size(size: Any) -> str:
    size = int(size)
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024)) if size else 0} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _files(value: Any, lang: str) -> str:
    lines = []
    for n, item in enumerate(value, start=1):
        size = f"（{_size(item['size'])}）" if lang != "en" else f" ({_size(item['size'])})"
        lines.append(f"{n}. {item['name']}{size}")
        if item.get("sha256"):
            lines.append(f"    SHA-256: {item['sha256']}")
    return "\n".join(lines)


def _declaration(field: Field, lang: str) -> str:
    """The declaration as made: the form asks 您确认…吗？, the signed form states 申报方确认…."""
    prompt = field.prompt.get(lang)
    if lang == "en":
        match = re.fullmatch(r"Do you (\w+) (.+)\?", prompt)
        if match is None:
            return field.label.en
        rest = re.sub(r"\byou\b", "it", re.sub(r"\byour\b", "its", match[2]))
        return f"The entrant {match[1]}s {rest}."
    match = re.fullmatch(r"您(.+?)吗？?", prompt)
    return f"申报方{match[1]}。" if match else field.label.zh


def _choice(field: Field, choice_id: Any, value_lang: str) -> str:
    for choice in field.choices:
        if choice.id == choice_id:
            return choice.en if value_lang == "en" else choice.zh
    return str(choice_id)


def format_value(field: Field, value: Any, *, lang: str = "zh", value_lang: str = "zh") -> str:
    """A stored answer as people read it; `lang` is the form's language, `value_lang` that of the entry."""
    empty = _T["empty"].get(lang)
    if is_empty(value):
        return empty
    try:
        return _format(field, value, lang, value_lang)
    except (ArithmeticError, LookupError, TypeError, ValueError):
        # An answer stored under an older form version still belongs on the form, just unformatted.
        log.warning("answer to %s does not fit its type %s; shown as stored", field.id, field.type)
        return _plain(value)


def _format(field: Field, value: Any, lang: str, value_lang: str) -> str:
    kind = field.type
    if kind in CHOICE_TYPES:
        ids = value if isinstance(value, list | tuple) else [value]
        return ("、" if value_lang != "en" else ", ").join(_choice(field, i, value_lang) for i in ids)
    if kind == "consent":
        if value is not True:
            return _T["not_confirmed"].get(lang)
        colon = ": " if lang == "en" else "："
        return f"{_T['confirmed'].get(lang)}{colon}{_declaration(field, lang)}"
    if kind == "money":
        return _money(value, lang)
    if kind == "percentage":
        return _percentage(value)
    if kind == "integer":
        return f"{int(_decimal(value)):,}"
    if kind == "date":
        return _date_text(date.fromisoformat(str(value)), lang)
    if kind == "period":
        return f"{_month_text(value['start'], lang)} — {_month_text(value.get('end'), lang)}"
    if kind == "file_list":
        return _files(value, lang)
    if kind == "mobile":
        return format_mobile(str(value))
    if isinstance(value, str):
        return value
    return _plain(value)


# ---------------------------------------------------------------------------------------------- document


def _set_fonts(rpr: Any) -> None:
    """Name FONT for Latin and East Asian text alike; theme fonts would otherwise win over the names."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), FONT)


def _setup_styles(document: DocxDocument) -> None:
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr)
    language = rpr.find(qn("w:lang"))
    if language is not None:
        # Word picks line breaking and punctuation rules for Chinese from the East Asian language.
        language.set(qn("w:eastAsia"), "zh-CN")

    normal = styles["Normal"]
    _set_fonts(normal.element.get_or_add_rPr())
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.15

    title = styles["Title"]
    ppr = title.element.get_or_add_pPr()
    border = ppr.find(qn("w:pBdr"))
    if border is not None:
        ppr.remove(border)
    _set_fonts(title.element.get_or_add_rPr())
    title.font.size = Pt(18)
    title.font.bold = True
    title.font.color.rgb = RGBColor(0, 0, 0)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(8)

    for name, size, before, after in (("Heading 1", 12, 14, 6), ("Heading 2", BODY_SIZE.pt, 8, 4)):
        style = styles[name]
        _set_fonts(style.element.get_or_add_rPr())
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = True


def _setup_page(document: DocxDocument) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin = section.right_margin = MARGIN_SIDE
    section.header_distance = section.footer_distance = Cm(1.2)


def _field_run(paragraph: Paragraph, instruction: str) -> None:
    """A PAGE or NUMPAGES field; Word and LibreOffice fill it in when they lay the page out."""
    run = paragraph.add_run()
    for kind, text in (
        ("begin", None),
        ("instr", instruction),
        ("separate", None),
        ("text", "1"),
        ("end", None),
    ):
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} "
        elif kind == "text":
            element = OxmlElement("w:t")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)


def _shade(cell: _Cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _fixed_layout(table: Any) -> None:
    # Fixed layout keeps the 30/70 split whatever the text; autofit would squeeze the label column.
    tblpr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    width = tblpr.find(qn("w:tblW"))
    if width is None:
        width = OxmlElement("w:tblW")
        tblpr.append(width)
    width.set(qn("w:w"), str(int(TEXT_WIDTH.twips)))
    width.set(qn("w:type"), "dxa")


def _write(cell: _Cell, text: str, *, bold: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_before = Pt(3)
    paragraph.paragraph_format.space_after = Pt(3)
    run = paragraph.add_run(_xml(text))
    run.bold = bold


class _Renderer:
    """Builds one document; holds the languages so that every value is formatted alike."""

    def __init__(
        self,
        *,
        form: Form,
        answers: Mapping[str, Any],
        campaign: Campaign,
        reference: str | None,
        submitted_at: datetime | None,
        lang: str,
    ) -> None:
        self.form = form
        self.answers = answers
        self.campaign = campaign
        self.reference = reference.strip() if reference and reference.strip() else None
        self.submitted = submitted_at.astimezone(TIMEZONE) if submitted_at is not None else None
        self.lang = "en" if lang.lower().startswith("en") else "zh"
        rule = form.language_rule(answers)
        # Choice labels follow the entry: English only for an entrant who chose to apply in English.
        self.value_lang = "en" if rule is not None and rule.language == "en" else "zh"
        self.entrant = form.entrant_name(answers)
        self.document: DocxDocument = Document()
        self.style_ids = {name: self.document.styles[name].style_id for name in ("Heading 1", "Heading 2", "Table Grid")}
        self.row_template: CT_Row | None = None

    def t(self, key: str) -> str:
        return _T[key].get(self.lang)

    def build(self) -> DocxDocument:
        _setup_styles(self.document)
        _setup_page(self.document)
        self.properties()
        self.footer()
        self.head()
        for section in self.form.sections:
            self.section(section)
        self.closing()
        return self.document

    @property
    def title(self) -> str:
        return self.t("title").format(name=self.campaign.name.get(self.lang))

    def subject(self) -> str | None:
        return self.campaign.subject(self.form.award_id, self.entrant) if self.entrant else None

    def properties(self) -> None:
        core = self.document.core_properties
        core.title = _xml(self.title)
        core.subject = _xml(self.subject() or self.form.award.name.zh)
        core.author = core.last_modified_by = self.campaign.organizer.get(self.lang)
        core.keywords = _xml(self.reference or "")
        core.comments = ""
        core.category = self.form.award.name.get(self.lang)
        if self.submitted is not None:
            core.created = core.modified = self.submitted

    def footer(self) -> None:
        paragraph = self.document.sections[0].footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if self.reference:
            # Printed pages get separated; each one says which entry it belongs to.
            paragraph.add_run(_xml(f"{self.t('reference')} {self.reference}    "))
        before, between, after = re.split(r"\{page\}|\{pages\}", self.t("page"))
        paragraph.add_run(before)
        _field_run(paragraph, "PAGE")
        paragraph.add_run(between)
        _field_run(paragraph, "NUMPAGES")
        paragraph.add_run(after)
        for run in paragraph.runs:
            run.font.size = Pt(9)
            run.font.color.rgb = GREY

    def line(self, text: str, *, size: float | None = None, after: float = 2) -> Paragraph:
        paragraph = self.document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.space_after = Pt(after)
        run = paragraph.add_run(_xml(text))
        if size is not None:
            run.font.size = Pt(size)
        return paragraph

    def head(self) -> None:
        self.document.add_paragraph(_xml(self.title), style="Title")
        award = self.form.award
        other = award.name.en if self.lang == "zh" else award.name.zh
        colon = ": " if self.lang == "en" else "："
        brackets = "（{}）" if self.lang == "zh" else " ({})"
        first = f"{self.t('award')}{colon}{award.name.get(self.lang)}"
        second = brackets.format(other)
        # A long English name would wrap mid-phrase; it reads better whole on a line of its own.
        gap = "\n" if _width(first + second) > _SUBTITLE_WIDTH else ""
        self.line(first + gap + second, size=12)
        facts = []
        if self.reference:
            facts.append(f"{self.t('reference')}{colon}{self.reference}")
        if self.submitted is not None:
            facts.append(f"{self.t('submitted')}{colon}{self.when(self.submitted)}")
        if facts:
            self.line("    ".join(facts))
        subject = self.subject()
        if subject:
            self.line(f"{self.t('subject')}{colon}{subject}", after=6)

    def when(self, moment: datetime) -> str:
        day = _date_text(moment.date(), self.lang)
        if self.lang == "en":
            return f"{day}, {moment:%H:%M} Beijing time"
        return f"{day} {moment:%H:%M}（北京时间）"

    def value(self, field: Field, value: Any) -> str:
        return format_value(field, value, lang=self.lang, value_lang=self.value_lang)

    def section(self, section: Section) -> None:
        parts = list(self.parts(section))
        if not parts:
            return
        self.heading(section.title.get(self.lang), level=1)
        for part in parts:
            if isinstance(part, FieldGroup):
                self.group(part)
            else:
                self.table(part)

    def parts(self, section: Section) -> Iterator[list[tuple[str, str]] | FieldGroup]:
        """The section's visible fields as runs of table rows, broken by its repeated groups."""
        rows: list[tuple[str, str]] = []
        for entry in section.fields:
            if isinstance(entry, FieldGroup):
                if rows:
                    yield rows
                    rows = []
                yield entry
            elif self.form.visible(entry, self.answers):
                rows.append((entry.label.get(self.lang), self.value(entry, self.answers.get(entry.id))))
        if rows:
            yield rows

    def group(self, group: FieldGroup) -> None:
        items = self.answers.get(group.id)
        items = [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []
        if not items:
            self.table([(group.label.get(self.lang), self.t("empty"))])
            return
        for n, item in enumerate(items, start=1):
            self.heading(f"{group.label.get(self.lang)} {n}", level=2)
            self.table(
                [
                    (field.label.get(self.lang), self.value(field, item.get(field.id)))
                    for field in group.fields
                ]
            )

    def heading(self, text: str, *, level: int) -> None:
        # The style by id: python-docx looking a style up by name searches the whole styles part every time.
        self.document.add_paragraph(_xml(text))._p.style = self.style_ids[f"Heading {level}"]

    def table(self, rows: Sequence[tuple[str, str]]) -> None:
        table = self.document.add_table(rows=0, cols=2)
        table._tbl.tblStyle_val = self.style_ids["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        _fixed_layout(table)
        table.columns[0].width, table.columns[1].width = LABEL_WIDTH, VALUE_WIDTH
        for label, value in rows:
            label_run, value_run = self.row(table).iter(qn("w:r"))
            # The run's text turns each line break into <w:br/>, so long answers keep their paragraphs.
            label_run.text, value_run.text = _xml(label), _xml(value)

    def row(self, table: Table) -> CT_Row:
        """A new row at the end of `table`, formatted and holding an empty run in each cell.

        The first is formatted through python-docx; the others are copies of it, which costs a hundredth as much
        (a form has some sixty rows, and rendering runs while the bot is answering others).
        """
        if self.row_template is None:
            label_cell, value_cell = table.add_row().cells
            label_cell.width, value_cell.width = LABEL_WIDTH, VALUE_WIDTH
            _shade(label_cell, LABEL_SHADE)
            label_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            _write(label_cell, "", bold=True)
            _write(value_cell, "")
            row = label_cell._tc.getparent()
            # A row is kept on one page: split, its label sat beside the bottom of the answer on the next page.
            row.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
            self.row_template = deepcopy(row)
            return row
        row = deepcopy(self.row_template)
        table._tbl.append(row)
        return row

    def closing(self) -> None:
        declarations = [
            slot.field
            for slot in self.form.fields()
            if slot.group is None
            and slot.field.type == "consent"
            and self.form.visible(slot.field, self.answers)
        ]
        accepted = all(self.answers.get(field.id) is True for field in declarations)
        statement = self.document.add_paragraph(self.t("all_declared" if accepted else "not_declared"))
        statement.paragraph_format.space_before = Pt(16)
        statement.paragraph_format.space_after = Pt(10)
        statement.paragraph_format.keep_with_next = True
        colon = ": " if self.lang == "en" else "："
        day = _date_text(self.submitted.date(), self.lang) if self.submitted else self.t("not_submitted")
        signature = [
            f"{self.t('entrant')}{colon}{self.entrant or self.t('empty')}",
            f"{self.t('date')}{colon}{day}",
        ]
        for n, text in enumerate(signature):
            paragraph = self.document.add_paragraph(_xml(text))
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.space_after = Pt(4)
            paragraph.paragraph_format.keep_with_next = n < len(signature) - 1
