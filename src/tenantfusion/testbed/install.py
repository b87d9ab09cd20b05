"""Create the OpenStack venv (`venv-openstack`) from the pinned requirements, once."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from tenantfusion.testbed.layout import Layout

REQUIREMENTS = "requirements-openstack.txt"
MARKER = ".tf-requirements.sha256"


def requirements_text() -> str:
    """Return the pinned requirements file shipped in this package."""
    return resources.files(__package__).joinpath(REQUIREMENTS).read_text()


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        subprocess.run([sys.executable, "-m", "uv", "--version"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError("uv is needed for the test bed: pip install uv==0.13.9") from e
    return [sys.executable, "-m", "uv"]


def is_installed(layout: Layout) -> bool:
    """True when the venv was built from the current requirements file."""
    marker = layout.venv / MARKER
    digest = hashlib.sha256(requirements_text().encode()).hexdigest()
    return marker.is_file() and marker.read_text().strip() == digest


def ensure_venv(layout: Layout) -> Path:
    """Install the pinned OpenStack services into the test-bed venv unless already done.

    Returns the venv path. Raises `subprocess.CalledProcessError` when uv fails.
    """
    if is_installed(layout):
        return layout.venv
    text = requirements_text()
    layout.root.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    if not layout.venv_bin("python").exists():
        subprocess.run([*uv, "venv", "--python", "3.11", str(layout.venv)], check=True)
    req_file = layout.root / REQUIREMENTS
    req_file.write_text(text)
    subprocess.run(
        [*uv, "pip", "sync", "--python", str(layout.venv_bin("python")), str(req_file)],
        check=True,
    )
    digest = hashlib.sha256(text.encode()).hexdigest()
    (layout.venv / MARKER).write_text(digest + "\n")
    return layout.venv
