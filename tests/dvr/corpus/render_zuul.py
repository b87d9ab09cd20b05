"""Render a Zuul DevStack job into the local.conf files DevStack's Zuul role writes.

Used once to produce the ``zuul-*`` corpus entries (see INDEX.yaml); kept so the
rendering can be checked and repeated. It follows devstack's
``roles/write-devstack-local-conf/library/devstack_local_conf.py`` (devstack 493835a):
``[[local|localrc]]`` = ``disable_all_services`` (when ``base: false``), then one
``enable_service``/``disable_service`` per ``devstack_services`` entry, then
``NAME="value"`` per ``devstack_localrc`` variable (sorted), then ``enable_plugin``; then
one ``[[phase|file]]`` section per ``devstack_local_conf`` file.

Variables: the controller gets the job's ``vars`` merged (deeply) down its inheritance
chain; subnodes get ``group-vars.subnode`` likewise (Ansible group vars replace, they do not
merge with job vars). Parents outside the given files are replaced by devstack's
``devstack`` job chain (devstack-base → devstack-minimal → devstack): tempest's and grenade's
own job layers set no Neutron variables. ``grenade_devstack_localrc.shared`` is added to
``devstack_localrc`` as grenade does. Jinja expressions are replaced by fixed stand-ins
(nodepool addresses 10.209.0.10 for the controller, .11, .12 for subnodes; MTU 1450).

    python tests/dvr/corpus/render_zuul.py OUTDIR JOB NODES SOURCE.yaml [SOURCE.yaml ...]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

KEYS = ("devstack_localrc", "devstack_services", "devstack_local_conf", "devstack_plugins")
BASE_CHAIN = ("devstack", "devstack-minimal", "devstack-base")
IPS = {"controller": "10.209.0.10", "compute1": "10.209.0.11", "compute2": "10.209.0.12"}


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Zuul's deep merge of job variables (b wins)."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_jobs(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """Job name → definition; later files win (the project's over devstack's)."""
    jobs: dict[str, dict[str, Any]] = {}
    for path in paths:
        for item in yaml.safe_load(path.read_text()) or []:
            if isinstance(item, dict) and "job" in item:
                jobs[item["job"]["name"]] = item["job"]
    return jobs


def chain(jobs: dict[str, dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The job and its parents, root first; unknown parents continue with devstack's chain."""
    out: list[dict[str, Any]] = []
    while name:
        job = jobs.get(name)
        if job is None:
            name = BASE_CHAIN[0]
            continue
        out.insert(0, job)
        name = "" if name == BASE_CHAIN[-1] else job.get("parent", BASE_CHAIN[0])
    return out


def node_vars(layers: list[dict[str, Any]], group: str | None) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for job in layers:
        source = job.get("vars", {}) if group is None else job.get("group-vars", {}).get(group, {})
        picked = {k: v for k, v in source.items() if k in KEYS}
        shared = source.get("grenade_devstack_localrc", {}).get("shared", {})
        if shared:
            picked["devstack_localrc"] = merge(picked.get("devstack_localrc", {}), shared)
        merged = merge(merged, picked)
    return merged


def jinja(value: Any, host: str) -> str:
    text = str(value)
    text = re.sub(r"\{\{\s*hostvars\['controller'\]\[[^}]*\}\}", IPS["controller"], text)
    text = re.sub(r"\{\{\s*hostvars\[inventory_hostname\][^}]*\}\}", IPS[host], text)
    text = re.sub(r"\{\{\s*external_bridge_mtu\s*\}\}", "1450", text)
    text = re.sub(r"\{\{\s*devstack_libvirt_type[^}]*\}\}", "qemu", text)
    return re.sub(r"\{\{[^}]*\}\}", "all", text)


def render(v: dict[str, Any], host: str) -> str:
    lines = ["[[local|localrc]]"]
    services = dict(v.get("devstack_services", {}))
    if not services.pop("base", True):
        lines.append("disable_all_services")
    for name, on in services.items():
        if on is True or on is False:
            lines.append(f"{'enable' if on else 'disable'}_service {name}")
    for name, value in sorted(v.get("devstack_localrc", {}).items()):
        text = jinja(value, host)
        lines.append(f"{name}={text}" if text[:1] == '"' else f'{name}="{text}"')
    for name, url in sorted(v.get("devstack_plugins", {}).items()):
        if url:
            lines.append(f"enable_plugin {name} {url}")
    lines.append("")
    for phase, files in v.get("devstack_local_conf", {}).items():
        for fn, sections in files.items():
            lines.append(f"[[{phase}|{fn}]]")
            for section, options in sections.items():
                lines.append(f"[{section}]")
                lines += [f"{k} = {jinja(val, host)}" for k, val in options.items()]
                lines.append("")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    outdir, job, nodes, *sources = argv
    layers = chain(load_jobs([Path(s) for s in sources]), job)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    for i, host in enumerate(nodes.split(",")):
        v = node_vars(layers, None if i == 0 else "subnode")
        (out / f"{host}.local.conf").write_text(render(v, host))


if __name__ == "__main__":
    main(sys.argv[1:])
