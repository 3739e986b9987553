"""case.paused_left_seconds: the time a parked case had left, so un-parking resumes it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

One nullable column: SQLite adds and drops it in place (ALTER TABLE … ADD/DROP COLUMN, SQLite
3.35+), so ``case`` is never rebuilt (no copy, AUTOINCREMENT and the CHECK constraint untouched).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('case', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('paused_left_seconds', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('paused_left_seconds')
