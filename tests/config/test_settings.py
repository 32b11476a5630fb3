"""Settings read from KCXF_* variables."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from pydantic import ValidationError

from config import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch):
    for name in ("KCXF_DATA_DIR", "KCXF_DATABASE_URL", "KCXF_CHROMA_URL", "KCXF_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def test_data_dir_isolates_database_and_chroma(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KCXF_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.data_dir == tmp_path
    assert settings.db_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'kcxf.db'}"
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.files_dir == tmp_path / "files"


def test_database_url_overrides_the_sqlite_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KCXF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KCXF_DATABASE_URL", "postgresql+asyncpg://kcxf@localhost/kcxf")
    assert Settings(_env_file=None).db_url == "postgresql+asyncpg://kcxf@localhost/kcxf"


def test_timezone_default_and_override(monkeypatch: pytest.MonkeyPatch):
    assert Settings(_env_file=None).tz == ZoneInfo("Asia/Shanghai")
    monkeypatch.setenv("KCXF_TIMEZONE", "Europe/Berlin")
    assert Settings(_env_file=None).tz == ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_timezone_fails(monkeypatch: pytest.MonkeyPatch, zone: str):
    monkeypatch.setenv("KCXF_TIMEZONE", zone)
    # ZoneInfo raises ZoneInfoNotFoundError (a KeyError) for a well-formed unknown key, which pydantic lets through
    # unwrapped; either way start-up fails.
    with pytest.raises((ValidationError, ZoneInfoNotFoundError)):
        Settings(_env_file=None)
