"""Saved logins, one per named profile: ``$TENANTFUSION_CONFIG_DIR/profiles/<name>.json``
(default ``~/.config/tenantfusion``), each written atomically with mode 0600 in a 0700
folder; ``profiles/current`` names the profile ``profile use`` chose.

A command's profile is ``--profile`` (or ``$TENANTFUSION_PROFILE``, given to ``select``),
else the current one, else ``default``. A login saved before profiles existed
(``login.json``) becomes the profile ``default`` the first time profiles are read.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_PROFILE = "default"
#: A profile name is a file name: letters, digits, ``.``, ``_``, ``-``; no leading dot.
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CURRENT_FILE = "current"
LEGACY_FILE = "login.json"


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


_selected: str | None = None


def check_name(name: str) -> str:
    """``name`` if it can name a profile. Raises ValueError."""
    if not PROFILE_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a profile name (letters, digits, '.', '_', '-'; up to 64)"
        )
    return name


def select(name: str | None) -> None:
    """Use profile ``name`` in this process (None: the current one). Raises ValueError."""
    global _selected
    _selected = None if name is None else check_name(name)


def config_dir() -> Path:
    """``$TENANTFUSION_CONFIG_DIR``, else ``~/.config/tenantfusion``."""
    env = os.environ.get("TENANTFUSION_CONFIG_DIR")
    return Path(env) if env else Path.home() / ".config" / "tenantfusion"


def profiles_dir() -> Path:
    return config_dir() / "profiles"


def profile_path(name: str) -> Path:
    """Where profile ``name``'s login is saved."""
    return profiles_dir() / f"{check_name(name)}.json"


def _folder() -> Path:
    config_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = profiles_dir()
    folder.mkdir(exist_ok=True, mode=0o700)
    return folder


def _migrate() -> None:
    """Move a pre-profile ``login.json`` to the profile ``default`` (once)."""
    legacy = config_dir() / LEGACY_FILE
    if legacy.exists() and not profile_path(DEFAULT_PROFILE).exists():
        legacy.chmod(0o600)
        os.replace(legacy, _folder() / f"{DEFAULT_PROFILE}.json")


def _write(path: Path, text: str) -> None:
    """Write ``text`` atomically (temp file + rename), readable by its owner only."""
    fd, tmp = tempfile.mkstemp(dir=_folder(), prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current() -> str:
    """The profile of this command: selected, else the one in use, else ``default``."""
    if _selected is not None:
        return _selected
    try:
        return check_name((profiles_dir() / CURRENT_FILE).read_text().strip())
    except (OSError, ValueError):
        return DEFAULT_PROFILE


def use(name: str) -> None:
    """Make ``name`` the profile of later commands. Raises KeyError when it has no login."""
    if name not in names():
        raise KeyError(name)
    _write(profiles_dir() / CURRENT_FILE, name + "\n")


def names() -> list[str]:
    """Every profile with a saved login, sorted."""
    _migrate()
    return sorted(p.stem for p in profiles_dir().glob("*.json") if PROFILE_NAME.fullmatch(p.stem))


def load(name: str | None = None) -> Login | None:
    """Profile ``name``'s login (default: the current profile's); None when there is none
    or it cannot be read."""
    _migrate()
    try:
        data = json.loads(profile_path(name or current()).read_text())
        known = {f.name for f in fields(Login)}
        return Login(**{k: v for k, v in data.items() if k in known})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(login: Login, name: str | None = None) -> Path:
    """Save ``login`` as profile ``name`` (default: the current profile); its path."""
    _migrate()
    path = profile_path(name or current())
    _write(path, json.dumps(asdict(login)))
    return path


def forget(name: str | None = None) -> bool:
    """Delete profile ``name``'s login (default: the current one's); True if there was one.
    A deleted profile that was in use leaves ``default`` in use."""
    _migrate()
    name = name or current()
    path = profile_path(name)
    existed = path.exists()
    path.unlink(missing_ok=True)
    marker = profiles_dir() / CURRENT_FILE
    if marker.exists() and marker.read_text().strip() == name:
        marker.unlink()
    return existed


def check_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host. Raises ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    return url


def base_url(option: str | None) -> str:
    """``--url`` (or ``$TENANTFUSION_URL``, via the option), else the profile's saved URL,
    else the default."""
    saved = load()
    return option or (saved.url if saved else DEFAULT_URL)
