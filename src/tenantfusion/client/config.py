"""The saved login: ``$TENANTFUSION_CONFIG_DIR/login.json`` (default
``~/.config/tenantfusion``), written atomically with mode 0600."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Login:
    url: str
    token: str = ""
    tenant: str | None = None
    tenant_id: str | None = None
    username: str = ""


def config_dir() -> Path:
    env = os.environ.get("TENANTFUSION_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "tenantfusion"


def load() -> Login | None:
    path = config_dir() / "login.json"
    if not path.exists():
        return None
    return Login(**json.loads(path.read_text()))


def save(login: Login) -> Path:
    """Write the login atomically, readable by its owner only."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".login-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(login), fh)
        os.replace(tmp, folder / "login.json")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / "login.json"


def forget() -> None:
    (config_dir() / "login.json").unlink(missing_ok=True)


def base_url(option: str | None) -> str:
    """``--url``, else ``$TENANTFUSION_URL``, else the saved login's, else the default."""
    saved = load()
    return option or os.environ.get("TENANTFUSION_URL") or (saved.url if saved else DEFAULT_URL)
