"""default networks: pool.default_network_cidr, routing_record.tag

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_network_cidr", sa.String(length=64), nullable=True))
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tag", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_routing_record_tenant_id_pool_id_kind_tag"),
            ["tenant_id", "pool_id", "kind", "tag"],
        )


def downgrade() -> None:
    with op.batch_alter_table("routing_record", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_routing_record_tenant_id_pool_id_kind_tag"), type_="unique"
        )
        batch_op.drop_column("tag")
    with op.batch_alter_table("pool", schema=None) as batch_op:
        batch_op.drop_column("default_network_cidr")
