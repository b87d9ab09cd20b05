"""What the OpenStack driver's halves (identity, resources, purge) share: the pool admin's
connection and session, provided by ``OpenStackDriver``."""

from __future__ import annotations

from typing import cast

from keystoneauth1 import session as ksa_session
from openstack import connection
from openstack.identity.v3._proxy import Proxy as IdentityV3


class AdminAccess:
    """The pool admin's connection and session (``OpenStackDriver`` provides them)."""

    @property
    def conn(self) -> connection.Connection:
        """The pool admin's openstacksdk connection."""
        raise NotImplementedError

    @property
    def admin_session(self) -> ksa_session.Session:
        """The pool admin's keystoneauth session."""
        raise NotImplementedError

    @property
    def identity(self) -> IdentityV3:
        """The pool's Keystone v3 API (the SDK types ``conn.identity`` as v2 | v3)."""
        return cast(IdentityV3, self.conn.identity)
