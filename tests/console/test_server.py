"""Serving the console: beside the chat in one process (`kcxf run`), and embedded on a running event loop."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from console.server import start_embedded


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_kcxf_run_serves_the_console_beside_the_terminal_chat(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCXF_")} | {
        "KCXF_DATA_DIR": str(tmp_path / "var"), "KCXF_CONSOLE_PORT": str(port), "COLUMNS": "200"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = ""
        while "kcxf staff add" not in seen:
            line = await asyncio.wait_for(process.stdout.readline(), 180)
            assert line, (seen, (await process.stderr.read()).decode())
            seen += line.decode()
        assert f"Committee console: http://127.0.0.1:{port}/" in seen
        assert "No staff account yet: kcxf staff add NAME --role admin" in seen
        async with httpx.AsyncClient() as client:
            login = await client.get(f"http://127.0.0.1:{port}/login")
        assert login.status_code == 200 and "登录组委会后台" in login.text
        process.stdin.write(b"/quit\n")
        await process.stdin.drain()
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    with pytest.raises(httpx.ConnectError):  # stopped with the chat
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/login")


async def test_an_embedded_console_starts_and_stops_and_reports_a_busy_port(console_runtime: Runtime):
    port = _free_port()
    side = await start_embedded(console_runtime, host="127.0.0.1", port=port)
    try:
        assert side.url == f"http://127.0.0.1:{port}/"
        async with httpx.AsyncClient() as client:
            assert (await client.get(side.url + "login")).status_code == 200
        with pytest.raises(OSError):
            await start_embedded(console_runtime, host="127.0.0.1", port=port)
    finally:
        await side.stop()
    assert side.task.done()
