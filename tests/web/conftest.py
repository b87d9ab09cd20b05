"""Browser fixtures: Chromium through Playwright, a live server, screenshots by step."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tenantfusion.db import engine_for, upgrade
from tests.conftest import ROOT, make_settings
from tests.web.live_server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The machine's Chromium (Debian package), headless, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh migrated SQLite database, served by uvicorn with the job worker."""
    url = f"sqlite:///{tmp_path / 'tf.db'}"
    settings = make_settings(url, tmp_path, run_worker=True, pool_timeout_seconds=15.0)
    upgrade(settings)
    with LiveServer(settings) as server:
        yield server
    engine_for(url).dispose()


@pytest.fixture
def dialogs() -> list[str]:
    """The messages of the dialogs (delete confirmations) the page asked, in order."""
    return []


@pytest.fixture
def page(browser: Any, site: LiveServer, dialogs: list[str]) -> Iterator[Any]:
    """A new browser tab of its own (own cookies) pointed at the site; it accepts every
    dialog and notes its message in ``dialogs``."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    tab.on("dialog", accept)
    yield tab
    context.close()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], None]:
    """``shot(page, "step")`` saves artifacts/screenshots/<test>-<nn>-<step>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"^test_", "", request.node.name)
    count = iter(range(1, 100))

    def take(tab: Any, step: str) -> None:
        tab.screenshot(path=SCREENSHOTS / f"{test}-{next(count):02d}-{step}.png", full_page=True)

    return take
