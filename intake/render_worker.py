"""The chat's 申报表 are rendered in a worker process, not a thread of the bot.

python-docx is Python code: a form takes some 20-40 ms of CPU, and in a thread it holds the GIL the event loop
needs, so every other entrant's reply waited while one entrant's form was written (measured with 200 concurrent
applicants in bench/intake.py). One worker process per bot process renders them instead, beside the loop.
The worker starts with the first submission (about a second, once) and is shared by every engine in the process.
Like any spawned process it imports the main script again, so a script that runs the bot keeps that work under
`if __name__ == "__main__":` (kcxf, python -m bot, the benchmarks and pytest do).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path
from typing import Any

from intake.render import render_form

__all__ = ["render"]

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
# How often the worker looks whether the bot that started it is still there.
PARENT_CHECK_S = 1.0


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: a fresh interpreter, not a fork of a process running an event loop and database threads.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_leave_with, initargs=(os.getpid(),))
    return _pool


def _leave_with(parent: int) -> None:
    """In the worker: exit once the bot is gone. A bot that is killed (SIGKILL, the OOM killer) cannot say
    goodbye, and the worker, which holds its own end of the task queue, would otherwise wait for work forever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="leave-with-the-bot", daemon=True).start()


async def render(**kwargs: Any) -> Path:
    """render_form(**kwargs) in the worker process; a worker that died (killed, out of memory) is replaced once."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), partial(render_form, **kwargs))
    except BrokenProcessPool:
        log.warning("the form-rendering process died; starting another")
        _pool = None
        return await loop.run_in_executor(_executor(), partial(render_form, **kwargs))
