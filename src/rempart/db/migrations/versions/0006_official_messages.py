"""official messages: the register of every message sent to a person, and the verifications

Revision ID: 0006_official_messages
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_official_messages'
down_revision: str | None = '0001_core'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('official_messages',
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('ft_id', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('reference'),
    sa.UniqueConstraint('key')
    )
    op.create_index('ix_official_messages_ft_id', 'official_messages', ['ft_id', 'registered_at'], unique=False)
    op.create_table('message_checks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('genuine', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_message_checks_address', 'message_checks', ['client_address', 'genuine', 'at'], unique=False)
    op.create_index('ix_message_checks_at', 'message_checks', ['genuine', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_message_checks_at', table_name='message_checks')
    op.drop_index('ix_message_checks_address', table_name='message_checks')
    op.drop_table('message_checks')
    op.drop_index('ix_official_messages_ft_id', table_name='official_messages')
    op.drop_table('official_messages')
