"""Database layer: declarative base, async engine and sessions."""

from db.base import NAMING_CONVENTION, Base, UTCDateTime, utcnow
from db.session import create_schema, make_engine, make_sessionmaker

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "UTCDateTime",
    "create_schema",
    "make_engine",
    "make_sessionmaker",
    "utcnow",
]
