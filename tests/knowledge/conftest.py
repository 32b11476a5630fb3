"""Knowledge bases that tests may change: copies of the index built once per session (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime import Runtime
from config.settings import Settings
from tests.conftest import copy_index


def live_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings on `data_dir` that check the knowledge revision before every answer."""
    return Settings(_env_file=None, data_dir=data_dir, knowledge_check_s=0, **overrides)  # type: ignore[call-arg]


@pytest.fixture
async def live_runtime(kb_template: Path, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on its own copy of the built index, ready to be edited; closed afterwards."""
    runtime = Runtime.open(live_settings(copy_index(kb_template, tmp_path / "var")))
    try:
        yield runtime
    finally:
        await runtime.close()
        runtime.index.client.close()
