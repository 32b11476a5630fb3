"""knowledge inbox: kind of logged message, staff page visits, daily digests

Revision ID: 51cb03d61644
Revises: 2e967379f9b5
Create Date: 2026-12-04 19:06:23.905657
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '51cb03d61644'
down_revision: str | Sequence[str] | None = '2e967379f9b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbox_digests',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('groups', sa.Integer(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_inbox_digests'))
    )
    op.create_table('staff_page_visits',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('page', sa.String(length=32), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_page_visits_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', 'page', name=op.f('pk_staff_page_visits'))
    )
    # Everything logged so far was a declined question.
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='declined', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.drop_column('kind')

    op.drop_table('staff_page_visits')
    op.drop_table('inbox_digests')
