"""dvr_capability: R21, R23, R24 summarized for a pool."""

from __future__ import annotations

from tenantfusion.dvr.capability import dvr_capability


def test_dvr_pool() -> None:
    cap = dvr_capability(extensions=["router", "dvr", "l3-ha"], router_distributed_default=True)
    assert cap.supported and cap.distributed_by_default is True
    assert not cap.tenant_can_choose and cap.migration_needs_admin_down


def test_pool_without_dvr() -> None:
    cap = dvr_capability(extensions=["router"], router_distributed_default=None)
    assert not cap.supported and cap.distributed_by_default is False


def test_unknown_default() -> None:
    cap = dvr_capability(extensions=["dvr"], router_distributed_default=None)
    assert cap.supported and cap.distributed_by_default is None
