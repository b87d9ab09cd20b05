"""Migration 0011 (pool health samples, job events) goes down and up again on both
databases, and leaves its tables as the models declare them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tenantfusion.models import Base
from tests.migrating import at_head

TABLES = {"pool_health_sample", "job_event"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0011_down_and_up(backend: str, tmp_path: Path) -> None:
    with at_head(backend, tmp_path) as (cfg, conn):
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert not [d for d in diff if TABLES & set(str(d).split("'"))], diff
        command.downgrade(cfg, "0008")
        assert not TABLES & set(inspect(conn).get_table_names())
        command.upgrade(cfg, "head")
        assert TABLES <= set(inspect(conn).get_table_names())
