"""request_log: the request ids of writes, for exactly-once writes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

See :class:`db.models.RequestLog` and :mod:`db.core.requests`. The application role gets its
rights on the new table from the owner's default privileges (:func:`db.admin.roles.apply_grants`).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "request_log",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(60), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_log")),
    )
    op.create_index(op.f("ix_request_log_at"), "request_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_request_log_at"), table_name="request_log")
    op.drop_table("request_log")
