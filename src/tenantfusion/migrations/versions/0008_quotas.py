"""platform quotas: per-tenant lock row, limits (platform-wide and per pool), and what
each routing record charges

Revision ID: 0008
Revises: 0007b
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantfusion.db import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_quota",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_tenant_quota_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenant_quota")),
    )
    op.create_table(
        "quota_limit",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("pool_id", sa.String(length=36), nullable=True),
        sa.Column("resource", sa.String(length=32), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pool.id"], name=op.f("fk_quota_limit_pool_id_pool"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant_quota.tenant_id"],
            name=op.f("fk_quota_limit_tenant_id_tenant_quota"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_limit")),
        sa.UniqueConstraint(
            "tenant_id",
            "pool_id",
            "resource",
            name=op.f("uq_quota_limit_tenant_id_pool_id_resource"),
        ),
    )
    op.create_index(op.f("ix_quota_limit_tenant_id"), "quota_limit", ["tenant_id"], unique=False)
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("charges", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.drop_column("charges")
    op.drop_index(op.f("ix_quota_limit_tenant_id"), table_name="quota_limit")
    op.drop_table("quota_limit")
    op.drop_table("tenant_quota")
