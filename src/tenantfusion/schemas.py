"""Shapes shared by every domain."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of items; pass ``next_marker`` back as ``marker`` for the next page."""

    items: list[T]
    next_marker: str | None = None


class Patch(BaseModel):
    """A PATCH body (applied with ``exclude_unset``): unknown fields are refused, and so is
    ``null`` except for the fields named in ``nullable`` (where null means "clear")."""

    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = sorted(str(k) for k, v in data.items() if v is None and k not in cls.nullable)
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null (omit a field to keep it)")
        return data
