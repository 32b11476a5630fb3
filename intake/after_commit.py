"""What a step leaves on disk once it has committed: uploads moved into place, the 申报表 rendered.

Written inside the step's transaction, a file outlived a rollback (named by no draft, never purged) and the
rendering held SQLite's write lock for every other entrant. Done after the commit, a failure cannot undo the
step, so each piece is tried a few times; what still fails is logged, and the purge or the console finish it
(a staged upload is placed or removed by the purge; the console renders a missing 申报表 when it is opened).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, stop_after_attempt, wait_random_exponential

from config import Campaign
from intake import queue, render_worker
from intake.files import StagedUpload, place_upload
from intake.forms import Form

__all__ = ["ATTEMPTS", "place_uploads", "render_record_form", "retried"]

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 3


async def retried(work: Callable[[], Awaitable[T]], *, what: str) -> T | None:
    """`work()` tried up to ATTEMPTS times with a short jittered wait between; None (logged) when all failed."""
    try:
        async for attempt in AsyncRetrying(stop=stop_after_attempt(ATTEMPTS), reraise=True,
                                           wait=wait_random_exponential(multiplier=0.05, max=1.0)):
            with attempt:
                return await work()
    except Exception:
        log.exception("%s failed %d times; left for the purge or the console", what, ATTEMPTS)
    return None


async def place_uploads(files_dir: Path, staged: list[StagedUpload]) -> None:
    """Move the uploads a committed step kept into place."""
    for upload in staged:
        await retried(partial(asyncio.to_thread, place_upload, files_dir, upload), what=f"placing {upload.stored.path}")


async def render_record_form(
    sessions: async_sessionmaker[AsyncSession], *, reference: str, form: Form, campaign: Campaign,
    files_dir: Path, submitted_at: datetime,
) -> Path | None:
    """Render a queued record's 申报表 from its snapshot (the committee's copy, in Chinese) and record where it
    is; None when that failed every time."""

    async def once() -> Path:
        async with sessions() as session:
            record = await queue.get_submission(session, reference)
        if record is None:
            raise LookupError(f"no record {reference}")
        # No transaction is open while the worker process writes the document.
        path = await render_worker.render(form=form, answers=record.answers, campaign=campaign, reference=reference,
                                          submitted_at=submitted_at, out_dir=files_dir / "forms" / reference,
                                          lang="zh")
        async with sessions() as session, session.begin():
            record = await queue.get_submission(session, reference)
            if record is None:
                raise LookupError(f"no record {reference}")
            await queue.set_form_file(session, record, str(path.relative_to(files_dir)))
        return path

    return await retried(once, what=f"rendering the 申报表 of {reference}")
