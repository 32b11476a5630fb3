"""answer ratings: answers kept until rated (👍/👎), and the answer a disliked question was given

Revision ID: 17b72211fe9f
Revises: 79714a9a4975
Create Date: 2026-12-04 20:08:16.691665
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '17b72211fe9f'
down_revision: str | Sequence[str] | None = '79714a9a4975'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('answer_ratings',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('lang', sa.String(length=2), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('vote', sa.String(length=16), nullable=True),
    sa.Column('voted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_answer_ratings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_ratings'))
    )
    with op.batch_alter_table('answer_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_ratings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_ratings_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('unanswered_questions', schema=None) as batch_op:
        batch_op.drop_column('answer')
    with op.batch_alter_table('answer_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_ratings_user_id'))
        batch_op.drop_index(batch_op.f('ix_answer_ratings_created_at'))

    op.drop_table('answer_ratings')
