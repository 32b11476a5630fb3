"""Knowledge bases that tests may change: copies of one index built per session, each in its own folder."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.runtime import Runtime
from config.settings import Settings


@pytest.fixture(scope="session")
def kb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose Chroma index holds the shipped guideline and FAQ, built once and then closed."""
    data = tmp_path_factory.mktemp("kb-template") / "var"
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    runtime.index.client.close()  # built through runtime.index; closed so the folder is complete on disk
    return data


def live_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings on `data_dir` that check the knowledge revision before every answer."""
    return Settings(_env_file=None, data_dir=data_dir, knowledge_check_s=0, **overrides)  # type: ignore[call-arg]


def copy_index(template: Path, data_dir: Path) -> Path:
    """A private copy of the template's Chroma folder under `data_dir`."""
    shutil.copytree(template / "chroma", data_dir / "chroma")
    return data_dir


@pytest.fixture
async def live_runtime(kb_template: Path, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime on its own copy of the built index, ready to be edited; closed afterwards."""
    runtime = Runtime.open(live_settings(copy_index(kb_template, tmp_path / "var")))
    try:
        yield runtime
    finally:
        await runtime.close()
        runtime.index.client.close()
