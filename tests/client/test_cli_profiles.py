"""Named profiles against a real served API: one saved login each (URL, token or API key),
``--profile`` / ``$TENANTFUSION_PROFILE`` / ``profile use``, 0600 files, a pre-profile
``login.json`` migrated as ``default``, and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx

from tests.client.conftest import ADMIN_PASSWORD, Cli, free_port


def _tenant_admin(cli: Cli) -> None:
    cli.json(
        "tenants", "create", "acme", "--admin-username", "boss", "--admin-password", "pw-1234567"
    )


def test_profiles_keep_one_login_each(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    _tenant_admin(cli)
    cli(
        "--profile", "acme", "login", "-u", "boss", "-t", "acme", "--password-stdin",
        input="pw-1234567\n",
    )  # fmt: skip
    assert cli.json("whoami")["username"] == "root"  # default is still in use
    assert cli.json("--profile", "acme", "whoami")["username"] == "boss"
    by_env = Cli(url=cli.url, config_dir=cli.config_dir)
    by_env.env["TENANTFUSION_PROFILE"] = "acme"
    assert by_env("whoami", "-f", "value", "-c", "username").stdout == "boss\n"
    # the files: one per profile, 0600 in a 0700 folder, never the password
    folder = cli.config_dir / "profiles"
    assert folder.stat().st_mode & 0o777 == 0o700
    for name in ("default", "acme"):
        path = cli.saved(name)
        assert path.stat().st_mode & 0o777 == 0o600
        assert ADMIN_PASSWORD not in path.read_text() and "pw-1234567" not in path.read_text()
    listed = cli.json("profile", "list")["items"]
    assert [(p["name"], p["in_use"], p["username"]) for p in listed] == [
        ("acme", False, "boss"),
        ("default", True, "root"),
    ]
    assert cli("profile", "list", "-f", "value", "-c", "name").stdout == "acme\ndefault\n"
    # show never prints the token
    token = json.loads(cli.saved("acme").read_text())["token"]
    shown = cli("profile", "show", "acme", "-f", "json").stdout
    assert token not in shown and json.loads(shown)["auth"] == "token"
    assert json.loads(shown)["tenant"] == "acme"
    # use: later commands take acme; --profile still overrides
    assert cli("profile", "use", "acme").stderr == "profile acme is in use\n"
    assert cli.json("whoami")["username"] == "boss"
    assert cli.json("--profile", "default", "whoami")["username"] == "root"
    assert cli("profile", "show", "-f", "value", "-c", "name").stdout == "acme\n"
    # logout in one profile revokes and forgets only its own token
    cli("logout")
    assert not cli.saved("acme").exists() and cli.saved("default").exists()
    revoked = httpx.get(f"{cli.url}/v1/auth/tokens", headers={"X-Auth-Token": token})
    assert revoked.status_code == 401
    assert cli.json("whoami")["username"] == "root"  # acme gone: back to default
    assert cli.json("profile", "list")["items"][0]["name"] == "default"


def test_profile_urls_and_errors(cli: Cli, tmp_path: Path) -> None:
    # no $TENANTFUSION_URL: each profile's own saved URL is used
    plain = Cli(url=cli.url, config_dir=tmp_path / "plain")
    plain.env.pop("TENANTFUSION_URL")
    plain("login", "-u", "root", "--password-stdin", "--url", cli.url, input=ADMIN_PASSWORD + "\n")
    assert plain.json("whoami")["username"] == "root"
    nowhere = f"http://127.0.0.1:{free_port()}"
    plain.config_dir.joinpath("profiles", "far.json").write_text(
        json.dumps({"url": nowhere, "token": "t"})
    )
    far = plain("--profile", "far", "whoami", code=3)
    assert far.stderr == f"error: cannot reach {nowhere} (ConnectError)\n"
    assert plain.json("whoami")["username"] == "root"
    # one-line errors: unknown profile (2), bad name (2), a profile without login (4)
    for args in (
        ("profile", "use", "nope"),
        ("profile", "show", "nope"),
        ("profile", "delete", "nope"),
    ):
        r = plain(*args, code=2)
        assert r.stderr == "error: no profile 'nope' (known: default, far)\n"
    bad = plain("--profile", "../x", "whoami", code=2)
    assert "'../x'" in bad.output and "--profile" in bad.output
    assert not (plain.config_dir / "x.json").exists()
    assert plain("--profile", "empty", "whoami", code=4).stderr.startswith("error: not logged in")
    plain("profile", "delete", "far")
    assert [p["name"] for p in plain.json("profile", "list")["items"]] == ["default"]


def test_a_pre_profile_login_becomes_default(cli: Cli) -> None:
    cli.login("root", ADMIN_PASSWORD)
    # the layout before profiles: one login.json in the config folder
    legacy = cli.config_dir / "login.json"
    shutil.move(cli.saved(), legacy)
    shutil.rmtree(cli.config_dir / "profiles")
    legacy.chmod(0o644)
    assert cli.json("whoami")["username"] == "root"
    assert not legacy.exists() and cli.saved().stat().st_mode & 0o777 == 0o600
    assert [p["name"] for p in cli.json("profile", "list")["items"]] == ["default"]
