"""Key rotation: re-encrypt every stored secret under the newest key, in one transaction.

A column holding Fernet ciphertext declares ``info={"encrypted": True}``; rotation finds
them all in the metadata, so a new encrypted column is covered by declaring it.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, select, update
from sqlalchemy.orm import Session

from tenantfusion import models  # noqa: F401  (imports every table)
from tenantfusion.config import Settings
from tenantfusion.crypto import SecretKeyError, rotate
from tenantfusion.db import Base


def encrypted_columns() -> list[tuple[Table, Column[str]]]:
    """Every (table, column) declared as holding ciphertext."""
    return [
        (table, column)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("encrypted")
    ]


def rotate_all(*, db: Session, settings: Settings) -> dict[str, int]:
    """Re-encrypt every stored secret under the newest configured key (flushes; the caller
    commits once). Raises SecretKeyError when a secret opens with none of the keys."""
    counts: dict[str, int] = {}
    for table, column in encrypted_columns():
        key = table.primary_key.columns.values()[0]
        rows = db.execute(select(key, column).where(column.is_not(None))).all()
        for row_id, token in rows:
            try:
                fresh = rotate(token, settings=settings)
            except SecretKeyError as e:
                raise SecretKeyError(f"{e.detail}: {table.name}.{column.name} of {row_id}") from e
            db.execute(update(table).where(key == row_id).values({column.name: fresh}))
        counts[f"{table.name}.{column.name}"] = len(rows)
    db.flush()
    return counts
