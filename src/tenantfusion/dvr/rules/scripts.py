"""Post-install script rule: R18 (idempotent steps)."""

from __future__ import annotations

from tenantfusion.dvr.localconf import ShellCommand
from tenantfusion.dvr.nodeconf import Src
from tenantfusion.dvr.rules.base import Deployment, Finding, rule


def _problem(cmd: ShellCommand) -> tuple[str, str] | None:
    """Why a command fails or misbehaves on a second run, and the idempotent form."""
    w = list(cmd.words)
    if w[:1] == ["ovs-vsctl"]:
        verbs = [a for a in w[1:] if not a.startswith("-")]
        if verbs[:1] in (["add-port"], ["add-br"]) and "--may-exist" not in w:
            return (
                f"'ovs-vsctl {verbs[0]}' fails on a re-run (already exists)",
                f"ovs-vsctl --may-exist {' '.join(verbs)}",
            )
        if verbs[:1] in (["del-port"], ["del-br"]) and "--if-exists" not in w:
            return (
                f"'ovs-vsctl {verbs[0]}' fails on a re-run (no such port/bridge)",
                f"ovs-vsctl --if-exists {' '.join(verbs)}",
            )
    if w[:1] == ["ip"] and len(w) >= 3:
        obj, verb = w[1], w[2]
        if obj in ("route", "r", "ro") and verb in ("add", "a"):
            return (
                "'ip route add' fails with 'File exists' when the route (or a connected "
                "route) exists",
                "ip route replace " + " ".join(w[3:]),
            )
        if obj in ("addr", "address", "a") and verb in ("add", "a"):
            return (
                "'ip addr add' fails with 'File exists' on a re-run",
                "ip addr replace " + " ".join(w[3:]),
            )
        if obj in ("link",) and verb == "add":
            return ("'ip link add' fails on a re-run", "check with 'ip link show NAME' first")
    if w[:1] == ["ifconfig"] and len(w) >= 3:
        return (
            "ifconfig (net-tools, often not installed) replaces the primary address and "
            "derives a classful netmask",
            f"ip addr replace {w[2]}/PREFIX dev {w[1]}",
        )
    if w[:1] == ["route"] and w[1:2] == ["add"]:
        return ("'route add' fails with 'File exists' on a re-run", "ip route replace ...")
    return None


@rule(
    "R18",
    title="Post-install steps are idempotent",
    source="devstack lib/neutron _move_neutron_addresses_route and start_l2_agent "
    "(ovs-vsctl --may-exist add-port, ip addr replace, ip route replace)",
)
def r18_idempotent(dep: Deployment) -> list[Finding]:
    out = []
    for node in dep.nodes:
        for cmd in node.post_install or []:
            if cmd.guarded:
                continue
            problem = _problem(cmd)
            if problem is not None:
                src = Src(node.post_install_file or "post-install.sh", cmd.line.number)
                out.append(
                    Finding.at(
                        "R18",
                        node.name,
                        src,
                        f"'{' '.join(cmd.words)}': {problem[0]}",
                        problem[1],
                        severity="warning",
                    )
                )
    return out
