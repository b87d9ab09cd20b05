"""``-f table|json|yaml|value|csv`` and ``-c COLUMN`` (python-openstackclient's conventions)
against a real served API, each output checked against the API's own JSON; and that every
command printing an answer offers both."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import typer
import yaml

from tenantfusion.cli import app
from tests.client.conftest import ADMIN_PASSWORD, Cli

FORMATS = {"table", "json", "yaml", "value", "csv"}


def _tenants(cli: Cli) -> list[dict[str, Any]]:
    for name in ("acme", "globex"):
        cli.json(
            "tenants", "create", name, "--admin-username", "boss", "--admin-password", "pw-1234567"
        )
    items: list[dict[str, Any]] = cli.api("/v1/tenants")["items"]
    assert [t["name"] for t in items] == ["acme", "globex"]
    return items


def test_list_formats_and_columns(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    tenants = _tenants(cli)
    api = cli.api("/v1/tenants")
    # value: bare values separated by spaces, one row per line, in the -c order
    value = cli("tenants", "list", "-f", "value", "-c", "name", "-c", "id").stdout
    assert value == "".join(f"{t['name']} {t['id']}\n" for t in tenants)
    assert cli("tenants", "list", "-f", "value", "-c", "id").stdout.split() == [
        t["id"] for t in tenants
    ]
    # without -c: the list's default columns
    default = cli("tenants", "list", "-f", "value").stdout.splitlines()
    assert default[0].split()[:3] == [tenants[0]["id"], "acme", "True"]
    # csv: a header, then one row per item; text quoted
    text = cli("tenants", "list", "-f", "csv", "-c", "id", "-c", "name", "-c", "is_enabled").stdout
    assert text.splitlines()[0] == '"id","name","is_enabled"'
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows == [{"id": t["id"], "name": t["name"], "is_enabled": "True"} for t in tenants]
    # json and yaml: the API's answer; with -c each item narrowed to those fields, in order
    assert json.loads(cli("tenants", "list", "-f", "json").stdout) == api
    assert yaml.safe_load(cli("tenants", "list", "-f", "yaml").stdout) == api
    narrowed = json.loads(cli("tenants", "list", "-f", "json", "-c", "name", "-c", "id").stdout)
    assert narrowed["items"] == [{"name": t["name"], "id": t["id"]} for t in tenants]
    assert list(narrowed["items"][0]) == ["name", "id"] and "next_marker" in narrowed
    assert yaml.safe_load(cli("tenants", "list", "-f", "yaml", "-c", "name").stdout)["items"] == [
        {"name": "acme"},
        {"name": "globex"},
    ]
    # table: only the chosen columns; -o json still means -f json
    table = cli("tenants", "list", "-c", "name").stdout
    assert "acme" in table and "globex" in table and tenants[0]["id"] not in table
    assert json.loads(cli("tenants", "list", "-o", "json").stdout) == api
    # a paged list with --all keeps the conventions
    users = cli(
        "users", "list", "--tenant", tenants[0]["id"], "--all", "-f", "value", "-c", "username"
    )
    assert users.stdout == "boss\n"


def test_show_formats_and_columns(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    tenant = _tenants(cli)[0]
    shown = cli.api(f"/v1/tenants/{tenant['id']}")
    show = ("tenants", "show", tenant["id"])
    # value: one value per line (one field a row), in the -c order
    assert cli(*show, "-f", "value", "-c", "name", "-c", "id").stdout == f"acme\n{tenant['id']}\n"
    # csv: the fields as a header, the values as one row
    rows = list(csv.reader(io.StringIO(cli(*show, "-f", "csv").stdout)))
    assert rows[0] == list(shown) and len(rows) == 2
    assert dict(zip(rows[0], rows[1], strict=True))["name"] == "acme"
    assert yaml.safe_load(cli(*show, "-f", "yaml").stdout) == shown
    assert json.loads(cli(*show, "-f", "json", "-c", "id").stdout) == {"id": tenant["id"]}
    table = cli(*show, "-c", "name").stdout
    assert "acme" in table and tenant["id"] not in table
    # whoami and create print their answer the same way
    assert (
        cli("whoami", "-f", "value", "-c", "username", "-c", "role").stdout
        == "root\nplatform_admin\n"
    )
    made = cli(
        "tenants", "create", "initech", "--admin-username", "bob", "--admin-password", "pw-1234567",
        "-f", "value", "-c", "id",
    ).stdout.strip()  # fmt: skip
    assert cli.api(f"/v1/tenants/{made}")["name"] == "initech"


def test_unknown_column_is_one_line_and_exit_2(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    # an empty list has nothing to check a column against: any is accepted
    assert cli("tenants", "list", "-f", "value", "-c", "whatever").stdout == ""
    tenant = _tenants(cli)[0]
    for args in (
        ("tenants", "list", "-c", "nope"),
        ("tenants", "list", "-f", "json", "-c", "id", "-c", "nope"),
        ("tenants", "show", tenant["id"], "-f", "value", "-c", "nope"),
        ("whoami", "-c", "nope"),
    ):
        r = cli(*args, code=2)
        assert r.stdout == ""
        assert (
            r.stderr.startswith("error: unknown column 'nope' (columns: ")
            and r.stderr.count("\n") == 1
        )
        assert "name" in r.stderr
    bad = cli("tenants", "list", "-f", "xml", code=2)
    assert "'xml'" in bad.output and "--format" in bad.output


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command of the app by its full name (``servers list``)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found |= _commands(command, f"{prefix}{name} ")
        else:
            found[f"{prefix}{name}"] = command
    return found


def test_every_list_and_show_offers_format_and_column() -> None:
    commands = _commands(typer.main.get_command(app))
    shown = {n: c for n, c in commands.items() if n.split()[-1] in ("list", "show")}
    shown |= {n: commands[n] for n in ("whoami", "servers create", "jobs wait", "pools check")}
    assert len(shown) >= 20
    for name, command in shown.items():
        options = {o: p for p in command.params for o in p.opts}
        assert {"-f", "--format", "-c", "--column"} <= set(options), name
        assert {f.value for f in options["-f"].type_descriptor.annotation} == FORMATS, name
        assert options["-c"].type_descriptor.annotation == list[str], name
