"""Job kinds and their handlers: ``@handler("kind")`` registers a function,
``@on_retry("kind")`` what a user's retry of a failed job of that kind must reset."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.jobs.models import Job


class Busy(Exception):
    """Raised by a handler whose resource is held elsewhere: the job is retried later
    without spending an attempt (up to the job's deadline)."""


@dataclass
class JobContext:
    db: Session
    job: Job
    settings: Settings
    report: Callable[[int, int, str], None]
    #: Keep a handler's progress in the job's payload (fenced on the lease; commits).
    save_payload: Callable[[dict[str, Any]], None]
    #: Set by the heartbeat when the lease passed to another worker: stop at the next step.
    lease_lost: threading.Event = field(default_factory=threading.Event)


Handler = Callable[[JobContext], dict[str, Any]]
RetryHook = Callable[[Session, Job], None]
HANDLERS: dict[str, Handler] = {}
RETRY_HOOKS: dict[str, RetryHook] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of job ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def on_retry(kind: str) -> Callable[[RetryHook], RetryHook]:
    """Register ``fn(db, job)``, run in the transaction that re-queues a failed job of
    ``kind`` (e.g. turn its record from ``delete_failed`` back to ``deleting``)."""

    def register(fn: RetryHook) -> RetryHook:
        RETRY_HOOKS[kind] = fn
        return fn

    return register
