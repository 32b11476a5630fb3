"""The harness allows loopback only (pytest-socket, configured in pyproject addopts); this proves it."""

from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError


@pytest.mark.parametrize("address", [("10.255.255.1", 80), ("93.184.216.34", 80)])
def test_non_loopback_connections_are_refused(address: tuple[str, int]):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.01)  # a seatbelt only: the guard refuses inside connect(), before any packet leaves
        # pytest-socket warns, then raises; the warning is expected here (warnings are errors elsewhere).
        with pytest.warns(UserWarning, match=address[0]), pytest.raises(SocketConnectBlockedError):
            sock.connect(address)


def test_loopback_is_allowed():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            conn, _ = server.accept()
            conn.close()
