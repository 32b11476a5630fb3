"""Key rotation's last step: every stored answer written again, so it is sealed with the first data key.

After KCXF_DATA_KEY became `NEW,OLD`, new writes use NEW but older rows stay sealed with OLD until rewritten;
`kcxf rekey` rewrites them all, after which OLD can be removed.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intake.drafts import Draft
from intake.queue import Submission

__all__ = ["reseal_all"]

log = logging.getLogger(__name__)

_BATCH = 200


async def reseal_all(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Rewrite the answers of every draft and submission under the first key; the number of rows rewritten."""
    total = 0
    for model in (Draft, Submission):
        last = 0
        while True:
            async with sessions() as session, session.begin():
                rows = list(await session.scalars(
                    select(model).where(model.id > last).order_by(model.id).limit(_BATCH)))
                if not rows:
                    break
                for row in rows:
                    # Read opened, written sealed anew. The version guard skips a row someone changed since it
                    # was read (that write sealed it with the first key already). updated_at is left alone: a
                    # rekey is no activity and must not restart a draft's retention period.
                    query = (
                        update(model)
                        .where(model.id == row.id, model.version == row.version)
                        .values(answers=row.answers, version=row.version + 1)
                        .execution_options(synchronize_session=False)
                    )
                    total += (await session.execute(query)).rowcount or 0
                last = rows[-1].id
    log.info("%d stored answers sealed again with the first data key", total)
    return total
