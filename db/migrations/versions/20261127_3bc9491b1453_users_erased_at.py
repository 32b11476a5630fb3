"""users.erased_at: when a user erased their data with /delete (no display name is stored after it)

Revision ID: 3bc9491b1453
Revises: ac3783ab2741
Create Date: 2026-11-27 06:36:50.003806
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3bc9491b1453'
down_revision: str | Sequence[str] | None = 'ac3783ab2741'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
