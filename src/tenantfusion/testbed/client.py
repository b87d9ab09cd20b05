"""openstacksdk connections to test-bed pools."""

from __future__ import annotations

import openstack.connection

from tenantfusion.testbed.pool import PoolInfo


def connect(pool: PoolInfo) -> openstack.connection.Connection:
    """Admin connection to `pool` built only from explicit credentials.

    openstacksdk 4.x reads clouds.yaml and OS_* variables only when `cloud=` is given,
    so passing `auth=` alone cannot pick up someone else's credentials. (Older SDKs
    needed `load_yaml_config=False, load_envvars=False`; 4.22 rejects those here.)
    """
    return openstack.connection.Connection(
        auth=pool.auth(),
        auth_type="password",
        region_name=pool.region_name,
        identity_interface="public",
    )
