"""structlog JSON logging with request ids; secrets never reach a log line."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = {"password", "secret", "token", "credential", "x-auth-token", "authorization"}


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if any(s in key.lower() for s in SECRET_KEYS) and key != "token_id":
            event[key] = "***"
    return event


def configure(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog and the standard library root logger."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    for noisy in ("keystoneauth", "openstack", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),  # stderr as of configure()
        cache_logger_on_first_use=False,  # reconfigurable (tests, CLI after import)
    )
