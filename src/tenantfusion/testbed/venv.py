"""The test bed's own virtualenv holding the OpenStack services (pinned, installed once)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements-openstack.txt")


def ensure_venv(root: Path) -> Path:
    """Create ``root/venv-openstack`` with the pinned services unless it is already current."""
    venv = root / "venv-openstack"
    marker = venv / ".requirements-sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if marker.exists() and marker.read_text() == digest:
        return venv
    root.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    if uv:
        if not (venv / "bin" / "python").exists():
            subprocess.run([uv, "venv", "-q", "--python", "3.11", str(venv)], check=True)
        subprocess.run(
            [
                uv,
                "pip",
                "install",
                "-q",
                "--python",
                str(venv / "bin" / "python"),
                "-r",
                str(REQUIREMENTS),
            ],
            check=True,
        )
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-r", str(REQUIREMENTS)], check=True
        )
    marker.write_text(digest)
    return venv
