"""The kcxf command refuses a broken configuration with one clear message naming the file and the key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from config.settings import Settings


def test_malformed_campaign_file_fails_at_start_naming_file_and_key(tmp_path: Path):
    editions = Path(shutil.copytree(Settings(_env_file=None).editions_dir, tmp_path / "editions"))  # type: ignore[call-arg]
    bad = editions / "2024" / "campaign.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("group: person", "group: persons"), encoding="utf-8")
    env = {**os.environ, "KCXF_DATA_DIR": str(tmp_path / "var"), "KCXF_EDITIONS_DIR": str(editions), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "截止时间？"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert str(bad) in done.stderr and "awards[3].group" in done.stderr and "persons" in done.stderr
    assert "Traceback" not in done.stderr
