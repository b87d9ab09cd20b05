"""A fresh database of either backend for a migration's down-and-up test (the session's
shared databases stay at head)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from tenantfusion.db import alembic_config, engine_for
from tests.conftest import _drop_pg_database, _pg_database


@contextmanager
def at_head(backend: str, tmp_path: Path) -> Iterator[tuple[Config, Connection]]:
    """A new ``backend`` ("sqlite" or "postgres") database migrated to head: its Alembic
    config (bound to the connection) and the connection, in one transaction; dropped
    afterwards."""
    name = f"tf_mig_{uuid.uuid4().hex[:8]}"
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else _pg_database(name)
    cfg, engine = alembic_config(url), engine_for(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            yield cfg, conn
    finally:
        engine.dispose()
        if backend == "postgres":
            _drop_pg_database(name)
