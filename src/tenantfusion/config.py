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
    #: Threads this process shares among all pools' calls (each pool still holds at most
    #: ``pool_concurrency`` of them); reused, so asking a few of 10,000 pools starts none.
    pool_call_threads: int = 128
    #: A pool answer slower than this counts as a failure for the pool's circuit breaker
    #: (unset: the pool timeout, so only answers that barely made it count).
    pool_slow_seconds: float | None = None
    #: Keystone domain holding tenant projects and users, unless a pool sets its own.
    pool_project_domain: str = "Default"
    #: How long a worker owns a mapping or job before another may take over.
    lease_seconds: float = 120.0
    #: How long ``ensure`` waits for another worker that holds the mapping lease.
    ensure_wait_seconds: float = 180.0
    #: Lifetime of the Keystone application credential that is a tenant's identity in a
    #: pool; 0 means it never expires (it is still rotated on demand).
    app_credential_ttl_seconds: int = 90 * 86400
    #: Rotate an application credential once its expiry is closer than this.
    app_credential_renew_seconds: int = 7 * 86400
    #: Whether ``serve`` runs the job worker in-process.
    run_worker: bool = True
    #: How long an Idempotency-Key stays locked without a heartbeat (a running request
    #: renews it every third of this): after a crash, a retry takes over this much later.
    idempotency_lock_seconds: float = 30.0
    #: How long a retry waits for the first attempt still running before 409.
    idempotency_wait_seconds: float = 10.0
    #: How long answers stay replayable.
    idempotency_ttl_seconds: float = 24 * 3600.0
    #: How long a delete job waits for the pool to remove an object before it gives up
    #: (``delete_failed``, retryable); counted from the first delete the pool accepted.
    delete_deadline_seconds: float = 600.0
    #: Threads of the in-process worker; one pool never holds more than half of them.
    worker_threads: int = 4
    #: A job not finished this long after it was queued fails (no job retries forever).
    job_deadline_seconds: float = 24 * 3600.0
    #: Whether ``serve`` runs the periodic reconciler (one replica at a time holds its lease).
    run_reconciler: bool = True
    #: Period of the reconciler: pool health sweep, resumes, orphaned deletes, reconcile.
    reconcile_interval_seconds: float = 60.0
    #: How many pools the health sweep asks at once.
    health_sweep_concurrency: int = 4
    #: Most pools the scheduler asks per decision (fit, free memory): with more candidates
    #: it asks the tenant's own pools first, then a random sample ("power of d choices").
    scheduler_candidates: int = 16
    #: How long a record's object may be absent before reconcile reports it missing.
    missing_grace_seconds: float = 300.0
    #: Largest request body accepted on any route (413 beyond).
    max_body_bytes: int = 1024 * 1024
    #: Largest image data upload through the facade (``PUT /image/<region>/v2/images/<id>/
    #: file`` or ``stage``): streamed to Glance, never held whole, so not bound by
    #: ``max_body_bytes``; 413 beyond.
    max_image_bytes: int = 10 * 1024**3
    #: Deepest JSON nesting accepted (422 beyond).
    max_json_depth: int = 64
    #: How long ``serve`` keeps an idle client connection open. Longer than any client's or
    #: load balancer's idle timeout, so a client never sends a request on a connection the
    #: server is closing at that moment (the request would fail without an answer).
    http_keep_alive_seconds: int = 75
    #: Failed logins per (tenant, username) or per source address before a lockout.
    login_max_failures: int = 5
    #: Window in which failures are counted.
    login_window_seconds: float = 15 * 60
    #: First lockout; each further failure doubles it (up to the window).
    login_lockout_seconds: float = 30.0
    #: Password checks running at once (Argon2 costs ~64 MiB and a core); more answer 503.
    login_concurrency: int = 2
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
