"""Migration 0008 goes down and up again on both databases (fresh ones: the session's
shared databases stay at head)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect

from tenantfusion.db import alembic_config, engine_for
from tests.conftest import _drop_pg_database, _pg_database


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_0008_down_and_up(backend: str, tmp_path: Path) -> None:
    name = f"tf_mig_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _pg_database(name)
    cfg, engine = alembic_config(url), engine_for(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            command.downgrade(cfg, "0007b")
            tables = set(inspect(conn).get_table_names())
            assert not {"tenant_quota", "quota_limit"} & tables
            columns = {c["name"] for c in inspect(conn).get_columns("routing_record")}
            assert "charges" not in columns
            command.upgrade(cfg, "head")
            columns = {c["name"] for c in inspect(conn).get_columns("routing_record")}
            assert "charges" in columns
            assert {"tenant_quota", "quota_limit"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
        if backend == "postgres":
            _drop_pg_database(name)
