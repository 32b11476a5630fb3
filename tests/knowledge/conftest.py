"""One real knowledge base (embedded Chroma in a temporary folder) shared by the knowledge tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.runtime import Runtime
from config.settings import Settings
from knowledge.answer import KnowledgeBase


@pytest.fixture(scope="session")
def kb_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime whose index was built from the shipped guideline and FAQ on first use."""
    data = tmp_path_factory.mktemp("kb") / "var"
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    runtime.knowledge  # noqa: B018 - build it once, here
    yield runtime


@pytest.fixture(scope="session")
def kb(kb_runtime: Runtime) -> KnowledgeBase:
    return kb_runtime.knowledge
