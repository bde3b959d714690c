"""intake: import batches, imported relations, privileged batches, people's confirmations

Adds ``imported`` to ``assignments`` and ``enrolments`` (a row the agency's files brought, ended
when a later file omits it) with the unique key of an imported assignment; the journal of
import runs; the four-eyes request that holds the privileged rows of one import; and the
one-time codes a person gives back to confirm an action about them.

Revision ID: 0007_intake
Revises: 0004_governance
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007_intake'
down_revision: str | None = '0004_governance'
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(
            'ux_assignments_imported', ['agent_id', 'person_id'], unique=True,
            sqlite_where=sa.text('imported'), postgresql_where=sa.text('imported'),
        )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('import_batches',
    sa.Column('id', BigId, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ran_by', sa.String(length=128), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('person_confirmations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('person_id', BigId, nullable=False),
    sa.Column('agent_id', BigId, nullable=False),
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_person_confirmations_person', 'person_confirmations', ['person_id', 'created_at'], unique=False)
    op.create_table('privilege_batches',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('import_batch', sa.BigInteger(), nullable=False),
    sa.Column('requested_by', sa.String(length=128), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_by_login', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('privilege_batch_items',
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('agent_id', BigId, nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=32), nullable=False),
    sa.Column('roles', sa.String(length=200), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['privilege_batches.id'], ),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], ),
    sa.PrimaryKeyConstraint('batch_id', 'agent_id')
    )


def downgrade() -> None:
    op.drop_table('privilege_batch_items')
    op.drop_table('privilege_batches')
    op.drop_index('ix_person_confirmations_person', table_name='person_confirmations')
    op.drop_table('person_confirmations')
    op.drop_table('import_batches')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('imported')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('ux_assignments_imported')
        batch_op.drop_column('imported')
