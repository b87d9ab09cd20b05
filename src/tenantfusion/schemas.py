"""Shapes shared by every domain."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of items; pass ``next_marker`` back as ``marker`` for the next page."""

    items: list[T]
    next_marker: str | None = None
