"""The chat's 申报表 come from a worker process: the same document as rendering in place, and no worker outlives
the bot that started it, however the bot ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document

from config.campaign import Campaign
from intake import render_worker
from intake.forms import load_forms
from intake.render import render_form
from tests.intake.factories import answers_for
from tests.processes import child_env
from tests.shipped import shipped_edition

ROOT = Path(__file__).resolve().parents[2]
SUBMITTED_AT = datetime(2024, 10, 8, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

# A bot in miniature: renders one form through the worker, says where and who the worker is, then waits.
BOT = """
import asyncio, os, sys
from datetime import datetime
from pathlib import Path
from intake import render_worker
from intake.forms import load_forms
from tests.intake.factories import answers_for
from tests.shipped import shipped_campaign, shipped_edition

async def main():
    campaign = shipped_campaign()
    form = load_forms(campaign, directory=shipped_edition().forms_dir)["pioneer_person"]
    path = await render_worker.render(form=form, answers=answers_for(form), campaign=campaign,
                                      reference="KCXF-2024-00001", submitted_at=None, out_dir=Path(sys.argv[1]))
    worker = render_worker._executor().submit(os.getpid).result()
    print(path, worker, flush=True)
    await asyncio.sleep(120)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _text(path: Path) -> list[str]:
    document = Document(str(path))
    return [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]


async def test_the_worker_renders_what_rendering_in_place_renders(campaign: Campaign, tmp_path: Path) -> None:
    form = load_forms(campaign, directory=shipped_edition().forms_dir)["pioneer_product"]
    options = {"form": form, "answers": answers_for(form, projects=2), "campaign": campaign,
               "reference": "KCXF-2024-00007", "submitted_at": SUBMITTED_AT, "lang": "zh"}
    in_worker = await render_worker.render(**options, out_dir=tmp_path / "worker")
    in_place = render_form(**options, out_dir=tmp_path / "here")
    assert in_worker.name == in_place.name
    assert _text(in_worker) == _text(in_place)
    assert os.getpid() != render_worker._executor().submit(os.getpid).result()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited too; only its parent (init, here) has not collected it yet.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


def test_a_killed_bot_leaves_no_render_worker_behind(tmp_path: Path) -> None:
    env = {**child_env(), "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", BOT, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env,
                          cwd=ROOT) as bot:
        try:
            assert bot.stdout is not None
            line = bot.stdout.readline()
            path, worker = line.rsplit(" ", 1)
            assert Path(path).is_file(), line
            assert _alive(int(worker))
            bot.send_signal(signal.SIGKILL)  # no chance to shut its pool down
            bot.wait(timeout=10)
            deadline = time.monotonic() + 10 * render_worker.PARENT_CHECK_S
            while _alive(int(worker)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(int(worker)), "the render worker outlived the bot"
        finally:
            bot.kill()
