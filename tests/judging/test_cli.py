"""`kcxf judging …` and `kcxf staff add NAME --role judge` as a script runs them (the typer app in this process,
on the environment a deployment sets; tests/intake/test_queue_cli.py covers starting `kcxf` as a process)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass

import openpyxl
from typer.testing import CliRunner

from bot.cli import app
from bot.runtime import Runtime
from config.settings import Settings
from judging.sheets import FIRST_ROW, KEY_ROW, SCORES
from tests.console.factories import seed
from tests.databases import kcxf_env


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def kcxf(settings: Settings, *args: str, stdin: str | None = None) -> Ran:
    result = CliRunner().invoke(app, list(args), input=stdin, env={**kcxf_env(settings), "COLUMNS": "250"})
    return Ran(result.exit_code, result.stdout, result.stderr)


def test_a_round_by_script(settings: Settings, tmp_path):
    async def prepare() -> list:
        runtime = Runtime.open(settings)
        try:
            return await seed(runtime, 3, awards=("pioneer_engine",), overseas_every=0)
        finally:
            await runtime.close()

    entries = asyncio.run(prepare())
    scorecards = Runtime.open(settings).scorecards
    card = scorecards.for_award("pioneer_engine")
    for name in ("zhou.judge", "wu.judge"):
        added = kcxf(settings, "staff", "add", name, "--role", "judge", "--email", f"{name}@example.org",
                     stdin="correct horse battery\n")
        assert added.returncode == 0, added.stderr
    opened = kcxf(settings, "judging", "open", "--award", "pioneer_engine", "--stage", "first", "--blind",
                  "--judges", "zhou.judge,wu.judge", "--per-entry", "1")
    assert opened.returncode == 0 and "Opened round 1 with 3 entries" in opened.stdout, opened.stderr
    assert "blind" in kcxf(settings, "judging", "rounds").stdout

    sheet = tmp_path / "zhou.xlsx"
    assert kcxf(settings, "judging", "sheet", "--round", "1", "--judge", "zhou.judge", "--output", str(sheet)).returncode == 0
    book = openpyxl.load_workbook(sheet)
    rows = book[SCORES]
    keys = {c.value: c.column for c in rows[KEY_ROW] if c.value}
    assert "entrant" not in keys  # blind: no names on the sheet
    mine = [rows.cell(r, 1).value for r in range(FIRST_ROW, rows.max_row + 1) if rows.cell(r, 1).value]
    assert len(mine) == 2  # three entries, one judge each, balanced: 2 and 1
    for r in range(FIRST_ROW, FIRST_ROW + len(mine)):
        values = {"conflict": "none", "recommendation": "yes", **{f"risk:{x.id}": "none" for x in scorecards.risks},
                  **{f"score:{d.id}": 8 if r == FIRST_ROW else 3 for d in card.dimensions}}
        for key, value in values.items():
            rows.cell(r, keys[key], value)
    rows.cell(FIRST_ROW, keys[f"score:{card.dimensions[0].id}"], 0)
    book.save(sheet)
    refused = kcxf(settings, "judging", "import", str(sheet))
    assert refused.returncode == 1 and f"第 {FIRST_ROW} 行" in refused.stderr and "nothing changed" in refused.stderr
    rows.cell(FIRST_ROW, keys[f"score:{card.dimensions[0].id}"], 8)
    book.save(sheet)
    imported = kcxf(settings, "judging", "import", str(sheet))
    assert imported.returncode == 0 and "2 submitted" in imported.stdout, imported.stderr

    assert kcxf(settings, "judging", "close", "--round", "1").returncode == 0
    results = json.loads(kcxf(settings, "judging", "results", "--round", "1", "--format", "json").stdout)
    assert [r["rank"] for r in results] == [1, 2, None]
    assert set(results[0]) >= {"reference", "rank", "total", "normalised", "dimensions", "judges", "risks"}
    assert results[0]["total"] == 77.78 and results[0]["dimensions"] == {d.id: 8 for d in card.dimensions}
    assert results[0]["judges"][0]["judge"] == "zhou.judge"
    table = list(csv.DictReader(io.StringIO(kcxf(settings, "judging", "results", "--round", "1", "--format", "csv").stdout)))
    assert [t["reference"] for t in table] == [r["reference"] for r in results]

    top = results[0]["reference"]
    decided = kcxf(settings, "judging", "decide", "--round", "1", "--chosen", top, "--reason", f"{top}=市场认可度高")
    assert decided.returncode == 0 and "await the jury chair's sign-off" in decided.stdout, decided.stderr
    # 初审: nothing is final until the jury chair signs off, and only the chair can.
    not_chair = kcxf(settings, "judging", "sign-off", "--round", "1", "--chair", "wu.judge")
    assert not_chair.returncode == 1 and "只有评审团主席" in not_chair.stderr
    made = kcxf(settings, "staff", "chair", "wu.judge")
    assert made.returncode == 0 and "jury chair" in made.stdout, made.stderr
    assert "judge (chair)" in kcxf(settings, "staff", "list").stdout
    signed = kcxf(settings, "judging", "sign-off", "--round", "1", "--chair", "wu.judge")
    assert signed.returncode == 0 and "decisions on 3 entries took effect" in signed.stdout, signed.stderr
    out = tmp_path / "finalists.xlsx"
    assert kcxf(settings, "judging", "finalists", "--round", "1", "--output", str(out)).returncode == 0
    listed = list(openpyxl.load_workbook(out)["finalists"].values)
    assert listed[1][:3] == ("1", top, next(e.entrant for e in entries if e.reference == top))
    assert listed[1][-1] == "市场认可度高"
