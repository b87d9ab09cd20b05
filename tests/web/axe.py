"""axe-core (bundled by axe-playwright-python) run in the page: accessibility violations."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe

#: Impacts that fail a page (axe's scale: minor, moderate, serious, critical).
BLOCKING = frozenset({"serious", "critical"})
_axe = Axe()


def violations(page: Any) -> list[str]:
    """Serious and critical violations on the page as it is now, one line each."""
    results = _axe.run(page, options={"resultTypes": ["violations"]})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def assert_accessible(page: Any) -> None:
    """Fail with the list of serious/critical axe-core violations, if any."""
    found = violations(page)
    assert not found, f"{page.url}: " + "; ".join(found)
