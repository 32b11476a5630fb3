"""Retention: drafts nobody has worked on for KCXF_DRAFT_RETENTION_DAYS are deleted with their uploaded files.

Only drafts that never reached the committee (open or withdrawn) are purged; a submitted entry is the committee's
record and stays. Run by `kcxf purge` and once a day by the running bot.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.clock import Clock
from intake.drafts import OPEN, WITHDRAWN, Draft
from intake.files import remove_uploads, upload_paths
from intake.queue import Submission
from intake.sealing import forget_opened

__all__ = ["PURGE_INTERVAL_S", "PurgeReport", "purge_abandoned", "purge_periodically"]

log = logging.getLogger(__name__)

PURGE_INTERVAL_S = 24 * 60 * 60
_PURGEABLE = (OPEN, WITHDRAWN)
_BATCH = 500


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove)."""

    cutoff: datetime
    drafts: int
    users: int
    files: int
    dry_run: bool


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
    files = len(doomed)
    if not dry_run and doomed:
        # After the commit: a failed transaction never leaves a draft pointing at files that are gone.
        files = await asyncio.to_thread(remove_uploads, files_dir, doomed)
    if not dry_run and stale:
        forget_opened()  # nor plain values this process remembers from opening them (intake.sealing)
    report = PurgeReport(cutoff=cutoff, drafts=len(stale), users=len({d.user_id for d in stale}), files=files,
                         dry_run=dry_run)
    if report.drafts and not dry_run:
        log.info("purged %d drafts of %d users untouched since %s; %d uploaded files removed",
                 report.drafts, report.users, cutoff.isoformat(), report.files)
    return report


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
