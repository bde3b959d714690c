"""citizen sessions: bound like agents' sessions, to an address (IPv6: its /64) and a browser

Revision ID: 0008_citizen_session_binding
Revises: 0007_citizen_pair
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008_citizen_session_binding'
down_revision: str | None = '0007_citizen_pair'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('citizen_sessions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('bound_address', sa.String(length=64), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('user_agent', sa.String(length=512), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('citizen_sessions', schema=None) as batch_op:
        batch_op.drop_column('user_agent')
        batch_op.drop_column('bound_address')
