"""Job kinds and their handlers: ``@handler("kind")`` registers a function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tenantfusion.config import Settings
from tenantfusion.jobs.models import Job


class Busy(Exception):
    """Raised by a handler whose resource is held elsewhere: the job is retried later."""


@dataclass
class JobContext:
    db: Session
    job: Job
    settings: Settings
    report: Callable[[int, int, str], None]


Handler = Callable[[JobContext], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler of job ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register
