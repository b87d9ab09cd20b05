"""Migration 0012 (the cache epoch) goes down and up again on both databases, leaves its
table as the model declares it, and seeds the one row."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tenantfusion.models import Base
from tests.migrating import at_head


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0012_down_and_up(backend: str, tmp_path: Path) -> None:
    with at_head(backend, tmp_path) as (cfg, conn):
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert not [d for d in diff if "cache_epoch" in str(d)], diff
        command.downgrade(cfg, "0011")
        assert "cache_epoch" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        rows = conn.execute(text("SELECT id, value FROM cache_epoch")).all()
        assert [tuple(r) for r in rows] == [(1, 0)]
