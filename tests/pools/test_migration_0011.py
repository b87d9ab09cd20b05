"""Migration 0011 (pool health samples, job events) goes down and up again on both
databases, and leaves its tables as the models declare them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tenantfusion.db import alembic_config, engine_for
from tenantfusion.models import Base
from tests.conftest import _drop_pg_database, _pg_database

TABLES = {"pool_health_sample", "job_event"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0011_down_and_up(backend: str, tmp_path: Path) -> None:
    name = f"tf_mig_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _pg_database(name)
    cfg, engine = alembic_config(url), engine_for(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert not [d for d in diff if TABLES & set(str(d).split("'"))], diff
            command.downgrade(cfg, "0008")
            assert not TABLES & set(inspect(conn).get_table_names())
            command.upgrade(cfg, "head")
            assert TABLES <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
        if backend == "postgres":
            _drop_pg_database(name)
