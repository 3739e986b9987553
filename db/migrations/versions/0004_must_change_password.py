"""user_account.must_change_password: a one-time password must be replaced at the next sign-in

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A new column only (SQLite adds it in place, no table rebuild). Until now no password could be
changed, so the administrator of an existing real database still signs in with the one-time
password it was given: it is flagged here, and its next sign-in asks for a new one. A demo
database (app_setting 'demo') keeps its published demo password unflagged.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    op.execute(sa.text(
        "UPDATE user_account SET must_change_password = :yes WHERE username = 'admin' "
        "AND NOT EXISTS (SELECT 1 FROM app_setting WHERE key = 'demo')"
    ).bindparams(yes=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
