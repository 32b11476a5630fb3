"""The committee's web console: queue, review, export and the knowledge base, in a browser.

`create_app` is imported on first use: bot.runtime imports the console's table modules (staff, sessions,
throttle, audit) to build the schema, and the app itself imports bot.runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from console.app import create_app

        return create_app
    raise AttributeError(f"module 'console' has no attribute {name!r}")
