"""incident response: incidents, their logs, their letters

Revision ID: 0006_incident
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006_incident'
down_revision: str | None = '0001_core'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', _ID, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=80), nullable=False),
    sa.Column('selector', sa.Text(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('aware_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('alert_id', sa.BigInteger(), nullable=False),
    sa.Column('milestones', sa.Text(), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('incident_events',
    sa.Column('id', _ID, nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=80), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident_events', schema=None) as batch_op:
        batch_op.create_index('ix_incident_events_incident', ['incident_id', 'at'], unique=False)
    op.create_table('incident_letters',
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('ft_id', sa.String(length=8), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('incident_id', 'ft_id')
    )
    with op.batch_alter_table('incident_letters', schema=None) as batch_op:
        batch_op.create_index('ix_incident_letters_state', ['incident_id', 'state', 'ft_id'], unique=False)


def downgrade() -> None:
    op.drop_table('incident_letters')
    op.drop_table('incident_events')
    op.drop_table('incidents')
