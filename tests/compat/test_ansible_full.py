"""Ansible's openstack.cloud collection (as shipped by the ``ansible`` package), unmodified,
against the facade: a playbook makes a network, subnet, router and server in one region;
run again it changes nothing; then it deletes them, and /v1 agrees at every step."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.compat.conftest import Tenant
from tests.live import EXE

pytestmark = pytest.mark.pools

REGION = "west"


def playbook(state: str) -> list[dict[str, Any]]:
    common = {"cloud": "tf", "region_name": REGION, "state": state}
    tasks = [
        {"openstack.cloud.network": {**common, "name": "an1"}},
        {
            "openstack.cloud.subnet": {
                **common,
                "name": "as1",
                "network_name": "an1",
                "cidr": "10.98.0.0/24",
            }
        },
        {"openstack.cloud.router": {**common, "name": "ar1", "interfaces": ["as1"]}},
        {
            "openstack.cloud.server": {
                **common,
                "name": "avm",
                "flavor": "m1.nano",
                "image": "cirros-tiny",
                "network": "an1",
                "auto_ip": False,
                # the module removes groups not listed, Nova gives every server `default`
                "security_groups": ["default"],
                "wait": True,
                "timeout": 240,
            }
        },
    ]
    ordered = tasks if state == "present" else list(reversed(tasks))
    return [{"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": ordered}]


#: openstack.cloud 2.5.0 (what the ``ansible`` package ships) reads ``openstack.version``,
#: which openstacksdk 4.x no longer imports by itself: a sitecustomize imports it first
#: (the collection and the SDK stay unmodified).
SITECUSTOMIZE = "import openstack.version  # noqa: F401\n"


def play(tenant: Tenant, tmp: Path, state: str) -> str:
    (tmp / "site").mkdir(exist_ok=True)
    (tmp / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    book = tmp / f"{state}.yml"
    book.write_text(yaml.safe_dump(playbook(state), sort_keys=False))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OS_")},
        "HOME": str(tmp),
        "OS_CLIENT_CONFIG_FILE": str(tenant.clouds_yaml(tmp / "clouds.yaml")),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_PYTHON_INTERPRETER": str(EXE.parent / "python"),
        "ANSIBLE_NOCOLOR": "1",
        "PYTHONPATH": str(tmp / "site"),
    }
    out = subprocess.run(
        [str(EXE.parent / "ansible-playbook"), "-i", "localhost,", str(book)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    return out.stdout


def names(tenant: Tenant, kind: str) -> set[str]:
    with tenant.facade.api() as c:
        r = c.get(f"/v1/{kind}", headers=tenant.headers(), params={"pool": REGION})
    assert r.status_code == 200, r.text
    return {i["name"] for i in r.json()["items"]}


def test_playbook_creates_is_idempotent_and_deletes(tenant: Tenant, tmp_path: Path) -> None:
    first = play(tenant, tmp_path, "present")
    assert "changed=4" in first, first[-1500:]
    assert "an1" in names(tenant, "networks") and "avm" in names(tenant, "servers")
    assert "ar1" in names(tenant, "routers") and "as1" in names(tenant, "subnets")
    second = play(tenant, tmp_path, "present")
    assert "changed=0" in second and "failed=0" in second, second[-1500:]
    play(tenant, tmp_path, "absent")
    assert "an1" not in names(tenant, "networks") and "ar1" not in names(tenant, "routers")
