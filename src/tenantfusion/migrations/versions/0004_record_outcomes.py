"""routing records: reason, missing_since (delete_failed state needs no schema change)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantfusion.db import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("missing_since", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.drop_column("missing_since")
        batch_op.drop_column("reason")
