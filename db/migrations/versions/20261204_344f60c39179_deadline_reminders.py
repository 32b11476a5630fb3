"""deadline reminders: each (draft, slot) sent once, and the users who stopped them (bot/reminders.py)

Revision ID: 344f60c39179
Revises: 17b72211fe9f
Create Date: 2026-12-04 22:04:31.564043
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '344f60c39179'
down_revision: str | Sequence[str] | None = '17b72211fe9f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_stops',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_stops_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_stops'))
    )
    op.create_table('reminders_sent',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'], name=op.f('fk_reminders_sent_draft_id_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', 'slot', name=op.f('pk_reminders_sent'))
    )


def downgrade() -> None:
    op.drop_table('reminders_sent')
    op.drop_table('reminder_stops')
