"""The privacy tests stay on SQLite, also in the PostgreSQL run.

They prove that nothing is stored in clear by reading the database file itself (every cell, and the raw bytes of
the file and its write-ahead log) with the sqlite3 module, below the ORM and the sealing column type. Sealing is
the same column type on every database, and every intake test of the PostgreSQL run goes through it there.
"""

from __future__ import annotations

import pytest

from tests.databases import Databases, SqliteDatabases


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Databases:
    """SQLite files whatever KCXF_TEST_DATABASE_URL says."""
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-privacy"))
