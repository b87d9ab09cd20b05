"""Settings: the one place configuration is read (environment prefix ``TENANTFUSION_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to ``TENANTFUSION_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TENANTFUSION_", extra="ignore")

    #: ``dev`` allows the generated key file; ``production`` requires an explicit secret key.
    environment: Literal["dev", "production"] = "dev"
    #: Folder for the embedded database, the key file and logs.
    data_dir: Path = Path("var/data")
    #: SQLAlchemy URL; empty means SQLite under ``data_dir``. PostgreSQL for several replicas.
    database_url: str = ""
    #: Comma-separated Fernet keys, newest first (rotation with MultiFernet).
    secret_key: SecretStr | None = None
    #: Lifetime of platform bearer tokens.
    token_ttl_seconds: int = 8 * 3600
    #: Upper bound for any single call into a pool (connect + read).
    pool_timeout_seconds: float = 10.0
    #: The longest a list, show or action waits for its pools in total (a merged list
    #: reports a pool still silent then as ``timeout``; a show or action answers 504).
    operation_deadline_seconds: float = 15.0
    #: Calls into one pool at once from this process; more wait in that pool's own queue,
    #: so a slow pool cannot take the threads other pools' calls need.
    pool_concurrency: int = 8
    #: A pool answer slower than this counts as a failure for the pool's circuit breaker
    #: (unset: the pool timeout, so only answers that barely made it count).
    pool_slow_seconds: float | None = None
    #: Keystone domain holding tenant projects and users, unless a pool sets its own.
    pool_project_domain: str = "Default"
    #: How long a worker owns a mapping or job before another may take over.
    lease_seconds: float = 120.0
    #: How long ``ensure`` waits for another worker that holds the mapping lease.
    ensure_wait_seconds: float = 180.0
    #: Whether ``serve`` runs the job worker in-process.
    run_worker: bool = True
    #: Log level for structlog output.
    log_level: str = "INFO"
    #: TESTS ONLY: comma-separated crash points (``faults.crash_point``) where the process
    #: exits at once (``os._exit``), to prove recovery from a kill at that line.
    crash_at: str = ""

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tenantfusion.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached)."""
    return Settings()
