"""web chat visitors: proven e-mail addresses (keyed hashes) and the one-time codes mailed to them

Revision ID: 5c1e0a7b3d21
Revises: 5e1d7c0a2b94
Create Date: 2026-12-04 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5c1e0a7b3d21'
down_revision: str | Sequence[str] | None = '5e1d7c0a2b94'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('web_identities',
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email_hash', name=op.f('pk_web_identities'))
    )
    with op.batch_alter_table('web_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_identities_external_id'), ['external_id'], unique=False)
    op.create_table('web_email_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('ip_key', sa.String(length=200), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_email_codes')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_web_email_codes_link_hash'))
    )
    with op.batch_alter_table('web_email_codes', schema=None) as batch_op:
        batch_op.create_index('ix_web_email_codes_email_at', ['email_hash', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_email_codes_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_web_email_codes_ip_at', ['ip_key', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_email_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_web_email_codes_ip_at')
        batch_op.drop_index(batch_op.f('ix_web_email_codes_expires_at'))
        batch_op.drop_index('ix_web_email_codes_email_at')
    op.drop_table('web_email_codes')
    with op.batch_alter_table('web_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_identities_external_id'))
    op.drop_table('web_identities')
