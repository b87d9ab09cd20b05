"""``tenantfusion audit verify``: check the audit trail's hash chain in the database."""

from __future__ import annotations

import typer


def verify() -> None:
    """Recompute the audit hash chain (run on the server host); exit 1 naming the first
    entry that was changed, removed or reordered."""
    from tenantfusion.audit import service
    from tenantfusion.config import get_settings
    from tenantfusion.db import session_scope

    with session_scope(get_settings()) as db:
        report = service.verify(db=db)
    if not report.ok:
        typer.echo(
            f"error: audit chain broken at entry {report.broken_seq}"
            f" (id {report.broken_id or '-'}): {report.reason}; {report.checked} entries intact",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.checked} entries")
