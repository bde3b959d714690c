"""citizen challenges: the keyed (ft_id, birth date) pair the person's throttle counts

Revision ID: 0007_citizen_pair
Revises: 0003_journal_citizen
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_citizen_pair'
down_revision: str | None = '0003_journal_citizen'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('citizen_challenges', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pair_key', sa.String(length=64), server_default='', nullable=False)
        )
        batch_op.create_index('ix_citizen_challenges_pair', ['pair_key', 'created_at'])


def downgrade() -> None:
    with op.batch_alter_table('citizen_challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_citizen_challenges_pair')
        batch_op.drop_column('pair_key')
