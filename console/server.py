"""Serving the console: on its own (`kcxf console`) or beside the bot or the terminal chat (`kcxf run`).

Beside the bot it shares the process's event loop and runtime (one database engine, one knowledge base, so an
FAQ edited in the console is what the bot answers from). The bot or the chat owns Ctrl-C and SIGTERM then; the
console is stopped after them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from bot.runtime import Runtime
from console.app import create_app
from console.staff import count_staff

__all__ = ["Embedded", "address_lines", "serve", "start_embedded"]

log = logging.getLogger(__name__)

GRACE_S = 5


class _QuietSignals(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the program it runs in, and says when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.listening.set()


@dataclass
class Embedded:
    """A console running as a task on the current event loop."""

    server: _QuietSignals
    task: asyncio.Task[None]
    url: str

    async def stop(self) -> None:
        """Finish the requests in hand and close the socket."""
        self.server.should_exit = True
        await self.task


def _config(runtime: Runtime, *, host: str, port: int) -> uvicorn.Config:
    # proxy_headers: behind a reverse proxy on loopback, the login throttle sees the client's address.
    # An open web chat page keeps its event stream open: at shutdown such requests get a few seconds, not forever.
    return uvicorn.Config(create_app(runtime), host=host, port=port, proxy_headers=True, log_config=None,
                          access_log=False, timeout_graceful_shutdown=GRACE_S)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so that a port in use is an OSError the caller can report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_of(host: str, port: int) -> str:
    """The address people type into a browser."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


async def address_lines(runtime: Runtime, url: str) -> list[str]:
    """What to print at start: the address and, while there is no account, how to create the first one."""
    lines = [f"组委会后台 Committee console: {url}", f"网页咨询申报 Web chat for entrants: {url}chat"]
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        if await count_staff(session) == 0:
            lines.append("还没有工作人员账号 No staff account yet: kcxf staff add NAME --role admin")
    return lines


async def start_embedded(runtime: Runtime, *, host: str, port: int) -> Embedded:
    """Start the console on this loop; OSError when the address cannot be bound."""
    sock = _bind(host, port)
    server = _QuietSignals(_config(runtime, host=host, port=port))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="kcxf-console")
    listening = asyncio.ensure_future(server.listening.wait())
    await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        listening.cancel()
        task.result()  # start-up failed: raise its error here
        raise RuntimeError("the console stopped during start-up")
    return Embedded(server=server, task=task, url=url_of(host, port))


async def serve(runtime: Runtime, *, host: str, port: int) -> None:
    """Serve the console until Ctrl-C or SIGTERM, then release the runtime's connections."""
    sock = _bind(host, port)
    server = uvicorn.Server(_config(runtime, host=host, port=port))
    try:
        await server.serve(sockets=[sock])
    finally:
        await runtime.close()
