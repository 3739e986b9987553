"""alert lifecycle: who cleared an alert and why, reopen count, cleared-row look-up index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

SQLite needs a batch rebuild of ``alert`` for the new foreign key. The rebuild must keep the
partial unique index on ``dedup_key`` (uncleared rows only) with its WHERE clause, so that index
is dropped before and created again after, explicitly, rather than trusting reflection; and it
must keep AUTOINCREMENT, which reflection does not see, with the sequence where it was (the
copy would restart it at the highest id left, handing out again ids of deleted alerts).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_OPEN = sa.text("state <> 'cleared'")
# A rebuilt SQLite table keeps AUTOINCREMENT (alert ids never reused) only when told again.
_TABLE_KWARGS = {"sqlite_autoincrement": True}


def _drop_open_key_index(batch_op) -> None:
    batch_op.drop_index('uq_alert_open_dedup_key', sqlite_where=_OPEN, postgresql_where=_OPEN)


def _create_open_key_index() -> None:
    op.create_index('uq_alert_open_dedup_key', 'alert', ['dedup_key'], unique=True,
                    sqlite_where=_OPEN, postgresql_where=_OPEN)


def _sqlite_sequence() -> int | None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return None
    return bind.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'alert'").scalar()


def _restore_sqlite_sequence(seq: int | None) -> None:
    if seq is None:
        return
    bind = op.get_bind()
    bind.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'alert' AND seq < ?", (seq,))
    bind.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) SELECT 'alert', ? WHERE NOT "
                         "EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'alert')", (seq,))


def upgrade() -> None:
    seq = _sqlite_sequence()
    with op.batch_alter_table('alert', schema=None) as batch_op:
        _drop_open_key_index(batch_op)
    with op.batch_alter_table('alert', schema=None, table_kwargs=_TABLE_KWARGS) as batch_op:
        batch_op.add_column(sa.Column('cleared_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('clear_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_alert_cleared_by_id_user_account'),
                                    'user_account', ['cleared_by_id'], ['id'])
        batch_op.create_index('ix_alert_dedup_key_cleared_at', ['dedup_key', 'cleared_at'],
                              unique=False)
    _create_open_key_index()
    _restore_sqlite_sequence(seq)


def downgrade() -> None:
    seq = _sqlite_sequence()
    with op.batch_alter_table('alert', schema=None) as batch_op:
        _drop_open_key_index(batch_op)
        batch_op.drop_index('ix_alert_dedup_key_cleared_at')
    with op.batch_alter_table('alert', schema=None, table_kwargs=_TABLE_KWARGS) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_cleared_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('clear_note')
        batch_op.drop_column('cleared_by_id')
    _create_open_key_index()
    _restore_sqlite_sequence(seq)
