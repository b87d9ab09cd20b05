"""Migrations 0012 (the cache epoch) and 0013 (its ``records`` row) go down and up again
on both databases, leave the table as the model declares it, and seed one row per
scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from tenantfusion.coherence import Scope
from tenantfusion.models import Base
from tests.migrating import at_head


def _rows(conn: Connection) -> list[tuple[int, int]]:
    return [
        (r[0], r[1]) for r in conn.execute(text("SELECT id, value FROM cache_epoch ORDER BY id"))
    ]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0012_and_0013_down_and_up(backend: str, tmp_path: Path) -> None:
    with at_head(backend, tmp_path) as (cfg, conn):
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert not [d for d in diff if "cache_epoch" in str(d)], diff
        assert _rows(conn) == [(scope.value, 0) for scope in Scope]
        command.downgrade(cfg, "0012")
        assert _rows(conn) == [(Scope.identity.value, 0)]
        command.downgrade(cfg, "0011")
        assert "cache_epoch" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        assert _rows(conn) == [(1, 0), (2, 0)]
