"""Signature tests send many refused requests on purpose, from one test client address:
here the throttle allows 100 failures (``test_lockout.py`` tests it at its default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantfusion.config import Settings
from tests.conftest import _truncate, make_settings


@pytest.fixture
def sqlite_settings(sqlite_url: str, tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(sqlite_url, tmp_path, login_max_failures=100)
    _truncate(sqlite_url)
