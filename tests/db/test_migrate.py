"""Alembic owns the schema: the migrations build exactly the models' tables, go down and up again, run once when
several processes start together, leave nothing half done, and ship with the package."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.users import User
from config.settings import Settings
from db.base import NAMING_CONVENTION, UTCDateTime
from db.migrate import MIGRATIONS_DIR, alembic_config, current, downgrade, heads, revision, upgrade
from db.models import load_models
from db.session import make_engine, make_sessionmaker
from intake.drafts import Draft
from tests.databases import Databases, kcxf_env
from tests.processes import child_env

PROJECT = Path(__file__).resolve().parents[2]
HOW_TO_FIX = ("the models and the migrations disagree: write a revision with `kcxf db revision \"what changed\"`, "
              "read it, and commit it (docs/developing.md, Database schema)")


@pytest.fixture
def empty_url(databases: Databases, tmp_path: Path) -> str:
    """A database nothing has touched: no tables, not even Alembic's."""
    return databases.create(tmp_path, migrated=False)


@pytest.fixture
async def empty_engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(empty_url)
    yield engine
    await engine.dispose()


async def _differences(engine: AsyncEngine, metadata: MetaData) -> list[object]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))


async def test_a_migrated_database_has_exactly_the_tables_the_models_define(empty_engine: AsyncEngine):
    await upgrade(empty_engine)
    assert await _differences(empty_engine, load_models()) == [], HOW_TO_FIX


async def test_the_comparison_sees_a_table_no_migration_creates(empty_engine: AsyncEngine):
    # The test above can fail: a model the migrations do not know is a difference.
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in load_models().tables.values():
        table.to_metadata(metadata)
    Table("staff_notes", metadata, Column("id", Integer, primary_key=True))
    await upgrade(empty_engine)
    [(kind, table)] = await _differences(empty_engine, metadata)  # type: ignore[misc]
    assert kind == "add_table" and table.name == "staff_notes"


def _revisions() -> list[str]:
    """The packaged revisions, oldest first."""
    return [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()][::-1]


async def test_every_revision_goes_up_and_down_one_step_at_a_time(empty_engine: AsyncEngine):
    order = _revisions()
    assert order and order[-1] in heads()
    for done, rev in enumerate(order):
        await upgrade(empty_engine, rev)
        assert await current(empty_engine) == (rev,)
        await downgrade(empty_engine, order[done - 1] if done else "base")
        await upgrade(empty_engine, rev)
    assert await _differences(empty_engine, load_models()) == []
    await downgrade(empty_engine, "base")
    assert await current(empty_engine) == ()
    assert await _tables(empty_engine) <= {"alembic_version"}
    await upgrade(empty_engine)
    assert await current(empty_engine) == heads()
    assert await _differences(empty_engine, load_models()) == []


async def test_upgrading_a_database_at_head_keeps_its_rows(empty_engine: AsyncEngine):
    await upgrade(empty_engine)
    async with make_sessionmaker(empty_engine)() as session:
        session.add(User(channel="t", external_id="1"))
        await session.commit()
    await upgrade(empty_engine)
    async with make_sessionmaker(empty_engine)() as session:
        assert [u.external_id for u in await session.scalars(select(User))] == ["1"]


STARTER = """
import asyncio, sys
from db.migrate import upgrade
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(upgrade(sys.argv[1]))
"""


def test_processes_starting_together_on_a_fresh_database_migrate_it_once(empty_url: str):
    # Each process is loaded and waiting before any begins, so that their upgrades start within a millisecond.
    processes = [subprocess.Popen([sys.executable, "-c", STARTER, empty_url], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert [p.returncode for p in processes] == [0] * len(processes), [err for _, err in outcomes]
    assert asyncio.run(current(empty_url)) == heads()


def _copy_of_the_migrations(folder: Path, *, extra: str | None = None) -> Path:
    """The packaged migrations in `folder`, with one more revision after head when `extra` is given."""
    copy = folder / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    if extra is not None:
        [head] = heads()
        (copy / "versions" / "ffff_extra.py").write_text(textwrap.dedent(f'''
            import sqlalchemy as sa
            from alembic import op

            revision = "ffff"
            down_revision = "{head}"
            branch_labels = depends_on = None

            def downgrade():
                pass
        ''') + textwrap.dedent(extra), encoding="utf-8")
    return copy


async def test_a_failing_migration_leaves_nothing_half_done(empty_engine: AsyncEngine, tmp_path: Path):
    await upgrade(empty_engine)
    config = alembic_config(_copy_of_the_migrations(tmp_path, extra='''
        def upgrade():
            op.create_table("doomed", sa.Column("id", sa.Integer, primary_key=True))
            op.add_column("users", sa.Column("nickname", sa.String(32)))
            op.execute("SELECT * FROM no_such_table")
    '''))
    with pytest.raises(Exception, match="no_such_table"):
        await upgrade(empty_engine, config=config)
    assert await current(empty_engine) == heads()
    assert "doomed" not in await _tables(empty_engine)
    assert await _differences(empty_engine, load_models()) == []


async def test_a_table_rebuilt_on_sqlite_keeps_the_rows_that_point_at_it(tmp_path: Path):
    # SQLite alters a column by copying the table and dropping the old one; with foreign keys on, that drop
    # would delete every draft (ON DELETE CASCADE) and be refused for a user with a submission (RESTRICT).
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'kcxf.db'}")
    try:
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            user = User(channel="t", external_id="1")
            session.add(user)
            await session.flush()
            session.add(Draft(edition=2024, user_id=user.id, award_id="pioneer_product", answers={}, progress={}))
            await session.commit()
        config = alembic_config(_copy_of_the_migrations(tmp_path, extra='''
            def upgrade():
                with op.batch_alter_table("users", recreate="always") as batch:
                    batch.alter_column("display_name", type_=sa.String(300), existing_nullable=False)
        '''))
        await upgrade(engine, config=config)
        async with make_sessionmaker(engine)() as session:
            assert len((await session.scalars(select(Draft))).all()) == 1
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA foreign_key_check"))).all() == []
    finally:
        await engine.dispose()


async def test_a_revision_is_written_with_what_the_models_add(empty_engine: AsyncEngine, tmp_path: Path):
    config = alembic_config(_copy_of_the_migrations(tmp_path))
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    for table in load_models().tables.values():
        table.to_metadata(metadata)
    Table("staff_notes", metadata, Column("id", Integer, primary_key=True), Column("note", String(200)),
          Column("written_at", UTCDateTime, nullable=False))
    await upgrade(empty_engine, config=config)

    path = await revision(empty_engine, message="staff notes", metadata=metadata, config=config)
    assert path is not None and path.parent == tmp_path / "migrations" / "versions"
    source = path.read_text(encoding="utf-8")
    assert "op.create_table('staff_notes'" in source
    # Written as plain SQLAlchemy, so the revision does not change when the application's type does.
    assert "sa.DateTime(timezone=True)" in source and "UTCDateTime" not in source

    await upgrade(empty_engine, config=config)
    assert "staff_notes" in await _tables(empty_engine)
    assert await _differences(empty_engine, metadata) == []
    assert await revision(empty_engine, message="nothing", metadata=metadata, config=config) is None
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == len(_revisions()) + 1


def _kcxf_db(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**child_env(), **kcxf_env(settings)}
    return subprocess.run([sys.executable, "-m", "bot", "db", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=settings.data_dir.parent)


def test_kcxf_db_upgrade_and_current(empty_url: str, tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=empty_url)  # type: ignore[call-arg]
    [head] = heads()
    before = _kcxf_db(settings, "current")
    assert before.returncode == 0, before.stderr
    assert "not migrated" in before.stdout
    done = _kcxf_db(settings, "upgrade")
    assert done.returncode == 0, done.stderr
    assert f"{head} (head)" in done.stdout
    assert f"{head} (head)" in _kcxf_db(settings, "current").stdout
    down = _kcxf_db(settings, "downgrade", "base")
    assert down.returncode == 0 and "not migrated" in down.stdout


def test_the_installed_package_finds_its_migrations(tmp_path: Path):
    pytest.importorskip("setuptools", reason="building the package needs setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    for package in ("bot", "config", "db", "intake", "knowledge"):
        shutil.copytree(PROJECT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    build = tmp_path / "build"
    built = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                            "--build-lib", str(build)], cwd=source, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    shipped = {p.relative_to(MIGRATIONS_DIR) for p in MIGRATIONS_DIR.rglob("*") if p.is_file() and
               "__pycache__" not in p.parts}
    assert {p.relative_to(build / "db" / "migrations") for p in (build / "db" / "migrations").rglob("*")
            if p.is_file()} >= shipped

    # Migrate a database with the built copy alone on the path, from a folder outside the checkout.
    probe = ("import asyncio, sys, db.migrate as m; asyncio.run(m.upgrade(sys.argv[1])); "
             "print(m.MIGRATIONS_DIR); print(*asyncio.run(m.current(sys.argv[1])))")
    env = {**os.environ, "PYTHONPATH": str(build)}
    ran = subprocess.run([sys.executable, "-c", probe, f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    where, at = ran.stdout.splitlines()
    assert Path(where).is_relative_to(build) and at.split() == list(heads())
