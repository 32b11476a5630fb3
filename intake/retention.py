"""Retention: drafts nobody has worked on for KCXF_DRAFT_RETENTION_DAYS are deleted with their uploaded files.

Only drafts that never reached the committee (open or withdrawn) are purged; a submitted entry is the committee's
record and stays. Uploaded files no draft or record names (left by a step that failed after staging its upload)
go too, once they are older than ORPHAN_GRACE; a staged upload a committed row names is moved into place
instead (the process stopped between the commit and the move). So do the answers kept for a 👍 / 👎 that nobody
rated in that period (knowledge.ratings). Run by `kcxf purge` and once a day by the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, delete, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.clock import Clock
from intake.drafts import OPEN, WITHDRAWN, Draft
from intake.files import STAGED_PREFIX, remove_uploads, upload_paths
from intake.queue import Submission
from intake.sealing import forget_opened
from knowledge.ratings import purge_unrated

__all__ = ["ORPHAN_GRACE", "PURGE_INTERVAL_S", "PurgeReport", "purge_abandoned", "purge_periodically"]

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 24 * 60 * 60
_PURGEABLE = (OPEN, WITHDRAWN)
_BATCH = 500
# Far longer than any step takes between staging an upload and committing the draft that names it. File ages
# are on the file system's clock, not the campaign's (a rehearsal's clock may stand in another year).
ORPHAN_GRACE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    cutoff: datetime
    drafts: int
    users: int
    files: int
    dry_run: bool
    # Uploaded files no row named, older than ORPHAN_GRACE.
    orphans: int = 0
    # Answers kept for a rating that none came for.
    answers: int = 0


async def purge_abandoned(
    sessions: async_sessionmaker[AsyncSession], *, now: datetime, days: int, files_dir: Path, dry_run: bool = False,
) -> PurgeReport:
    """Delete the open and withdrawn drafts last touched more than `days` before `now`, then their files."""
    cutoff = now - timedelta(days=days)
    async with sessions() as session, session.begin():
        stale = list(await session.scalars(
            select(Draft).where(Draft.status.in_(_PURGEABLE), Draft.updated_at < cutoff).order_by(Draft.id)))
        owners = {d.user_id for d in stale}
        keep = await _paths_still_needed(session, owners=owners, leaving={d.id for d in stale})
        if not dry_run:
            purged = await _delete(session, [d.id for d in stale], cutoff=cutoff)
            # A draft touched after it was read above was not deleted: it keeps its files.
            stale = [d for d in stale if d.id in purged]
        doomed = {path for d in stale for path in upload_paths(d.answers)} - keep
        answers = await purge_unrated(session, before=cutoff, dry_run=dry_run)
    files = len(doomed)
    if not dry_run and doomed:
        # After the commit: a failed transaction never leaves a draft pointing at files that are gone.
        files = await asyncio.to_thread(remove_uploads, files_dir, doomed)
    if not dry_run and stale:
        forget_opened()  # nor plain values this process remembers from opening them (intake.sealing)
    orphans = await _sweep_orphans(sessions, files_dir=files_dir, dry_run=dry_run)
    report = PurgeReport(cutoff=cutoff, drafts=len(stale), users=len({d.user_id for d in stale}), files=files,
                         dry_run=dry_run, orphans=orphans, answers=answers)
    if report.drafts and not dry_run:
        log.info("purged %d drafts of %d users untouched since %s; %d uploaded files removed",
                 report.drafts, report.users, cutoff.isoformat(), report.files)
    if report.answers and not dry_run:
        log.info("forgot %d answers given before %s that nobody rated", report.answers, cutoff.isoformat())
    if report.orphans and not dry_run:
        log.info("removed %d uploaded files no draft or record names", report.orphans)
    return report


async def _sweep_orphans(sessions: async_sessionmaker[AsyncSession], *, files_dir: Path, dry_run: bool) -> int:
    """Place staged uploads a row names; remove (count, in a dry run) other files no row names, past the grace."""
    uploads = Path(files_dir) / "uploads"
    if not await asyncio.to_thread(uploads.is_dir):
        return 0
    # Listed before the rows are read: a file staged and committed after the read is younger than the grace.
    on_disk = await asyncio.to_thread(_upload_files, Path(files_dir))
    named = await _named_uploads(sessions)
    return await asyncio.to_thread(_sweep, Path(files_dir), on_disk, named, time.time() - ORPHAN_GRACE.total_seconds(),
                                   dry_run)


def _upload_files(files_dir: Path) -> list[str]:
    uploads = files_dir / "uploads"
    return [path.relative_to(files_dir).as_posix()
            for folder in uploads.iterdir() if folder.is_dir()
            for path in folder.iterdir() if path.is_file()]


async def _named_uploads(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    """Every upload path a draft or a record names, read as stored (a path is never sealed)."""
    named: set[str] = set()
    async with sessions() as session:
        for (answers,) in await session.execute(select(type_coerce(Draft.answers, JSON))):
            named.update(upload_paths(answers))
        rows = await session.execute(select(type_coerce(Submission.answers, JSON), Submission.attachments))
        for answers, attachments in rows:
            named.update(upload_paths([answers, attachments]))
    return named


def _sweep(files_dir: Path, on_disk: list[str], named: set[str], older_than: float, dry_run: bool) -> int:
    orphans: list[str] = []
    for relative in on_disk:
        path = files_dir / relative
        if relative in named:
            continue
        placed = path.with_name(path.name.removeprefix(STAGED_PREFIX))
        if path.name.startswith(STAGED_PREFIX) and placed.relative_to(files_dir).as_posix() in named:
            if not dry_run and not placed.exists():
                os.replace(path, placed)
                log.info("placed %s, staged by a step that committed", placed.relative_to(files_dir))
            continue
        try:
            if path.stat().st_mtime < older_than:
                orphans.append(relative)
        except FileNotFoundError:  # placed or removed meanwhile
            continue
    return len(orphans) if dry_run else remove_uploads(files_dir, orphans)


async def _paths_still_needed(session: AsyncSession, *, owners: set[int], leaving: set[int]) -> set[str]:
    """Uploads of these users that a submitted entry or a draft staying behind still names."""
    keep: set[str] = set()
    owner_list = sorted(owners)
    for start in range(0, len(owner_list), _BATCH):
        batch = owner_list[start:start + _BATCH]
        for record in await session.scalars(select(Submission).where(Submission.user_id.in_(batch))):
            keep.update(upload_paths([record.attachments, record.answers]))
        for draft in await session.scalars(select(Draft).where(Draft.user_id.in_(batch))):
            if draft.id not in leaving:
                keep.update(upload_paths(draft.answers))
    return keep


async def _delete(session: AsyncSession, ids: Sequence[int], *, cutoff: datetime) -> set[int]:
    deleted: set[int] = set()
    for start in range(0, len(ids), _BATCH):
        # The conditions are checked again by the database: a draft the entrant returned to meanwhile stays.
        query = (
            delete(Draft)
            .where(Draft.id.in_(ids[start:start + _BATCH]), Draft.status.in_(_PURGEABLE), Draft.updated_at < cutoff)
            .returning(Draft.id)
            .execution_options(synchronize_session=False)
        )
        deleted.update((await session.scalars(query)).all())
    return deleted


async def purge_periodically(
    sessions: async_sessionmaker[AsyncSession], *, clock: Clock, days: int, files_dir: Path,
    interval_s: float = PURGE_INTERVAL_S,
) -> None:
    """Purge now and then every `interval_s` seconds, until cancelled; a failure is logged and tried next time."""
    while True:
        try:
            await purge_abandoned(sessions, now=clock.now(), days=days, files_dir=files_dir)
        except Exception:
            log.exception("purging abandoned drafts failed")
        await asyncio.sleep(interval_s)
