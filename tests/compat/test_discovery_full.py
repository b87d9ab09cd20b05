"""Version discovery through the facade: ``GET`` of a service's root needs no token (as in
OpenStack; Tempest's compute version tests send none) and links back to the facade."""

from __future__ import annotations

import pytest

from tests.compat.conftest import Facade

pytestmark = pytest.mark.pools


@pytest.mark.parametrize("service", ["compute", "network", "image"])
def test_service_root_answers_without_a_token(facade: Facade, service: str) -> None:
    with facade.api() as c:
        for path in (f"/{service}/east/", f"/{service}/east"):
            r = c.get(path)
            assert r.status_code in (200, 300), r.text
            versions = r.json()["versions"]
            hrefs = [link["href"] for v in versions for link in v.get("links", [])]
            assert hrefs and all(h.startswith(f"{facade.url}/{service}/east") for h in hrefs)
        # everything below the root still needs a token; an unknown region is not found
        assert c.get(f"/{service}/east/v2.0/networks").status_code == 401
        assert c.get(f"/{service}/nowhere/").status_code == 404


def test_compute_version_document_links_to_the_facade(facade: Facade) -> None:
    with facade.api() as c:
        versions = c.get("/compute/west/").json()["versions"]
    assert [v["id"] for v in versions][:2] == ["v2.0", "v2.1"]
    (current,) = [v for v in versions if v["id"] == "v2.1"]
    assert current["links"][0]["href"].startswith(f"{facade.url}/compute/west/v2")
