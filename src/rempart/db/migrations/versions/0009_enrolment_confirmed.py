"""enrolments: whether the relation is confirmed (by the person's code or the agency's import)

An enrolment made from an exact lookup starts unconfirmed and opens no contact data until the
person gives back the one-time code sent to the address on file, or the agency's prescription
arrives through the import. Existing enrolments (seeded, imported) count as confirmed.

Revision ID: 0009_enrolment_confirmed
Revises: 0007_intake
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_enrolment_confirmed'
down_revision: str | None = '0007_intake'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('confirmed', sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column('confirm_code_hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('confirm_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirm_attempts', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('confirm_attempts')
        batch_op.drop_column('confirm_expires_at')
        batch_op.drop_column('confirm_code_hash')
        batch_op.drop_column('confirmed')
