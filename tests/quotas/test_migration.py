"""Migration 0008 goes down and up again on both databases (fresh ones: the session's
shared databases stay at head)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from tests.migrating import at_head


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0008_down_and_up(backend: str, tmp_path: Path) -> None:
    with at_head(backend, tmp_path) as (cfg, conn):
        command.downgrade(cfg, "0007b")
        tables = set(inspect(conn).get_table_names())
        assert not {"tenant_quota", "quota_limit"} & tables
        columns = {c["name"] for c in inspect(conn).get_columns("routing_record")}
        assert "charges" not in columns
        command.upgrade(cfg, "head")
        columns = {c["name"] for c in inspect(conn).get_columns("routing_record")}
        assert "charges" in columns
        assert {"tenant_quota", "quota_limit"} <= set(inspect(conn).get_table_names())
