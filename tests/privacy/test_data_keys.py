"""Where the data key comes from: KCXF_DATA_KEY, a generated development key, or a refusal to start."""

from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from config import Settings
from intake.data_keys import DEV_KEY_FILE, DataKeyError, load_data_keys, new_key


def settings_for(tmp_path: Path, **values: object) -> Settings:
    values.setdefault("data_key", None)
    return Settings(_env_file=None, data_dir=tmp_path / "var", **values)  # type: ignore[arg-type]


def kcxf(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"KCXF_DATA_KEY", "KCXF_ENV"}}
    clean.update({"KCXF_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "300", **env})
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=clean,
                          timeout=120, cwd=tmp_path)


def test_production_without_a_key_refuses(tmp_path: Path):
    with pytest.raises(DataKeyError, match="KCXF_DATA_KEY"):
        load_data_keys(settings_for(tmp_path, env="production"))
    assert not (tmp_path / "var" / DEV_KEY_FILE).exists()  # no key made up behind the operator's back


def test_kcxf_bot_in_production_without_a_key_stops_with_one_line_and_exit_code_2(tmp_path: Path):
    done = kcxf(tmp_path, "bot", KCXF_ENV="production", KCXF_TELEGRAM_TOKEN="123:TEST")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "KCXF_DATA_KEY" in lines[0] and "kcxf keygen" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_kcxf_with_a_key_in_production_starts(tmp_path: Path):
    done = kcxf(tmp_path, "purge", "--dry-run", KCXF_ENV="production", KCXF_DATA_KEY=new_key())
    assert done.returncode == 0, done.stderr
    assert "Would purge 0 drafts" in done.stdout
    assert not (tmp_path / "var" / DEV_KEY_FILE).exists()


def test_development_generates_an_owner_only_key_once_and_says_so_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="intake.data_keys")
    settings = settings_for(tmp_path)
    first = load_data_keys(settings)
    path = tmp_path / "var" / DEV_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    Fernet(path.read_text().strip().encode())  # a valid key
    [record] = [r for r in caplog.records if r.name == "intake.data_keys"]
    assert record.levelno == logging.WARNING and str(path) in record.getMessage()
    assert path.read_text().strip() not in record.getMessage()
    again = load_data_keys(settings)  # the next start reads the same key, silently
    assert again.decrypt(first.encrypt("110105194912310021")) == "110105194912310021"
    assert len([r for r in caplog.records if r.name == "intake.data_keys"]) == 1
    assert [p.name for p in path.parent.iterdir()] == [DEV_KEY_FILE]  # no temporary file left behind


def test_several_keys_first_encrypts_all_decrypt(tmp_path: Path):
    old, new = new_key(), new_key()
    token = load_data_keys(settings_for(tmp_path, data_key=old)).encrypt("13812345678")
    rotated = load_data_keys(settings_for(tmp_path, data_key=f" {new} , {old} "))
    assert rotated.count == 2 and rotated.decrypt(token) == "13812345678"
    fresh = rotated.encrypt("13812345678")
    assert load_data_keys(settings_for(tmp_path, data_key=new)).decrypt(fresh) == "13812345678"
    with pytest.raises(DataKeyError):
        load_data_keys(settings_for(tmp_path, data_key=old)).decrypt(fresh)


def test_keygen_prints_a_key_the_settings_accept(tmp_path: Path):
    done = kcxf(tmp_path, "keygen")
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip()
    assert load_data_keys(settings_for(tmp_path, data_key=key, env="production")).count == 1


def test_a_damaged_development_key_file_is_named(tmp_path: Path):
    path = tmp_path / "var" / DEV_KEY_FILE
    path.parent.mkdir(parents=True)
    path.write_text("truncated\n")
    with pytest.raises(DataKeyError, match=re.escape(str(path))):
        load_data_keys(settings_for(tmp_path))
