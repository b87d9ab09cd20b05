"""Small helpers shared by the service modules: setup markers and `*-manage` runs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from tenantfusion.testbed.context import PoolContext
from tenantfusion.testbed.process import Daemon


def marker_done(ctx: PoolContext, marker: str) -> bool:
    """True when the one-time setup recorded by `marker` already finished."""
    return (ctx.dir / marker).exists()


def mark_done(ctx: PoolContext, marker: str) -> None:
    """Record that the one-time setup `marker` finished."""
    (ctx.dir / marker).write_text("ok\n")


def manage(
    ctx: PoolContext, command: list[str], env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a console script from the OpenStack venv; output goes to `setup.log`.

    Raises RuntimeError with the log tail when it fails.
    """
    run_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    argv = [str(ctx.layout.venv_bin(command[0])), *command[1:]]
    log = ctx.dir / "setup.log"
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        result = subprocess.run(argv, env=run_env, stdout=subprocess.PIPE, stderr=out, text=True)
        out.write(result.stdout)
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{command[0]} failed ({result.returncode}); {log}:\n{tail}")
    return result


def config_daemons(ctx: PoolContext, names: Sequence[str], conf: str) -> list[Daemon]:
    """The service's console scripts ``names`` (no HTTP port), each run with
    ``--config-file conf``, their pid and log files in the pool's folder."""
    return [
        Daemon(
            name=name,
            command=[str(ctx.layout.venv_bin(name)), "--config-file", conf],
            pidfile=ctx.dir / f"{name}.pid",
            logfile=ctx.dir / f"{name}.log",
        )
        for name in names
    ]
