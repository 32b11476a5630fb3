"""judging: rounds, assignments, decisions; staff judge role and email

Revision ID: 2e967379f9b5
Revises: a8d421f1d064
Create Date: 2026-12-04 19:03:33.122018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '2e967379f9b5'
down_revision: str | Sequence[str] | None = 'a8d421f1d064'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('judging_rounds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('award_id', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('per_entry', sa.Integer(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_rounds'))
    )
    with op.batch_alter_table('judging_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_rounds_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_rounds_status'), ['status'], unique=False)

    op.create_table('judging_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=True),
    sa.Column('judge_name', sa.String(length=64), nullable=False),
    sa.Column('conflict', sa.String(length=16), nullable=False),
    sa.Column('conflict_note', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('comments', sa.JSON(), nullable=False),
    sa.Column('risks', sa.JSON(), nullable=False),
    sa.Column('recommendation', sa.String(length=40), nullable=True),
    sa.Column('overall', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['judge_id'], ['staff.id'], name=op.f('fk_judging_assignments_judge_id_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['judging_rounds.id'], name=op.f('fk_judging_assignments_round_id_judging_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_judging_assignments_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_assignments')),
    sa.UniqueConstraint('round_id', 'submission_id', 'judge_name', name=op.f('uq_judging_assignments_round_id_submission_id_judge_name'))
    )
    with op.batch_alter_table('judging_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_judging_assignments_judge', ['judge_id', 'round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_assignments_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_assignments_submission_id'), ['submission_id'], unique=False)

    op.create_table('judging_decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('chosen', sa.Boolean(), nullable=False),
    sa.Column('to_status', sa.String(length=32), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('total', sa.Double(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['judging_rounds.id'], name=op.f('fk_judging_decisions_round_id_judging_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_judging_decisions_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_judging_decisions')),
    sa.UniqueConstraint('round_id', 'submission_id', name=op.f('uq_judging_decisions_round_id_submission_id'))
    )
    with op.batch_alter_table('judging_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judging_decisions_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_judging_decisions_submission_id'), ['submission_id'], unique=False)

    # A judge role beside the committee's (autogenerate does not see a changed CHECK), and where reminders go.
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.drop_constraint(op.f('ck_staff_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_staff_role'), "role IN ('reviewer', 'maintainer', 'admin', 'judge')")


def downgrade() -> None:
    op.execute("DELETE FROM staff WHERE role = 'judge'")
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_staff_role'), "role IN ('reviewer', 'maintainer', 'admin')")
        batch_op.drop_column('email')

    with op.batch_alter_table('judging_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_decisions_submission_id'))
        batch_op.drop_index(batch_op.f('ix_judging_decisions_round_id'))

    op.drop_table('judging_decisions')
    with op.batch_alter_table('judging_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_assignments_submission_id'))
        batch_op.drop_index(batch_op.f('ix_judging_assignments_round_id'))
        batch_op.drop_index('ix_judging_assignments_judge')

    op.drop_table('judging_assignments')
    with op.batch_alter_table('judging_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judging_rounds_status'))
        batch_op.drop_index(batch_op.f('ix_judging_rounds_award_id'))

    op.drop_table('judging_rounds')
