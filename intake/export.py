"""Queue records as plain data for export: one JSON object per record, flattened to table rows for CSV and XLSX.

`kcxf queue export` and the console's export share this, so a spreadsheet from either has the same columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from config import Campaign
from intake import queue
from intake.sensitive import AnswerMask

__all__ = ["FORMULA_START", "defuse", "export_rows", "record_json", "to_csv"]

# The columns of an export with no entries: the record's own fields.
EMPTY_COLUMNS = (
    "reference", "award_id", "award_name", "award_name_en", "edition", "entrant_name", "subject", "status",
    "status_label", "status_label_en", "created_at", "updated_at", "mailed_at", "form_file", "draft_key", "user_id",
    "attachments", "history",
)
# Cells a spreadsheet would run as a formula; applicants' text must never execute on a staff laptop.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def record_json(
    campaign: Campaign,
    record: queue.Submission,
    history: Sequence[queue.StatusChange],
    *,
    masking: AnswerMask | None = None,
) -> dict[str, Any]:
    """Everything about a record; with `masking` (AnswerMask.of every form), its answers as that mask shows them."""
    label = queue.status_label(record.status)
    try:
        award = campaign.award(record.award_id).name
        award_zh, award_en = award.zh, award.en
    except KeyError:
        award_zh = award_en = record.award_id
    answers = record.answers
    if masking is not None:
        answers = masking.answers(answers)
    return {
        "reference": record.reference,
        "award_id": record.award_id,
        "award_name": award_zh,
        "award_name_en": award_en,
        "edition": record.edition,
        "entrant_name": record.entrant_name,
        "subject": record.subject,
        "status": record.status,
        "status_label": label.zh,
        "status_label_en": label.en,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "mailed_at": record.mailed_at.isoformat() if record.mailed_at else None,
        "form_file": record.form_file,
        "draft_key": record.draft_key,
        "user_id": record.user_id,
        "attachments": list(record.attachments),
        "answers": answers,
        "history": [
            {
                "created_at": h.created_at.isoformat(),
                "from_status": h.from_status,
                "to_status": h.to_status,
                "actor": h.actor,
                "note": h.note,
            }
            for h in history
        ],
    }


def export_rows(objects: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, str]]]:
    """Flatten exported records to columns: record fields first, then answers as answers.<id>[.<n>.<id>]."""
    rows: list[dict[str, str]] = []
    columns: dict[str, None] = {}
    for obj in objects:
        row: dict[str, str] = {}
        for key, value in obj.items():
            if key == "answers":
                for name, cell in _flatten(value, "answers"):
                    row[name] = cell
            elif key == "attachments":
                row[key] = "; ".join(f"{a['name']} ({a['path']})" for a in value)
            elif key == "history":
                row[key] = "; ".join(
                    f"{h['created_at']} {h['from_status'] or ''}→{h['to_status']} {h['actor']}".strip()
                    for h in value
                )
            else:
                row[key] = _cell(value)
        columns.update(dict.fromkeys(row))
        rows.append(row)
    if not objects:  # an empty export still says what its columns would be
        columns = dict.fromkeys(EMPTY_COLUMNS)
    return list(columns), rows


def to_csv(objects: list[dict[str, Any]]) -> str:
    """The records as CSV text (CRLF rows), formula-like cells defused; write it as UTF-8 with a BOM for Excel."""
    columns, rows = export_rows(objects)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: defuse(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def defuse(cell: str) -> str:
    """A cell a spreadsheet would evaluate as a formula, made plain text with a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _flatten(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}")
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        for n, item in enumerate(value, start=1):
            yield from _flatten(item, f"{prefix}.{n}")
    else:
        yield prefix, _cell(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
