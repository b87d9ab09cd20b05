"""Migration 0006 chains the audit events written before it, and goes down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from tenantfusion.audit import service
from tenantfusion.config import Settings
from tenantfusion.db import alembic_config, engine_for, session_factory


def test_existing_events_are_chained(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg, engine = alembic_config(url), engine_for(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        for i in range(3):
            conn.execute(
                text(
                    "INSERT INTO audit_event (id, at, actor_name, action, target_kind, detail)"
                    " VALUES (:i, :at, 'root', 'tenant.create', 'tenant', '{\"n\": 1}')"
                ),
                {"i": f"e{i}", "at": f"2026-01-0{i + 1} 00:00:00.000000+00:00"},
            )
        command.upgrade(cfg, "head")
    with session_factory(Settings(database_url=url))() as db:
        assert service.verify(db=db).checked == 3
        assert service.verify(db=db).ok
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        command.upgrade(cfg, "head")
    engine.dispose()
