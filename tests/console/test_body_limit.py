"""Request bodies are capped before anything reads them: an anonymous client cannot make the console spool a large
body to a temporary file (FastAPI parses a route's form before the login check runs)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.body_limit import MAX_BODY

BIG = 5 * 1024 * 1024
REFUSED = ("请求内容太大：最多 1 MB", "at most 1 MB")

# Files opened under the watched folder. An audit hook sees every os.open, including the unnamed O_TMPFILE file a
# spooled upload rolls over to (it never shows in a directory listing).
_watched: dict[str, Any] = {"dir": None, "opened": []}


def _on_audit(event: str, args: tuple[Any, ...]) -> None:
    folder = _watched["dir"]
    if folder is None or event != "open" or not isinstance(args[0], str | bytes | os.PathLike):
        return
    path = os.fsdecode(args[0])
    if path == folder or path.startswith(folder + os.sep):
        _watched["opened"].append(path)


sys.addaudithook(_on_audit)


@pytest.fixture
def spooled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The temporary-file folder moved under tmp_path and watched: the list of files opened in it."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    _watched.update(dir=str(folder), opened=[])
    try:
        yield _watched["opened"]
    finally:
        _watched.update(dir=None, opened=[])


def _refused(answer: httpx.Response) -> bool:
    return answer.status_code == 413 and all(text in answer.text for text in REFUSED)


async def test_a_large_anonymous_body_is_refused_and_nothing_is_written(client: httpx.AsyncClient, spooled: list[str]):
    declared = await client.post("/records/KCXF-2024-00001/status", data={"to": "approved", "seen": "x"},
                                 files={"note": ("note.txt", b"n" * BIG, "text/plain")})
    assert _refused(declared), (declared.status_code, declared.text[:200])

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield (b'--x\r\nContent-Disposition: form-data; name="name"; filename="a.txt"\r\n'
               b"Content-Type: text/plain\r\n\r\n")
        for _ in range(5):
            yield b"b" * (1024 * 1024)

    streamed = await client.post("/login", content=chunks(),
                                 headers={"content-type": "multipart/form-data; boundary=x"})
    assert _refused(streamed), (streamed.status_code, streamed.text[:200])
    assert spooled == []


async def test_the_upload_route_takes_more_only_from_someone_logged_in(
    client: httpx.AsyncClient, app: Any, login, spooled: list[str],
):
    over_cap = b"a" * (MAX_BODY + 1024 * 1024)  # over the console's cap, well under the upload's
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url),
                                 headers={"accept": "text/html"}) as anonymous:
        refused = await anonymous.post("/knowledge/documents", files={"file": ("big.txt", over_cap, "text/plain")})
    assert _refused(refused)
    assert spooled == []

    token = await login("maintainer")
    taken = await client.post("/knowledge/documents", data={"csrf_token": token},
                              files={"file": ("setup.exe", over_cap, "application/octet-stream")})
    assert taken.status_code == 400  # read, and refused by the route for what it is, not by the cap
    assert spooled, "a body this large is spooled to a temporary file once it is let in"
