"""Which facade creates are bulk creates (``compat.bulk.plan``), and how many records
each writes: Neutron's list bodies in both item shapes, Nova's counts as Nova reads them,
bodies the pool refuses left to the single path."""

from __future__ import annotations

from typing import Any

import pytest

from tenantfusion.compat import bulk, records
from tenantfusion.errors import InvalidInput
from tests.quotas import test_service as quota_tests
from tests.quotas.test_service import World

SERVERS = records.match(service="compute", method="POST", rest="v2.1/servers")
NETWORKS = records.match(service="network", method="POST", rest="v2.0/networks")
world = quota_tests.world  # a tenant and fake pools on the test database


def _server(**fields: Any) -> dict[str, Any]:
    return {"server": {"name": "vm", "flavorRef": "1", "imageRef": "i", **fields}}


@pytest.mark.parametrize(
    ("fields", "count"),
    [
        ({"max_count": 2}, 2),
        ({"min_count": 3}, 3),  # max_count defaults to min_count
        ({"min_count": "1", "max_count": "4"}, 4),  # Nova takes digit strings
        ({"min_count": 3, "max_count": 2}, 3),  # Nova refuses it; all records dropped
        ({"return_reservation_id": True}, 1),  # answered without a server
        ({}, None),
        ({"max_count": 1}, None),
        ({"max_count": "x"}, None),  # Nova refuses it: the single path drops its record
        ({"max_count": 0}, None),
        ({"max_count": True}, None),
    ],
)
def test_nova_counts(fields: dict[str, Any], count: int | None) -> None:
    assert SERVERS is not None
    batch = bulk.plan(routed=SERVERS, body=_server(**fields))
    assert (batch.count if batch else None) == count


def test_past_the_bound_is_refused() -> None:
    assert SERVERS is not None and NETWORKS is not None
    with pytest.raises(InvalidInput, match="at most 1000"):
        bulk.plan(routed=SERVERS, body=_server(max_count=bulk.MAX_OBJECTS + 1))
    many = {"networks": [{"name": str(i)} for i in range(bulk.MAX_OBJECTS + 1)]}
    with pytest.raises(InvalidInput, match="1001 networks"):
        bulk.plan(routed=NETWORKS, body=many)


def test_neutron_items_bare_or_wrapped() -> None:
    assert NETWORKS is not None
    body = {"networks": [{"name": "a"}, {"network": {"name": "b"}}]}
    batch = bulk.plan(routed=NETWORKS, body=body)
    assert batch is not None and batch.count == 2
    assert [o["name"] for o in batch.objects] == ["a", "b"]
    assert batch.objects[1] is body["networks"][1]["network"]  # marked in place


@pytest.mark.parametrize(
    "body",
    [
        {"network": {"name": "one"}},
        {"networks": []},
        {"networks": "x"},
        {"networks": [{"name": "a"}, "b"]},
        {"networks": [{"network": "b"}]},
        None,
    ],
)
def test_not_bulk(body: Any) -> None:
    assert NETWORKS is not None
    assert bulk.plan(routed=NETWORKS, body=body) is None


def test_records_are_marked_paired_by_position_or_left_for_the_reconciler(world: World) -> None:
    assert NETWORKS is not None
    w, pool = world, world.pools["qa"]
    body = {"networks": [{"name": "a"}, {"name": "b", "description": "mine"}]}
    batch = bulk.plan(routed=NETWORKS, body=body)
    assert batch is not None
    bulk.begin(sessions=w.sessions, actor=w.actor, settings=w.settings, pool=pool, batch=batch)
    first, second = batch.records
    assert body["networks"][0]["description"] == f"tenantfusion {first.id}"
    assert body["networks"][1]["description"] == "mine"  # the tag will mark it
    assert w.usage("networks") == (None, 0, 2)

    def settle(status: int | None, answer: Any) -> list[tuple[Any, str]]:
        outcome = bulk.created(batch=batch, where=None, status=status, answer=answer)  # type: ignore[arg-type]
        return bulk.finish(
            sessions=w.sessions,
            actor=w.actor,
            pool=pool,
            batch=batch,
            status=status,
            outcome=outcome,
        )

    assert settle(None, None) == []  # lost: both held, creating, for the reconciler
    assert settle(201, {"networks": [{"id": "r1"}]}) == []  # an answer that does not say
    assert w.usage("networks") == (None, 0, 2)
    done = settle(201, {"networks": [{"id": "r1"}, {"id": "r2"}]})
    assert [(r.id, remote) for r, remote in done] == [(first.id, "r1"), (second.id, "r2")]
    assert w.usage("networks") == (None, 2, 0)

    refused = bulk.plan(routed=NETWORKS, body={"networks": [{"name": "c"}, {"name": "d"}]})
    assert refused is not None
    batch = refused
    bulk.begin(sessions=w.sessions, actor=w.actor, settings=w.settings, pool=pool, batch=batch)
    assert w.usage("networks") == (None, 2, 2)
    assert settle(409, {"NeutronError": {}}) == []  # refused: every record dropped
    assert w.usage("networks") == (None, 2, 0)
