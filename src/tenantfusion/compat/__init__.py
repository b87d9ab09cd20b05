"""The OpenStack-compatible facade: one Keystone v3 whose regions are the pools, and
pass-through Nova, Neutron, Glance (and Cinder) endpoints per region.

How the platform maps onto Keystone:

- a **tenant** is both the user's **domain** and the one **project** its users scope to
  (id = tenant id, name = tenant name); a password login names the user with its
  domain (``--os-user-domain-name <tenant>``) and scopes to the project
  (``--os-project-name <tenant> --os-project-domain-name <tenant>``), or to nothing (the
  tenant's project is every user's default project);
- a **user** is the platform user (tenant admin or member); roles show as ``member``,
  ``reader`` (and ``tenant_admin``); platform admins use ``/v1``, not the facade;
- a **token** is the platform's own token (``X-Subject-Token``): the same sessions,
  RBAC, expiry and revocation as ``/v1``;
- a **region** is a pool (its name); the catalog lists every enabled pool with the
  services it offers, all pointing back at the facade: ``/compute/<pool>/v2.1``,
  ``/network/<pool>``, ``/image/<pool>``, ``/volume/<pool>/v3``.

Behind each endpoint the request goes to the pool as the tenant's own least-privilege
pool user (``compat.proxy``), onboarding the tenant there on first use; objects created
and deleted that way are routed like ``/v1``'s (``compat.records``).
"""
