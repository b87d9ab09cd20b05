"""Create the OpenStack venv (`venv-openstack`) from the pinned requirements, once."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from tenantfusion.testbed.layout import Layout
from tenantfusion.testbed.progress import Report, Step, quiet

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


def log_path(layout: Layout) -> Path:
    """Where the installer's own output goes."""
    return layout.root / "install.log"


def ensure_venv(layout: Layout, report: Report = quiet) -> Path:
    """Install the pinned OpenStack services into the test-bed venv unless already done,
    uv's output going to `log_path` (named in the step's note).

    Returns the venv path. Raises RuntimeError naming the log when uv fails.
    """
    if is_installed(layout):
        return layout.venv
    text = requirements_text()
    layout.root.mkdir(parents=True, exist_ok=True)
    uv = _uv()
    log = log_path(layout)
    note = f"installing OpenStack into {layout.venv}; the installer's output goes to {log}"
    report(Step("openstack", "install", "installing", note=note))
    req_file = layout.root / REQUIREMENTS
    req_file.write_text(text)
    commands = [[*uv, "pip", "sync", "--python", str(layout.venv_bin("python")), str(req_file)]]
    if not layout.venv_bin("python").exists():
        commands.insert(0, [*uv, "venv", "--python", "3.11", str(layout.venv)])
    with log.open("a") as out:
        for command in commands:
            try:
                subprocess.run(command, check=True, stdout=out, stderr=subprocess.STDOUT)
            except subprocess.CalledProcessError as e:
                raise RuntimeError(f"installing OpenStack failed: see {log}") from e
    digest = hashlib.sha256(text.encode()).hexdigest()
    (layout.venv / MARKER).write_text(digest + "\n")
    report(Step("openstack", "install", "installed", done=True))
    return layout.venv
