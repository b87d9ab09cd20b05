"""Decide a corpus entry's verdict with DevStack's and Neutron's own code (not the validator's).

For each node's local.conf, ``devstack-node.sh`` replays DevStack (pinned commit) inside a
throw-away chroot in a private mount namespace (root needed; nothing outside the chroot is
written). The files DevStack leaves in /etc/neutron are then read per process with the
``--config-file`` list DevStack starts it with, through oslo.config with Neutron's own option
definitions (``neutron.opts``, pinned commit): a value Neutron refuses is an error there.
From the effective values the deployment is judged as ML2/OVS DVR (``dvr: true``) or not,
with the reasons. Result: ``<entry>/replay.json``, pinned by tests/dvr/test_corpus.py.

    python replay.py DEVSTACK_TREE NEUTRON_TREE CORPUS_DIR [ENTRY ...]
    python replay.py DEVSTACK_TREE NEUTRON_TREE DIR [DIR ...]   # X.local.conf or <node>/local.conf

Runs as root with an interpreter that has Neutron's requirements installed; NEUTRON_TREE
(its ``neutron/``, ``etc/``) is put on sys.path. Development tool: CI uses the committed
replay.json files. Set-up used for the committed results (about 40 s per node):

    git -C devstack.git archive DEVSTACK_COMMIT | tar -x -C devstack
    git -C neutron.git archive NEUTRON_COMMIT neutron etc | tar -x -C neutron
    git -C neutron.git show NEUTRON_COMMIT:requirements.txt > req.txt
    uv venv nvenv && VIRTUAL_ENV=nvenv uv pip install -r req.txt
    nvenv/bin/python replay.py devstack neutron tests/dvr/corpus
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import subprocess  # noqa: S404 - runs unshare/chroot on a scratch tree
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DEVSTACK_COMMIT = "493835a61a996731a7031861f80c7629acd5d6f2"  # = tenantfusion.dvr.targets
NEUTRON_COMMIT = "2131d26f73262ec89a5d3e3e0d65521df4908e65"
STUBS = (
    "ovs-vsctl",
    "ovs-ofctl",
    "systemctl",
    "pip",
    "pip3",
    "iptables",
    "modprobe",
    "sysctl",
    "visudo",
    "a2ensite",
    "a2enmod",
    "chown",
    "uwsgi",
    "neutron-ovs-cleanup",
    "ovs-appctl",
    "ovs-dpctl",
    "ovsdb-client",
    "ovn-nbctl",
    "ovn-sbctl",
    "service",
    "ethtool",
    "systemd-tmpfiles",
)
ETC = ("passwd", "group", "os-release", "hosts", "nsswitch.conf", "hostname")
# DevStack's process names (short and long) → the files it starts them with (lib/neutron).
PROCESSES = {
    "server": (("q-svc", "neutron-api"), ("NEUTRON_CONF", "/Q_PLUGIN_CONF_FILE")),
    "ovs-agent": (("q-agt", "neutron-agent"), ("NEUTRON_CONF", "/Q_PLUGIN_CONF_FILE")),
    "l3-agent": (("q-l3", "neutron-l3"), ("NEUTRON_CONF", "Q_L3_CONF_FILE")),
    "dhcp-agent": (("q-dhcp", "neutron-dhcp"), ("NEUTRON_CONF", "Q_DHCP_CONF_FILE")),
    "metadata-agent": (("q-meta", "neutron-metadata-agent"), ("NEUTRON_CONF", "Q_META_CONF_FILE")),
}
WATCH = {
    "server": [
        ("DEFAULT", "router_distributed"),
        ("ml2", "mechanism_drivers"),
        ("ml2", "type_drivers"),
        ("ml2", "project_network_types"),
    ],
    "ovs-agent": [
        ("agent", "enable_distributed_routing"),
        ("agent", "l2_population"),
        ("agent", "tunnel_types"),
        ("ovs", "local_ip"),
    ],
    "l3-agent": [("DEFAULT", "agent_mode")],
}
IP_STUB = """#!/bin/bash
case "$*" in
  *"-f inet route"*) echo "default via 192.0.2.1 dev eth0" ;;
  *"-f inet addr show"*) echo "    inet 192.0.2.50/24 brd 192.0.2.255 scope global eth0" ;;
esac
exit 0
"""
# The planner's local.conf reads its passwords from the environment (stand-ins here).
PASSWORDS = " ".join(f"DEVSTACK_{n}_PASSWORD=replay" for n in ("ADMIN", "DB", "RABBIT", "SERVICE"))
DVR_MODES = ("dvr", "dvr_snat", "dvr_no_external")


def _opt_lists(process: str) -> list[Any]:
    import neutron.conf.db.l3_dvr_db as dvr_db  # noqa: PLC0415 - only importable with Neutron
    import neutron.opts as o  # noqa: PLC0415

    base = o.list_opts() + [("DEFAULT", dvr_db.ROUTER_DISTRIBUTED_OPTS)]
    return {
        "server": base + o.list_ml2_conf_opts(),
        "ovs-agent": base + o.list_base_agent_opts() + o.list_ovs_opts(),
        "l3-agent": base + o.list_base_agent_opts() + o.list_l3_agent_opts(),
        "dhcp-agent": base + o.list_base_agent_opts() + o.list_dhcp_agent_opts(),
        "metadata-agent": base + o.list_metadata_agent_opts(),
    }[process]


def load(process: str, files: list[Path]) -> dict[str, Any]:
    """Read files as Neutron's process does; refused values and the watched effective values."""
    from oslo_config import cfg  # noqa: PLC0415

    conf = cfg.ConfigOpts()
    for group, opts in _opt_lists(process):
        for opt in list(opts):
            try:
                conf.register_opt(opt, group=None if group == "DEFAULT" else group)
            except cfg.DuplicateOptError:
                pass
    args = list(itertools.chain.from_iterable(("--config-file", str(f)) for f in files))
    conf(args=args, project="neutron", default_config_files=[], default_config_dirs=[])
    refused: list[str] = []
    for group, opts in _opt_lists(process):
        for opt in opts:
            node = conf if group == "DEFAULT" else conf[group]
            try:
                getattr(node, opt.dest)
            except (cfg.ConfigFileValueError, ValueError) as e:
                refused.append(f"[{group}] {opt.dest}: {e}")
    values = {}
    for group, name in WATCH.get(process, []):
        node = conf if group == "DEFAULT" else conf[group]
        try:
            value = getattr(node, name)
        except (cfg.ConfigFileValueError, ValueError):
            value = "<refused>"
        values[f"{group}.{name}"] = value
    return {"refused": sorted(set(refused)), "values": values}


def _chroot(root: Path, devstack: Path, neutron_tree: Path, local_conf: Path) -> None:
    for d in (
        "usr",
        "etc/sudoers.d",
        "etc/apache2/sites-available",
        "etc/tmpfiles.d",
        "etc/openvswitch",
        "tmp",
        "opt/stack",
        "opt/stubs",
        "dev",
        "proc",
        "replay-out",
        "root",
    ):
        (root / d).mkdir(parents=True, exist_ok=True)
    for link in ("bin", "sbin", "lib", "lib64"):
        if Path("/" + link).is_symlink():
            (root / link).symlink_to(f"usr/{link}")
    for name in ETC:
        if Path("/etc", name).exists():
            shutil.copy(Path("/etc", name), root / "etc" / name)
    with (root / "etc/passwd").open("a") as f:  # DevStack's STACK_USER (root in the chroot)
        f.write("stack:x:0:0:stack:/opt/stack:/bin/bash\n")
    with (root / "etc/group").open("a") as f:
        f.write("stack:x:0:\n")
    shutil.copytree(devstack, root / "opt/stack/devstack", symlinks=True)
    shutil.copy(local_conf, root / "opt/stack/devstack/local.conf")
    shutil.copy(HERE / "devstack-node.sh", root / "opt/stack/devstack/replay-node.sh")
    neutron = root / "opt/stack/neutron"  # Neutron's etc/ + its generated samples, empty
    shutil.copytree(neutron_tree / "etc", neutron / "etc")
    for generator in sorted((neutron_tree / "etc/oslo-config-generator").iterdir()):
        for line in generator.read_text().splitlines():
            if line.startswith("output_file"):
                sample = neutron / line.split("=", 1)[1].strip()
                sample.parent.mkdir(parents=True, exist_ok=True)
                sample.write_text("")
    (neutron / "tools").mkdir()
    (neutron / "tools/generate_config_file_samples.sh").write_text("#!/bin/sh\nexit 0\n")
    (neutron / "tools/generate_config_file_samples.sh").chmod(0o755)
    sudo = root / "opt/stubs/sudo"  # root already: drop sudo's options; stubs win
    sudo.write_text(
        "#!/bin/bash\nwhile [[ $1 == -* ]]; do case $1 in -u|-g) shift 2;; "
        '*) shift;; esac; done\n[ -x "/opt/stubs/${1##*/}" ] && exec "/opt/stubs/${1##*/}"\n'
        'exec "$@"\n'
    )
    sudo.chmod(0o755)
    # `ip` answers as a host with one interface (documentation address) and changes nothing:
    # DevStack finds HOST_IP with it when local.conf does not set one.
    (root / "opt/stubs/ip").write_text(IP_STUB)
    (root / "opt/stubs/ip").chmod(0o755)
    for stub in STUBS:
        (root / "opt/stubs" / stub).write_text("#!/bin/sh\nexit 0\n")
        (root / "opt/stubs" / stub).chmod(0o755)


def replay_node(devstack: Path, neutron_tree: Path, local_conf: Path) -> dict[str, Any]:
    """Run DevStack's configuration for one local.conf; the env it settled on and its files."""
    with tempfile.TemporaryDirectory(prefix="dvr-replay-") as tmp:
        root = Path(tmp) / "root"
        _chroot(root, devstack, neutron_tree, local_conf)
        script = (
            f"set -e; R={root}; mount --rbind /usr $R/usr; mount --rbind /dev $R/dev; "
            "mount -t proc proc $R/proc 2>/dev/null || mount --rbind /proc $R/proc; "
            "[ -d /etc/alternatives ] && mkdir -p $R/etc/alternatives && "
            "mount --bind /etc/alternatives $R/etc/alternatives; "
            "exec chroot $R /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin "
            "TERM=dumb LANG=C.UTF-8 " + PASSWORDS + " /bin/bash /opt/stack/devstack/replay-node.sh"
        )
        done = subprocess.run(  # noqa: S603 - fixed argv, scratch root
            ["unshare", "-m", "--propagation", "private", "bash", "-c", script],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        out = root / "replay-out"
        stage, _, code = (
            (out / "rc").read_text().strip() if (out / "rc").exists() else "chroot 1"
        ).rpartition(" ")
        env = (
            dict(
                line.split("=", 1) for line in (out / "env").read_text().splitlines() if "=" in line
            )
            if (out / "env").exists()
            else {}
        )
        result: dict[str, Any] = {
            "stage": stage,
            "exit": int(code or 0),
            "env": env,
            "sha256": hashlib.sha256(local_conf.read_bytes()).hexdigest(),
        }
        if stage != "done":
            if stage != "ovn":
                result["stderr_tail"] = done.stderr.strip().splitlines()[-8:]
            return result
        services = set(env["ENABLED_SERVICES"].split(","))
        result["processes"] = {}
        for process, (names, file_vars) in PROCESSES.items():
            if not services & set(names):
                continue
            paths = [("/" if v.startswith("/") else "") + env[v.lstrip("/")] for v in file_vars]
            real = [
                root / p.lstrip("/") if p.startswith("/") else root / "opt/stack/devstack" / p
                for p in paths
            ]
            loaded = load(process, [p for p in real if p.exists()])
            loaded["files"] = paths
            loaded["missing"] = [p for p, r in zip(paths, real, strict=True) if not r.exists()]
            result["processes"][process] = loaded
        return result


def judge(nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """ML2/OVS DVR or not, from what DevStack wrote and Neutron reads; reasons when not."""
    problems: list[str] = []
    server_names = set(PROCESSES["server"][0])
    servers = [
        n
        for n, r in sorted(nodes.items())
        if server_names & set(r["env"].get("ENABLED_SERVICES", "").split(","))
    ]
    for name, r in sorted(nodes.items()):
        if r["stage"] == "ovn":
            problems.append(f"{name}: Q_AGENT=ovn (ML2/OVN), not ML2/OVS")
            continue
        if r["stage"] != "done":
            problems.append(f"{name}: DevStack stops in {r['stage']} (exit {r['exit']})")
            continue
        for process, p in r["processes"].items():
            problems += [f"{name} {process}: Neutron refuses {x}" for x in p["refused"]]
        if r["env"].get("Q_AGENT") != "openvswitch" and r["processes"]:
            problems.append(f"{name}: Q_AGENT={r['env'].get('Q_AGENT')}, not ML2/OVS")
        agent = r["processes"].get("ovs-agent")
        l3 = r["processes"].get("l3-agent")
        computes = "n-cpu" in r["env"]["ENABLED_SERVICES"].split(",")
        if computes and not (agent and l3):
            problems.append(f"{name}: compute without the OVS agent and the L3 agent")
        if agent:
            v = agent["values"]
            if v["agent.enable_distributed_routing"] is not True:
                problems.append(f"{name}: OVS agent enable_distributed_routing is not True")
            if "vxlan" not in (v["agent.tunnel_types"] or []):
                problems.append(f"{name}: OVS agent has no vxlan tunnel type")
            if (
                v["agent.enable_distributed_routing"]
                and v["agent.tunnel_types"]
                and not v["agent.l2_population"]
            ):
                problems.append(f"{name}: the OVS agent refuses DVR tunnels without l2_population")
        if l3 and l3["values"]["DEFAULT.agent_mode"] not in DVR_MODES:
            problems.append(f"{name}: L3 agent_mode {l3['values']['DEFAULT.agent_mode']}")
    if len(servers) != 1:
        problems.append(f"{len(servers)} Neutron servers")
    for name in servers:
        if "processes" not in nodes[name]:
            continue
        v = nodes[name]["processes"]["server"]["values"]
        drivers = v["ml2.mechanism_drivers"] or []
        for needed in ("openvswitch", "l2population"):
            if needed not in drivers:
                problems.append(f"{name}: server mechanism_drivers lack {needed}")
        if "vxlan" not in (v["ml2.type_drivers"] or []):
            problems.append(f"{name}: server type_drivers lack vxlan")
        if v["DEFAULT.router_distributed"] is not True:
            problems.append(f"{name}: router_distributed is not True (routers not distributed)")
    snat = [
        n
        for n, r in nodes.items()
        if r.get("processes", {}).get("l3-agent", {}).get("values", {}).get("DEFAULT.agent_mode")
        == "dvr_snat"
    ]
    if not snat and all(r["stage"] == "done" for r in nodes.values()):
        problems.append("no dvr_snat L3 agent")
    return {"dvr": not problems, "problems": problems}


def _write(directory: Path, nodes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    verdict = judge(nodes)
    (directory / "replay.json").write_text(
        json.dumps(
            {
                "devstack": DEVSTACK_COMMIT,
                "neutron": NEUTRON_COMMIT,
                "verdict": verdict,
                "nodes": nodes,
            },
            indent=1,
            sort_keys=True,
            default=str,
        )
        + "\n"
    )
    return verdict


def main(argv: list[str]) -> int:
    """Corpus (INDEX.yaml, optional entry ids) or plain directories of local.conf files."""
    devstack, neutron = (Path(a).resolve() for a in argv[:2])
    sys.path.insert(0, str(neutron))
    import yaml  # noqa: PLC0415

    targets = [Path(a).resolve() for a in argv[2:3]]
    if (targets[0] / "INDEX.yaml").exists():
        entries = yaml.safe_load((targets[0] / "INDEX.yaml").read_text())["entries"]
        wanted = set(argv[3:])
        jobs = {
            targets[0] / e["id"]: [targets[0] / e["id"] / f for f in e["files"]]
            for e in entries
            if not wanted or e["id"] in wanted
        }
    else:  # X.local.conf files, or a plan directory (<node>/local.conf)
        jobs = {}
        for directory in (Path(a).resolve() for a in argv[2:]):
            jobs[directory] = sorted(directory.glob("*.local.conf")) + sorted(
                directory.glob("*/local.conf")
            )
    for directory, files in jobs.items():
        nodes = {
            (
                f.name.removesuffix(".local.conf") if f.name != "local.conf" else f.parent.name
            ): replay_node(devstack, neutron, f)
            for f in files
        }
        verdict = _write(directory, nodes)
        print(directory.name, "DVR" if verdict["dvr"] else "not DVR", verdict["problems"][:3])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
