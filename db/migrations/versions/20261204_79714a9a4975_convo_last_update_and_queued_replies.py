"""conversation_states.last_update (late updates refused) and notifications.extra (queued replies)

Revision ID: 79714a9a4975
Revises: 51cb03d61644
Create Date: 2026-12-04 19:25:20.709977
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '79714a9a4975'
down_revision: str | Sequence[str] | None = '51cb03d61644'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('conversation_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_update', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra', sa.JSON(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('extra')

    with op.batch_alter_table('conversation_states', schema=None) as batch_op:
        batch_op.drop_column('last_update')

