"""journal citizen: one-time codes, sessions and flags for "who consulted my file"

Revision ID: 0003_journal_citizen
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_journal_citizen'
down_revision: str | None = '0001_core'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('citizen_challenges',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('ft_id', sa.String(length=8), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_citizen_challenges_ft_id', 'citizen_challenges', ['ft_id', 'created_at'], unique=False)
    op.create_index('ix_citizen_challenges_address', 'citizen_challenges', ['client_address', 'created_at'], unique=False)
    op.create_table('citizen_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('csrf_hash', sa.String(length=64), nullable=False),
    sa.Column('ft_id', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_citizen_sessions_expires_at'), 'citizen_sessions', ['expires_at'], unique=False)
    op.create_table('citizen_flags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ft_id', sa.String(length=8), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('alert_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ft_id', 'seq', name='uq_citizen_flags_ft_id_seq')
    )


def downgrade() -> None:
    op.drop_table('citizen_flags')
    op.drop_index(op.f('ix_citizen_sessions_expires_at'), table_name='citizen_sessions')
    op.drop_table('citizen_sessions')
    op.drop_index('ix_citizen_challenges_address', table_name='citizen_challenges')
    op.drop_index('ix_citizen_challenges_ft_id', table_name='citizen_challenges')
    op.drop_table('citizen_challenges')
