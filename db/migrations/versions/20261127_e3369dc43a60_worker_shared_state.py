"""event receipts, rate windows, mail attempts; notifications.claimed_at

Revision ID: e3369dc43a60
Revises: 3bc9491b1453
Create Date: 2026-11-27 06:43:27.136869
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e3369dc43a60'
down_revision: str | Sequence[str] | None = '3bc9491b1453'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_receipts',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_event_receipts'))
    )
    with op.batch_alter_table('event_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_receipts_created_at'), ['created_at'], unique=False)

    op.create_table('rate_windows',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_windows'))
    )
    with op.batch_alter_table('rate_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_windows_started_at'), ['started_at'], unique=False)

    op.create_table('mail_attempts',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_mail_attempts_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', name=op.f('pk_mail_attempts'))
    )
    with op.batch_alter_table('mail_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_attempts_next_try_at'), ['next_try_at'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('mail_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_attempts_next_try_at'))

    op.drop_table('mail_attempts')
    with op.batch_alter_table('rate_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_windows_started_at'))

    op.drop_table('rate_windows')
    with op.batch_alter_table('event_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_receipts_created_at'))

    op.drop_table('event_receipts')
