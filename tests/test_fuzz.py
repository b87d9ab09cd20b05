"""Schemathesis over the whole OpenAPI spec, in-process, as the platform admin: no input
answers 500 and every response conforms to the spec (status, content type, schema).

Bounded: a few examples per operation, no shrinking. Operations that make the server call
a URL taken from the request (pool registration, a pool's auth change, pool check) are
excluded: a fuzzer must never make the server call a made-up address. No pool is
registered, so no other operation reaches a pool. Logout is excluded too (it would revoke
the fuzzer's own token; the RBAC matrix covers it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Api, _truncate, make_api, make_settings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 8
BUDGET_SECONDS = 240


@pytest.fixture(scope="module")
def fuzz_api(sqlite_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = make_settings(sqlite_url, tmp_path_factory.mktemp("fuzz"), login_max_failures=10_000)
    yield from make_api(settings)
    _truncate(sqlite_url)


def test_api_never_fails_and_conforms(fuzz_api: Api) -> None:
    schema = (
        schemathesis.openapi.from_asgi("/openapi.json", fuzz_api.client.app)
        .exclude(method="POST", path="/v1/pools")
        .exclude(method="PATCH", path="/v1/pools/{pool}")
        .exclude(method="POST", path="/v1/pools/{pool}/check")
        .exclude(method="DELETE", path="/v1/auth/tokens")  # would log the fuzzer out
    )
    started, cases, operations = time.monotonic(), [0], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if time.monotonic() - started > BUDGET_SECONDS:
            break
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            cases[0] += 1
            headers = {**(case.headers or {}), **fuzz_api.admin}
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    print(f"schemathesis: {operations} operations, {cases[0]} cases, 0 failures")
    assert operations == len(list(schema.get_all_operations())), "time budget ran out"
    assert fuzz_api.client.get("/v1/pools", headers=fuzz_api.admin).json()["items"] == []
