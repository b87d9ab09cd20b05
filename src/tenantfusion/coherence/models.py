"""The epoch row (``cache_epoch``, one row: id 1)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base

EPOCH_ID = 1


class CacheEpoch(Base):
    """Counts the committed writes that in-process caches depend on."""

    __tablename__ = "cache_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
