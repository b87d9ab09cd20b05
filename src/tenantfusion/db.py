"""Database engine, sessions and migrations (SQLAlchemy 2 + Alembic)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from tenantfusion.config import Settings, get_settings
from tenantfusion.crypto import secure_dir

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """A fresh platform id."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable Alembic names)."""

    metadata = MetaData(naming_convention=NAMING)


class IdMixin:
    """A string primary key holding a platform id."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    """Creation and update times."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _private_files(path: str) -> None:
    """The database file and its WAL companions readable by this user only (0600)."""
    for name in (path, f"{path}-wal", f"{path}-shm"):
        target = Path(name)
        if target.exists() and target.stat().st_uid == os.getuid():
            target.chmod(0o600)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def new_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """A new engine for ``url`` (SQLite: WAL, foreign keys; a connection pool otherwise)."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,  # a crash log must not carry credentials or ciphertext
        )
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            event.listen(engine, "connect", lambda *_: _private_files(path))
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        hide_parameters=True,
    )


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per database URL in this process."""
    return new_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    """The engine for the configured database."""
    return engine_for((settings or get_settings()).resolved_database_url)


@lru_cache(maxsize=8)
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=engine_for(url), expire_on_commit=False)


def session_factory(settings: Settings | None = None) -> sessionmaker[Session]:
    """A session factory bound to the configured database."""
    return _factory((settings or get_settings()).resolved_database_url)


def release(db: Session) -> None:
    """End the session's transaction so its connection goes back to the pool, before a call
    into a resource pool: no database connection is ever held while a pool answers (or
    hangs). Loaded objects stay usable (sessions do not expire them on commit); the next
    query takes a connection again. Call it where nothing is written yet, or after what
    was written may be committed.
    """
    db.commit()


def dialect_insert(db: Session | Connection, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``model``'s table in the dialect of ``db`` (PostgreSQL or SQLite),
    for ``on_conflict_do_nothing``."""
    dialect = db.dialect if isinstance(db, Connection) else db.get_bind().dialect
    if dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


@contextmanager
def session_scope(settings: Settings | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error (jobs, CLI, workers)."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(settings: Settings | None = None) -> None:
    """Apply every migration up to head."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    if not settings.database_url:  # the embedded database lives in the data dir: keep it 0700
        secure_dir(settings.data_dir)
    cfg = alembic_config(url)
    with engine_for(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
