"""a second cache epoch row (id 2): bumped with every write of a routing record

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EPOCH = sa.table("cache_epoch", sa.column("id", sa.Integer()), sa.column("value", sa.BigInteger()))


def upgrade() -> None:
    op.bulk_insert(_EPOCH, [{"id": 2, "value": 0}])


def downgrade() -> None:
    op.execute(_EPOCH.delete().where(_EPOCH.c.id == 2))
