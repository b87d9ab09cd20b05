"""The epoch rows (``cache_epoch``: one row per ``Scope``)."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base


class Scope(enum.IntEnum):
    """What an epoch row counts (its id): the caches of one scope are dropped by the
    writes of that scope only."""

    #: tokens, users, tenants, mappings, pools: who a caller is and their way into a pool
    identity = 1
    #: routing records: which objects a tenant has (a tenant's list)
    records = 2


class CacheEpoch(Base):
    """Counts the committed writes that in-process caches of one scope depend on."""

    __tablename__ = "cache_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
