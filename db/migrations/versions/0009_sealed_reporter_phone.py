"""case.reporter_phone sealed: reporter_phone_enc (AES-GCM) and reporter_phone_hash (HMAC)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The plain ``case.reporter_phone`` column is replaced by ``reporter_phone_enc`` (ciphertext) and
``reporter_phone_hash`` (keyed hash of the digits, indexed, for the search), both made by
:mod:`db.core.pii` with the database's key.

Numbers already stored are sealed here, in the same transaction that drops the plain column:
no schema version has both, and no code ever reads plain numbers. That needs the key on the
machine that migrates. A database holding numbers and no key yet is refused with what to do
(``cityops db make-key``, then migrate again); one holding no numbers needs no key to migrate.
A demo database (app_setting 'demo') gets a key made here, as the demo builder would.

``case`` is never rebuilt (its SQLite triggers from 0006 stay): ADD COLUMN, then DROP COLUMN,
which SQLite (3.35+) allows since no trigger, view or index names ``reporter_phone``.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BATCH = 2000


def _cipher(bind, count: int):
    from db.core import pii
    from db.core.errors import PhoneKeyProblem

    if pii.recorded(bind) is None:
        if bind.execute(sa.text("SELECT 1 FROM app_setting WHERE key = 'demo'")).first() is not None:
            return pii.ensure_key(bind)
        raise RuntimeError(
            f"migration 0009: {count} case(s) hold the reporter's phone number in plain text and "
            "this database has no phone key yet, so they cannot be sealed. Run `cityops db "
            "make-key` (on this machine, with the same --db), keep the key file it writes, and run "
            "the migration again. / 本数据库有 {count} 个案件存有明文反映人电话，但还没有电话号码密钥："
            "请先运行 cityops db make-key，再重新迁移。".replace("{count}", str(count)))
    try:
        return pii.cipher(bind)
    except PhoneKeyProblem as exc:
        raise RuntimeError(f"migration 0009: the phone key is not usable here ({exc.code}): "
                           f"{exc.message}") from exc


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # Pages the plain numbers leave behind are zeroed, not just put on the free list.
        bind.exec_driver_sql("PRAGMA secure_delete = ON")
    op.execute('ALTER TABLE "case" ADD COLUMN reporter_phone_enc VARCHAR(120)')
    op.execute('ALTER TABLE "case" ADD COLUMN reporter_phone_hash VARCHAR(64)')
    rows = bind.execute(sa.text(
        "SELECT id, reporter_phone FROM \"case\" WHERE reporter_phone IS NOT NULL "
        "AND reporter_phone <> '' ORDER BY id")).all()
    if rows:
        cipher = _cipher(bind, len(rows))
        update = sa.text('UPDATE "case" SET reporter_phone_enc = :enc, reporter_phone_hash = :hash '
                         'WHERE id = :id')
        for start in range(0, len(rows), BATCH):
            params = []
            for case_id, phone in rows[start:start + BATCH]:
                enc, digest = cipher.seal(phone.strip())
                params.append({"id": case_id, "enc": enc, "hash": digest})
            bind.execute(update, params)
    op.create_index('ix_case_reporter_phone_hash', 'case', ['reporter_phone_hash'])
    op.execute('ALTER TABLE "case" DROP COLUMN reporter_phone')


def downgrade() -> None:
    bind = op.get_bind()
    op.execute('ALTER TABLE "case" ADD COLUMN reporter_phone VARCHAR(30)')
    rows = bind.execute(sa.text(
        'SELECT id, reporter_phone_enc FROM "case" WHERE reporter_phone_enc IS NOT NULL '
        'ORDER BY id')).all()
    if rows:
        from db.core import pii

        cipher = pii.cipher(bind)
        bind.execute(sa.text('UPDATE "case" SET reporter_phone = :phone WHERE id = :id'),
                     [{"id": i, "phone": cipher.open(enc)} for i, enc in rows])
    op.drop_index('ix_case_reporter_phone_hash', table_name='case')
    op.execute('ALTER TABLE "case" DROP COLUMN reporter_phone_hash')
    op.execute('ALTER TABLE "case" DROP COLUMN reporter_phone_enc')
