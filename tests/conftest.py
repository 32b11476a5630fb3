"""Shared fixtures: settings in a temporary folder, a real database (SQLite, or PostgreSQL when
KCXF_TEST_DATABASE_URL is set), the shipped texts and campaign."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.runtime import Runtime
from bot.texts import Texts
from config.campaign import Campaign
from config.clock import FixedClock
from config.settings import Settings
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker
from intake import sealing
from intake.data_keys import DataKeys, new_key
from intake.sensitive import sensitive_field_ids
from knowledge.answer import KnowledgeBase
from tests.databases import ENV, Databases, PostgresDatabases, SqliteDatabases
from tests.scratch_pg import any_database
from tests.shipped import shipped_campaign, shipped_forms


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    """SQLite files, or databases on the PostgreSQL server KCXF_TEST_DATABASE_URL names (dropped at the end)."""
    url = os.environ.get(ENV)
    if not url:
        yield SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
        return
    try:
        postgres = PostgresDatabases(url).__enter__()
    except Exception as exc:
        # Asked for PostgreSQL and not given it: stop, rather than pass on SQLite and look like a PostgreSQL run.
        pytest.exit(f"{ENV}={url}: PostgreSQL is not reachable ({exc})", returncode=3)
    try:
        yield postgres
    finally:
        postgres.__exit__(None, None, None)

# One data key for the whole test session, in the environment as a deployment has it: every Settings (and
# every `kcxf` subprocess) reads it, so whatever one part of a test seals, another opens.
TEST_DATA_KEY = new_key()


@pytest.fixture(scope="session", autouse=True)
def data_key() -> Iterator[sealing.Sealer]:
    """KCXF_DATA_KEY set and the answers' Sealer installed, as Runtime.sessionmaker() does in the bot."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KCXF_DATA_KEY", TEST_DATA_KEY)
        patch.delenv("KCXF_ENV", raising=False)
        forms = shipped_forms()
        sealer = sealing.Sealer(DataKeys([TEST_DATA_KEY]), sensitive_field_ids(forms.values()))
        previous = sealing.install(sealer)
        yield sealer
        sealing.install(previous)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Real argon2id, at its lowest cost, for the staff accounts that tests make and log in with in this process.

    At the product's cost (64 MiB, 3 passes, about a quarter of a second on 2 cores) the few hundred hashes
    and checks of the console tests took a fifth of their time. What a test checks of passwords (argon2id, own
    salt, rehashed when weaker, checked off the event loop, two at a time) holds at any cost:
    tests/console/test_staff.py checks the rehash and the checks' limit with the product's default hasher, and
    `kcxf` subprocesses always use it.
    """
    from argon2 import PasswordHasher

    from console import staff

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        staff._dummy_hash.cache_clear()
        yield
    staff._dummy_hash.cache_clear()


@pytest.fixture
def database_url(databases: Databases) -> str | None:
    """This test's database URL: None (the SQLite file in its data folder) or an emptied PostgreSQL database."""
    return databases.for_test()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Settings isolated from the developer's .env and environment, with data under tmp_path."""
    return Settings(_env_file=None, data_dir=tmp_path / "var", database_url=database_url)  # type: ignore[call-arg]


@pytest.fixture
async def db_engine(settings: Settings, databases: Databases) -> AsyncIterator[AsyncEngine]:
    """An async engine on this test's fresh database, migrated to the newest revision."""
    databases.ready(settings.db_url)
    engine = make_engine(settings.db_url)
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
    return shipped_campaign()


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing inside the application window."""
    return FixedClock(datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")))


@pytest.fixture(scope="session")
def kb_runtime(tmp_path_factory: pytest.TempPathFactory, databases: Databases) -> Iterator[Runtime]:
    """A runtime whose knowledge index was built from the shipped guideline and FAQ, once per test session."""
    data = tmp_path_factory.mktemp("kb") / "var"
    settings = Settings(_env_file=None, data_dir=data, database_url=databases.create(data))  # type: ignore[call-arg]
    runtime = Runtime.open(settings)
    runtime.knowledge  # noqa: B018 - build it once, here
    yield runtime


@pytest.fixture(scope="session")
def kb(kb_runtime: Runtime) -> KnowledgeBase:
    """The real answerer of the running bot."""
    return kb_runtime.knowledge


@pytest.fixture(params=["sqlite", "postgresql"])
async def pools(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Two connection pools on one fresh database of each kind, as two workers have (PostgreSQL: a scratch one)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with any_database(request.param, sqlite_url=settings.db_url) as url:
        engines = [make_engine(url), make_engine(url)]
        await upgrade(engines[0])
        yield [make_sessionmaker(e) for e in engines]
        for engine in engines:
            await engine.dispose()


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
