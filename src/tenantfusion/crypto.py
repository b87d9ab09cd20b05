"""Encryption at rest for pool credentials (MultiFernet, key rotation newest-first)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tenantfusion.config import Settings, get_settings
from tenantfusion.errors import TenantFusionError


class SecretKeyError(TenantFusionError):
    type, status, title = "secret-key-error", 500, "Secret key unavailable or wrong"


KEY_FILE = "secret.key"


def _load_or_create_key_file(data_dir: Path) -> str:
    path = data_dir / KEY_FILE
    secure_dir(data_dir)
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting at once agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def require_keys(settings: Settings) -> None:
    """Raises SecretKeyError unless the configured keys are usable Fernet keys (production:
    ``TENANTFUSION_SECRET_KEY`` must be set). Called at startup so a bad key stops the
    process before it serves."""
    box = secret_box(settings)
    if box.decrypt(box.encrypt(b"probe")) != b"probe":  # pragma: no cover - Fernet contract
        raise SecretKeyError("the configured keys cannot encrypt")


def secure_dir(path: Path) -> None:
    """Create ``path`` if needed and make it private to this user (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)


def keys_from_settings(settings: Settings) -> list[str]:
    """The configured Fernet keys, newest first; a key file in the data dir in dev."""
    if settings.secret_key is not None:
        keys = [k.strip() for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
        if keys:
            return keys
    if settings.environment == "production":
        raise SecretKeyError("TENANTFUSION_SECRET_KEY is required in production")
    return [_load_or_create_key_file(settings.data_dir)]


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as e:
        raise SecretKeyError("TENANTFUSION_SECRET_KEY holds a malformed Fernet key") from e


def secret_box(settings: Settings | None = None) -> MultiFernet:
    """The MultiFernet for the configured keys."""
    return _box(tuple(keys_from_settings(settings or get_settings())))


def encrypt_json(data: dict[str, Any], *, settings: Settings | None = None) -> str:
    """Encrypt a JSON-able dict to a Fernet token string."""
    return secret_box(settings).encrypt(json.dumps(data, sort_keys=True).encode()).decode()


def decrypt_json(token: str, *, settings: Settings | None = None) -> dict[str, Any]:
    """Decrypt what ``encrypt_json`` produced; raises SecretKeyError on a wrong key."""
    try:
        raw = secret_box(settings).decrypt(token.encode())
    except InvalidToken as e:
        raise SecretKeyError("stored secret cannot be decrypted with the configured keys") from e
    value: dict[str, Any] = json.loads(raw)
    return value


def rotate(token: str, *, settings: Settings | None = None) -> str:
    """Re-encrypt a token under the newest key; raises SecretKeyError when no configured key
    opens it."""
    try:
        return secret_box(settings).rotate(token.encode()).decode()
    except InvalidToken as e:
        raise SecretKeyError("a stored secret opens with none of the configured keys") from e
