"""caller_time_allowed: the marker of a database that takes event times from its callers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Event times come from the database's clock (db.core.dbclock). A caller's time is accepted only
by a demo database or by one holding the row of this table: a test database. The application
role may only read it (db.admin.roles.READ_ONLY_TABLES, re-applied after every migration), so
only the owner or a superuser can add the row. A new table only: nothing to rebuild on SQLite.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('caller_time_allowed',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_caller_time_allowed_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caller_time_allowed'))
    )


def downgrade() -> None:
    op.drop_table('caller_time_allowed')
