"""A real Chroma server on loopback (`chroma run`, shipped with the chromadb package), started and stopped by a test."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

START_S = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _chroma_cli() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` command of the chromadb package is not installed")
    return found


class ChromaServer:
    """One `chroma run --path DIR --port P`; start() waits until it answers, kill() and start() again keep the data."""

    def __init__(self, path: Path, *, port: int | None = None) -> None:
        self.path = path
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> ChromaServer:
        """Start the server and wait until its heartbeat answers."""
        self.path.mkdir(parents=True, exist_ok=True)
        log = (self.path.parent / f"chroma-{self.port}.log").open("ab")
        with log:
            self._process = await asyncio.create_subprocess_exec(
                _chroma_cli(), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        deadline = asyncio.get_running_loop().time() + START_S
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if self._process.returncode is not None:
                    raise RuntimeError(f"chroma exited with {self._process.returncode}; see {log.name}")
                try:
                    if (await client.get(f"{self.url}/api/v2/heartbeat")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"chroma did not answer within {START_S:.0f} s; see {log.name}")
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL, as a crash would; the port is free again when this returns."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await self._process.wait()
        self._process = None

    def pause(self) -> None:
        """SIGSTOP: the server still accepts connections but answers nothing (a hung server)."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after pause()."""
        assert self._process is not None
        os.kill(self._process.pid, signal.SIGCONT)

    async def close(self) -> None:
        """Stop the server whatever state it is in."""
        if self._process is not None and self._process.returncode is None:
            self.resume()
        await self.kill()
