"""security: login failure counters, audit outcome columns and hash chain

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantfusion.audit.chain import FIELDS, GENESIS, entry_hash
from tenantfusion.db import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failure")),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("result", sa.String(16), nullable=False, server_default="ok"))
        batch_op.add_column(sa.Column("error_type", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("request_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_audit_event_seq"), ["seq"])
    # chain the events written before this revision, oldest first
    events = sa.table(
        "audit_event",
        sa.column("id", sa.String),
        sa.column("at", UTCDateTime()),
        sa.column("detail", sa.JSON),
        sa.column("seq", sa.BigInteger),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
        *(sa.column(f, sa.String) for f in FIELDS if f not in {"seq", "at", "detail"}),
    )
    conn = op.get_bind()
    prev, seq = GENESIS, 0
    for row in conn.execute(sa.select(events).order_by(events.c.at, events.c.id)).mappings():
        seq += 1
        fields = {**row, "seq": seq}
        digest = entry_hash(prev, fields)
        conn.execute(
            events.update()
            .where(events.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    op.bulk_insert(head, [{"id": 1, "seq": seq, "hash": prev}])


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_audit_event_seq"), type_="unique")
        for name in ("hash", "prev_hash", "source", "request_id", "error_type", "result", "seq"):
            batch_op.drop_column(name)
    op.drop_table("audit_head")
    op.drop_table("login_failure")
