"""Shared fixtures: settings in a temporary folder, a real SQLite database, the shipped texts and campaign."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bot.state  # noqa: F401  (registers the tables create_schema builds)
import bot.users  # noqa: F401
import console.audit  # noqa: F401
import console.sessions  # noqa: F401
import console.staff  # noqa: F401
import console.throttle  # noqa: F401
import intake.drafts  # noqa: F401
import intake.notify  # noqa: F401
import intake.queue  # noqa: F401
import knowledge.revision  # noqa: F401
import knowledge.unanswered  # noqa: F401
from bot.runtime import Runtime
from bot.texts import Texts
from config.campaign import Campaign, load_campaign
from config.clock import FixedClock
from config.settings import Settings
from db.session import create_schema, make_engine, make_sessionmaker
from knowledge.answer import KnowledgeBase


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's .env and environment, with data under tmp_path."""
    return Settings(_env_file=None, data_dir=tmp_path / "var", database_url=None)  # type: ignore[call-arg]


@pytest.fixture
async def db_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An async engine on a fresh SQLite file under the settings' data folder, schema created."""
    engine = make_engine(settings.db_url)
    await create_schema(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_sessionmaker(db_engine)


@pytest.fixture(scope="session")
def texts() -> Texts:
    """The shipped prompt texts."""
    return Texts.load()


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    """The shipped campaign edition."""
    return load_campaign(Settings(_env_file=None).campaign_file)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing inside the application window."""
    return FixedClock(datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))


@pytest.fixture(scope="session")
def kb_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A runtime whose knowledge index was built from the shipped guideline and FAQ, once per test session."""
    data = tmp_path_factory.mktemp("kb") / "var"
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    runtime.knowledge  # noqa: B018 - build it once, here
    yield runtime


@pytest.fixture(scope="session")
def kb(kb_runtime: Runtime) -> KnowledgeBase:
    """The real answerer of the running bot."""
    return kb_runtime.knowledge


@pytest.fixture(scope="session")
def kb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose Chroma index holds the shipped guideline and FAQ, built once; copy it, never open it."""
    data = tmp_path_factory.mktemp("kb-template") / "var"
    runtime = Runtime.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
    runtime.index.client.close()  # built through runtime.index; closed so the folder is complete on disk
    return data


def copy_index(template: Path, data_dir: Path) -> Path:
    """A private copy of the template's Chroma folder under `data_dir` (a test may change it freely)."""
    shutil.copytree(template / "chroma", data_dir / "chroma")
    return data_dir
