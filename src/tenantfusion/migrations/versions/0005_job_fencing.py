"""jobs: pool_id, lease_generation (fencing token), deadline_at; leader_lease table

Revision ID: 0005
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantfusion.db import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pool_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("lease_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("deadline_at", UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_pool_id"), ["pool_id"], unique=False)
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("ran_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )


def downgrade() -> None:
    op.drop_table("leader_lease")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_pool_id"))
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("lease_generation")
        batch_op.drop_column("pool_id")
