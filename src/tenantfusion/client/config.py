"""The saved login: ``$TENANTFUSION_CONFIG_DIR/login.json`` (default
``~/.config/tenantfusion``), written atomically with mode 0600."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Login:
    url: str
    token: str = ""
    tenant: str | None = None
    tenant_id: str | None = None
    username: str = ""
    #: An API key instead of a token: requests are signed (RFC 9421).
    api_key_id: str = ""
    api_key_secret: str = ""


def config_dir() -> Path:
    """``$TENANTFUSION_CONFIG_DIR``, else ``~/.config/tenantfusion``."""
    env = os.environ.get("TENANTFUSION_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "tenantfusion"


def login_path() -> Path:
    """Where the login is saved."""
    return config_dir() / "login.json"


def load() -> Login | None:
    """The saved login; None when there is none or it cannot be read."""
    try:
        data = json.loads(login_path().read_text())
        known = {f.name for f in fields(Login)}
        return Login(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(login: Login) -> Path:
    """Write the login atomically (temp file + rename), readable by its owner only."""
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".login-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(login), fh)
        os.replace(tmp, login_path())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return login_path()


def forget() -> None:
    login_path().unlink(missing_ok=True)


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host. Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return url


def base_url(option: str | None) -> str:
    """``--url`` (or ``$TENANTFUSION_URL``, via the option), else the saved login's, else
    the default."""
    saved = load()
    return option or (saved.url if saved else DEFAULT_URL)
