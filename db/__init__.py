"""Database layer: declarative base, async engine and sessions, schema migrations."""

from db.base import NAMING_CONVENTION, Base, UTCDateTime, storable, utcnow
from db.migrate import upgrade
from db.session import make_engine, make_sessionmaker

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "UTCDateTime",
    "make_engine",
    "make_sessionmaker",
    "storable",
    "upgrade",
    "utcnow",
]
