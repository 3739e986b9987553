"""sign_in_failure and user_account.demo: the sign-in gate and the rule for demo mode

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

``sign_in_failure`` holds the running count of failed sign-ins per account name and per
workstation (db.auth.signin): the audit log is append-only, so the count cannot be folded into
an audit row in place. ``user_account.demo`` marks the accounts the demo builder made; a
database holding any other account is not in demo mode (db.demo.build.demo_marker).

Back-fill: on a database marked demo, an account whose password is the published demo password
("demo") is a demo account; every other account is real. The password is checked with argon2
(once per distinct hash: a demo build gives all its accounts one hash), not by name, so a real
officer called "duty1" is not taken for a demo account.

(Written against 0005 while 0006/0007 were in flight; re-parented onto 0007 when they merged.)
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DEMO_PASSWORD = "demo"  # db.demo.accounts.DEMO_PASSWORD, frozen here as it was


def _is_demo_password(stored_hash: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(stored_hash, DEMO_PASSWORD)
    except (VerificationError, InvalidHashError):
        return False


def upgrade() -> None:
    op.create_table(
        'sign_in_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('workstation', sa.String(length=80), nullable=True),
        sa.CheckConstraint("kind IN ('account','workstation')", name=op.f('ck_sign_in_failure_kind')),
        sa.CheckConstraint('failures >= 0 AND refused >= 0', name=op.f('ck_sign_in_failure_counts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
        sa.UniqueConstraint('kind', 'key', name='uq_sign_in_failure_kind_key'),
    )
    with op.batch_alter_table('user_account', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('demo', sa.Boolean(), server_default=sa.false(), nullable=False))
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT 1 FROM app_setting WHERE key = 'demo'")).first() is None:
        return
    hashes = [h for (h,) in bind.execute(sa.text("SELECT DISTINCT password_hash FROM user_account"))]
    for stored_hash in hashes:
        if _is_demo_password(stored_hash):
            bind.execute(sa.text("UPDATE user_account SET demo = :yes WHERE password_hash = :h")
                         .bindparams(yes=True, h=stored_hash))


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('demo')
    op.drop_table('sign_in_failure')
