"""The environment a test gives a `kcxf` child process, and waiting for a server such a process starts."""

from __future__ import annotations

import asyncio
import os

# Kept from the test session's environment: the data key tests/conftest.py sets, so what a child seals the
# test can open (and the reverse).
INHERITED = ("KCXF_DATA_KEY",)


def child_env() -> dict[str, str]:
    """This process's environment without the developer's KCXF_ settings, except the session's data key."""
    return {k: v for k, v in os.environ.items() if k in INHERITED or not k.startswith("KCXF_")}


async def listening(port: int, *, within: float, host: str = "127.0.0.1") -> None:
    """Return once a server (another process's) accepts TCP connections on host:port; fail after `within` s.

    A `kcxf bot` webhook worker calls setWebhook before it listens (python-telegram-bot's order), so seeing its
    setWebhook does not mean that an update can be posted to it yet.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if loop.time() > deadline:
                raise AssertionError(f"nothing listens on {host}:{port} after {within:.0f} s") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            await writer.wait_closed()
            return
