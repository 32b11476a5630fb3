"""judging: the jury chair's sign-off of 初审 decisions (staff.jury_chair; who proposed and who signed off a round)

Revision ID: c41f0a7e5d2b
Revises: 344f60c39179
Create Date: 2026-12-04 22:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c41f0a7e5d2b'
down_revision: str | Sequence[str] | None = '344f60c39179'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jury_chair', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('judging_rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('signed_off_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('signed_off_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A round waiting for the chair has no place without the columns: its proposal is dropped, the round closed.
    op.execute("DELETE FROM judging_decisions WHERE round_id IN "
               "(SELECT id FROM judging_rounds WHERE status = 'proposed')")
    op.execute("UPDATE judging_rounds SET status = 'closed' WHERE status = 'proposed'")
    with op.batch_alter_table('judging_rounds', schema=None) as batch_op:
        batch_op.drop_column('signed_off_at')
        batch_op.drop_column('signed_off_by')
        batch_op.drop_column('proposed_at')
        batch_op.drop_column('proposed_by')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('jury_chair')
