"""knowledge revision counter; unanswered questions resolved by an FAQ

Revision ID: a8d421f1d064
Revises: 4bab7af1ae5f
Create Date: 2026-11-27 07:02:15.529365
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a8d421f1d064'
down_revision: str | Sequence[str] | None = '4bab7af1ae5f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('knowledge_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_revision'))
    )
    op.create_table('unanswered_resolutions',
    sa.Column('unanswered_id', sa.Integer(), nullable=False),
    sa.Column('faq_id', sa.String(length=64), nullable=True),
    sa.Column('resolved_by', sa.String(length=120), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unanswered_id'], ['unanswered_questions.id'], name=op.f('fk_unanswered_resolutions_unanswered_id_unanswered_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unanswered_id', name=op.f('pk_unanswered_resolutions'))
    )


def downgrade() -> None:
    op.drop_table('unanswered_resolutions')
    op.drop_table('knowledge_revision')
