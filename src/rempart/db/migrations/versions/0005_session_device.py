"""sessions: the browser key of a device-bound session (DBSC) and its last refresh challenge

Revision ID: 0005_session_device
Revises: 0002_auth
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005_session_device'
down_revision: str | None = '0002_auth'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device_key', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(
            sa.Column('device_nonce', sa.String(length=64), server_default='', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('device_nonce')
        batch_op.drop_column('device_key')
