"""editions: drafts, records and logged questions belong to an edition; references count per edition

Everything stored before editions existed belongs to the one edition there was, 2024: records keep the year
their reference already carries, the rest is 2024, the knowledge revision's single row becomes 2024's, and
2024's reference counter starts after the highest record id (the number every 2024 reference was made from),
so the next 2024 reference is new and 2025 starts at 00001.

Revision ID: 5e1d7c0a2b94
Revises: c41f0a7e5d2b
Create Date: 2026-12-04 22:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e1d7c0a2b94'
down_revision: str | Sequence[str] | None = 'c41f0a7e5d2b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The only edition there was when this revision was written (a fact of history, not a setting).
FIRST_EDITION = 2024
_TABLES = ('drafts', 'submissions', 'unanswered_questions')


def upgrade() -> None:
    op.create_table('reference_counters',
    sa.Column('edition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('edition', name=op.f('pk_reference_counters'))
    )
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('edition', sa.Integer(), nullable=True))
    # A record's year is in its reference (KCXF-2024-00017); a draft submitted as a record is that record's.
    op.execute("UPDATE submissions SET edition = CAST(substr(reference, 6, 4) AS INTEGER) "
               "WHERE reference LIKE 'KCXF-____-%'")
    op.execute(f"UPDATE submissions SET edition = {FIRST_EDITION} WHERE edition IS NULL")
    op.execute("UPDATE drafts SET edition = (SELECT s.edition FROM submissions s WHERE s.draft_key = drafts.key) "
               "WHERE EXISTS (SELECT 1 FROM submissions s WHERE s.draft_key = drafts.key)")
    for table in _TABLES:
        op.execute(f"UPDATE {table} SET edition = {FIRST_EDITION} WHERE edition IS NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('edition', existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_edition'), ['edition'], unique=False)
    op.execute("INSERT INTO reference_counters (edition, last_number) "
               "SELECT edition, MAX(id) FROM submissions GROUP BY edition")
    op.execute(f"UPDATE knowledge_revision SET id = {FIRST_EDITION} WHERE id = 1")


def downgrade() -> None:
    op.execute(f"UPDATE knowledge_revision SET id = 1 WHERE id = {FIRST_EDITION}")
    op.execute("DELETE FROM knowledge_revision WHERE id <> 1")
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_edition'))
            batch_op.drop_column('edition')
    op.drop_table('reference_counters')
