"""ListRoute: the merged lists' GET, served without FastAPI's dependency solving, answers
exactly as FastAPI's own solving of the same endpoint does (a twin route of the same
endpoint, mounted the ordinary way, is asked the same requests), and OpenAPI still
documents its query parameters and security."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from tenantfusion.resources import views
from tenantfusion.resources.list_route import ListRoute
from tests.conftest import Api

REQUESTS = [
    "",
    "?limit=2",
    "?limit=0",
    "?limit=1001",
    "?limit=abc",
    "?bogus=1",
    "?pool=nowhere",
    "?status=ACTIVE&name=x",
    "?marker=not-a-marker",
    "?limit=3&limit=5",
]


def _twin(api: Api, path: str) -> str:
    """The list route at ``path`` mounted again, the ordinary way, at ``/twin{path}``."""
    app: Any = api.client.app
    route = next(
        r
        for r in views.router.routes
        if isinstance(r, APIRoute) and "/v1" + r.path == path and "GET" in r.methods
    )
    assert isinstance(route, ListRoute)
    app.router.add_api_route(
        f"/twin{path}", route.endpoint, methods=["GET"], response_model=route.response_model
    )
    return f"/twin{path}"


def _answer(r: Any) -> tuple[int, Any]:
    body = r.json()
    if isinstance(body, dict):
        body.pop("instance", None)  # the request's own path
    return r.status_code, body


@pytest.mark.parametrize("path", ["/v1/servers", "/v1/networks", "/v1/volumes"])
def test_answers_as_fastapi_would(sqlite_api: Api, path: str) -> None:
    twin = _twin(sqlite_api, path)
    _, tenant_admin = sqlite_api.new_tenant()
    callers: dict[str, dict[str, str]] = {
        "tenant": tenant_admin,
        "platform admin": sqlite_api.admin,
        "anonymous": {},
        "bad token": {"X-Auth-Token": "nope"},
    }
    for who, headers in callers.items():
        for query in REQUESTS:
            ours = _answer(sqlite_api.client.get(path + query, headers=headers))
            theirs = _answer(sqlite_api.client.get(twin + query, headers=headers))
            assert ours == theirs, (who, query)
    statuses = {
        q: sqlite_api.client.get(path + q, headers=tenant_admin).status_code for q in REQUESTS
    }
    assert statuses["?limit=0"] == statuses["?bogus=1"] == 422 and statuses[""] == 200


def test_openapi_documents_the_query_and_security(sqlite_api: Api) -> None:
    spec = sqlite_api.client.get("/openapi.json").json()["paths"]["/v1/servers"]["get"]
    assert {p["name"] for p in spec["parameters"] if p["in"] == "query"} >= {
        "pool",
        "status",
        "name",
        "limit",
        "marker",
    }
    assert {next(iter(s)) for s in spec["security"]} == {"token", "signature"}
