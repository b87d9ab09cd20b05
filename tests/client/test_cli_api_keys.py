"""The CLI signing with a saved API key against a served API (RFC 9421 on the wire)."""

from __future__ import annotations

import json

from tests.client.conftest import ADMIN_PASSWORD, Cli


def test_api_key_create_save_and_login_with_key(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    created = cli.json("api-keys", "create", "laptop", "--expires-in-days", "7", "--save")
    saved = json.loads(cli.saved().read_text())
    assert saved["api_key_id"] == created["key_id"] and saved["token"] == ""
    assert cli.saved().stat().st_mode & 0o777 == 0o600
    # every command now signs: no token is sent
    assert cli.json("whoami")["username"] == "root"
    listed = cli.json("api-keys", "list")["items"]
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    # a second machine logs in with the key id and secret on stdin
    other = Cli(url=cli.url, config_dir=cli.config_dir.parent / "other")
    other(
        "login",
        "--api-key-id",
        created["key_id"],
        "--api-key-secret-stdin",
        input=created["secret"] + "\n",
    )
    assert other.json("whoami")["username"] == "root"
    bad = Cli(url=cli.url, config_dir=cli.config_dir.parent / "bad")
    refused = bad(
        "login",
        "--api-key-id",
        created["key_id"],
        "--api-key-secret-stdin",
        input="tfs_wrong\n",
        code=1,
    )
    assert "signature-rejected" in refused.stderr and "HTTP 401" in refused.stderr
    # revoked: the saved key stops working (exit 4, as an expired token)
    cli("api-keys", "delete", created["key_id"])
    assert other("whoami", code=4).stderr.startswith("error: not logged in")
