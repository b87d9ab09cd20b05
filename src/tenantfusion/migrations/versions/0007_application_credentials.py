"""mapping: application credentials (auth_kind, encrypted current and next credential)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tenantfusion.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mapping", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auth_kind", sa.String(length=32), nullable=False, server_default="password")
        )
        batch_op.add_column(sa.Column("app_credential", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("app_credential_next", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("app_credential_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("app_credential_expires_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("app_credential_rotated_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mapping", schema=None) as batch_op:
        for column in (
            "app_credential_rotated_at",
            "app_credential_expires_at",
            "app_credential_id",
            "app_credential_next",
            "app_credential",
            "auth_kind",
        ):
            batch_op.drop_column(column)
