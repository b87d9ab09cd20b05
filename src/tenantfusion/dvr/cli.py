"""``tenantfusion dvr``: plan, validate, check, capture (a Typer sub-app).

Exit codes: 0 ok (warnings only), 1 errors (``validate --fail-on-warnings``, alias
``--strict``: any finding),
2 unusable input (a one-line message, no traceback).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tenantfusion.dvr import checker, planner, state, validator
from tenantfusion.dvr.errors import DvrError, InventoryError
from tenantfusion.dvr.expected import load_expected
from tenantfusion.dvr.inventory import load_inventory
from tenantfusion.dvr.rules import Finding

app = typer.Typer(no_args_is_help=True, help="DevStack DVR: plan, validate, check nodes.")
F = TypeVar("F", bound=Callable[..., Any])


class Output(StrEnum):
    """Output formats."""

    table = "table"
    json = "json"


class Role(StrEnum):
    """Node roles."""

    network = "network"
    compute = "compute"


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def one_line_errors(func: F) -> F:
    """Turn toolkit errors into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InventoryError as e:
            for problem in e.problems:
                typer.echo(f"error: {e.path}: {problem}", err=True)
            raise typer.Exit(2) from e
        except DvrError as e:
            raise _fail(str(e)) from e
        except OSError as e:
            raise _fail(f"{e.filename or ''}: {e.strerror}".lstrip(": ")) from e
        except (typer.Exit, typer.Abort):
            raise
        except Exception as e:  # a bug: still one line, never a traceback
            raise _fail(f"internal error: {type(e).__name__}: {e}") from e

    return wrapper  # type: ignore[return-value]


def _location(f: Finding) -> str:
    if f.field:
        return f"{f.file}#{f.field}" + (f":{f.line}" if f.line else "")
    return f"{f.file}:{f.line}" if f.line else f.file


def failed(findings: list[Finding], *, strict: bool = False) -> bool:
    """Whether findings fail the command: any error, or any finding with ``strict``."""
    return any(f.is_error or strict for f in findings)


def _report(findings: list[Finding], output: Output, *, ok_text: str, strict: bool = False) -> None:
    if output is Output.json:
        rows = [
            {
                "rule": f.rule,
                "node": f.node,
                "file": f.file,
                "line": f.line,
                "field": f.field,
                "severity": f.severity,
                "message": f.message,
                "fix": f.fix,
            }
            for f in findings
        ]
        ok = not failed(findings, strict=strict)
        typer.echo(json.dumps({"ok": ok, "findings": rows}, indent=2))
        return
    if not findings:
        typer.echo(ok_text)
        return
    table = Table(show_lines=True)
    for name in ("rule", "severity", "node"):
        table.add_column(name, no_wrap=True)
    # Long names are folded, never cut; the problem and its fix share the wide column so a
    # [[post-config|...]] spec stays on one line.
    table.add_column("where", overflow="fold", max_width=40)
    table.add_column("problem / fix", overflow="fold")
    for f in findings:
        # Text cells: data (file names, values, messages) is never read as Rich markup.
        cells = (f.rule, f.severity, f.node, _location(f), f"{f.message}\nfix: {f.fix}")
        table.add_row(*(Text(c) for c in cells))
    Console(width=160).print(table)
    errors = sum(1 for f in findings if f.is_error)
    typer.echo(f"{errors} error(s), {len(findings) - errors} warning(s).")


@app.command()
@one_line_errors
def plan(
    inventory: Annotated[Path, typer.Argument(help="Inventory YAML")],
    outdir: Annotated[Path, typer.Option("-o", "--outdir", help="Output directory")],
    force: Annotated[bool, typer.Option(help="Write even when rules find problems")] = False,
    output: Annotated[Output, typer.Option(help="Report format")] = Output.table,
) -> None:
    """Write <outdir>/<node>/local.conf and post-install.sh for every node."""
    inv, lines = load_inventory(path=inventory)
    dep = validator.deployment_from_inventory(inventory=inv, lines=lines, path=str(inventory))
    findings = validator.validate(deployment=dep)
    if failed(findings) and not force:
        _report(findings, output, ok_text="")
        raise _fail("the inventory breaks the rules above; nothing written (--force to write)", 1)
    written = planner.write_plan(inventory=inv, outdir=outdir)
    if output is Output.json:
        typer.echo(json.dumps({"written": [str(p) for p in written]}, indent=2))
    else:
        for path in written:
            typer.echo(f"wrote {path}")


@app.command()
@one_line_errors
def validate(
    paths: Annotated[
        list[Path], typer.Argument(help="Inventory YAML, or local.conf files / plan dirs")
    ],
    output: Annotated[Output, typer.Option(help="Report format")] = Output.table,
    strict: Annotated[
        bool, typer.Option("--fail-on-warnings", "--strict", help="Fail (exit 1) on warnings too")
    ] = False,
) -> None:
    """Check an inventory or local.conf files (with post-install scripts beside them).

    Exit 1 on errors, 0 on warnings alone (--fail-on-warnings, alias --strict: 1 on any).
    """
    if len(paths) == 1 and paths[0].suffix in (".yaml", ".yml"):
        inv, lines = load_inventory(path=paths[0])
        dep = validator.deployment_from_inventory(inventory=inv, lines=lines, path=str(paths[0]))
    else:
        dep = validator.deployment_from_files(paths=paths)
    findings = validator.validate(deployment=dep)
    _report(
        findings,
        output,
        ok_text=f"ok: {len(dep.nodes)} node(s), no problems found",
        strict=strict,
    )
    if failed(findings, strict=strict):
        raise typer.Exit(1)


@app.command()
@one_line_errors
def check(
    role: Annotated[Role, typer.Option(help="This node's role")],
    expect: Annotated[Path | None, typer.Option(help="Expected Neutron state (JSON)")] = None,
    state_file: Annotated[
        Path | None, typer.Option("--state", help="Captured state (JSON)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Host name in the expected state")] = None,
    mode: Annotated[str | None, typer.Option(help="Q_DVR_MODE (default by role)")] = None,
    output: Annotated[Output, typer.Option(help="Report format")] = Output.table,
) -> None:
    """Compare this node's bridges, namespaces, devices and routes with the Neutron state."""
    if mode is not None and mode not in ("dvr_snat", "dvr", "dvr_no_external"):
        raise _fail(f"--mode {mode}: expected dvr_snat, dvr or dvr_no_external")
    node = state.load_state(path=state_file) if state_file else state.capture()
    expected = load_expected(path=expect) if expect else None
    findings = checker.check(state=node, role=role.value, expected=expected, mode=mode, host=host)
    _report(findings, output, ok_text=f"ok: {host or node.host} matches the expected DVR layout")
    if failed(findings):
        raise typer.Exit(1)


@app.command()
@one_line_errors
def capture(
    out: Annotated[Path, typer.Option("-o", "--output", help="State file to write")],
    host: Annotated[str | None, typer.Option(help="Host name to record")] = None,
) -> None:
    """Capture this node's state (ip -j, ovs-vsctl --format=json) into a JSON file."""
    node = state.capture(host=host)
    state.save_state(state=node, path=out)
    typer.echo(f"wrote {out} ({len(node.namespaces)} namespaces, {len(node.bridges)} bridges)")
