"""Leader leases: a named row that one replica at a time holds (the periodic reconciler)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenantfusion.db import Base, UTCDateTime


class LeaderLease(Base):
    """Who runs a singleton loop now, until when, and when it last ran."""

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
