"""A TCP server on loopback that misbehaves at the connection level: it hangs up at once, or never says a word."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

__all__ = ["Behaviour", "misbehaving_server"]

Behaviour = Literal["hang up", "silent"]


@contextmanager
def misbehaving_server(behaviour: Behaviour) -> Iterator[int]:
    """Yield the port of a server that closes every connection it accepts ("hang up") or keeps it open without
    sending or reading anything ("silent", so the client's timeout is what ends the conversation)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so the accepting thread notices the end of the test
    held: list[socket.socket] = []
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the test is over
                return
            if behaviour == "hang up":
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()
