"""Every table of the application, found by importing every module of its packages.

Models live beside the code that uses them (bot/users.py, intake/queue.py, …), so Base.metadata knows a table
only once its module is imported. Autogenerating a revision, and the test that the migrations match the
models, must see all of them, including tables added in a new module nobody listed anywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from sqlalchemy import MetaData

from db.base import Base

__all__ = ["APP_PACKAGES", "load_models"]

# The packages that may define tables (pyproject's packages.find); those not installed are passed over.
APP_PACKAGES = ("config", "db", "knowledge", "intake", "bot", "console", "judging")


def load_models(packages: tuple[str, ...] = APP_PACKAGES) -> MetaData:
    """Import every module of `packages` and return the metadata that now holds all their tables."""
    for package in packages:
        if importlib.util.find_spec(package) is None:
            continue
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if not _runs_on_import(module.name):
                importlib.import_module(module.name)
    return Base.metadata


def _runs_on_import(name: str) -> bool:
    # `python -m` entry points, and Alembic's scripts (env.py needs a migration context): never models.
    return name.endswith(".__main__") or name == "db.migrations" or name.startswith("db.migrations.")
