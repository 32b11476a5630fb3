"""The environment a test gives a `kcxf` child process."""

from __future__ import annotations

import os

# Kept from the test session's environment: the data key tests/conftest.py sets, so what a child seals the
# test can open (and the reverse).
INHERITED = ("KCXF_DATA_KEY",)


def child_env() -> dict[str, str]:
    """This process's environment without the developer's KCXF_ settings, except the session's data key."""
    return {k: v for k, v in os.environ.items() if k in INHERITED or not k.startswith("KCXF_")}
