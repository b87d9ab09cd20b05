#!/bin/bash
# Replay DevStack's own configuration code for one node's local.conf (run by replay.py inside a
# throw-away chroot: DevStack writes /etc/neutron there, nowhere else).
#
# Follows stack.sh at the pinned commit, in order: source functions and lib/stack;
# extract_localrc_section; source stackrc (which sources the localrc section); source the
# lib/ files stack.sh sources before configuring; initialize_database_backends; if neutron is
# enabled, configure_neutron; merge_config_group local.conf post-config;
# configure_neutron_after_post_config. Nothing is installed or started: commands that would
# touch the host (ovs-vsctl, systemctl, pip, ...) are no-op stubs first in PATH, and the
# oslo-config-generator samples DevStack copies are empty files (every line of a generated
# sample is a comment, so the effective values are the same). Q_AGENT=ovn stops after the
# variables (stage "ovn"): configure_ovn imports an installed Neutron.
# Output: $OUT/env (the variables DevStack settled on), $OUT/rc (0, or where DevStack died).
TOP_DIR=/opt/stack/devstack
OUT=/replay-out
cd "$TOP_DIR" || exit 3
export PATH=/opt/stubs:$PATH
stage=functions
function dump_env {
    echo "$stage $1" > $OUT/rc
    {
        for v in ENABLED_SERVICES Q_AGENT Q_DVR_MODE Q_PLUGIN Q_ML2_PLUGIN_MECHANISM_DRIVERS \
            Q_ML2_PLUGIN_TYPE_DRIVERS Q_ML2_TENANT_NETWORK_TYPE Q_PLUGIN_CONF_FILE \
            NEUTRON_CORE_PLUGIN_CONF NEUTRON_CONF Q_L3_CONF_FILE Q_DHCP_CONF_FILE Q_META_CONF_FILE \
            HOST_IP TUNNEL_ENDPOINT_IP PUBLIC_INTERFACE FLOATING_RANGE FIXED_RANGE \
            IPV4_ADDRS_SAFE_TO_USE Q_FLOATING_ALLOCATION_POOL PUBLIC_NETWORK_GATEWAY; do
            printf '%s=%s\n' "$v" "${!v-}"
        done
    } > $OUT/env
}
trap 'dump_env $?' EXIT
source $TOP_DIR/functions
source $TOP_DIR/lib/stack
GetDistro >/dev/null 2>&1 || true
stage=localrc
rm -f $TOP_DIR/.localrc.auto
extract_localrc_section $TOP_DIR/local.conf $TOP_DIR/localrc $TOP_DIR/.localrc.auto
stage=stackrc
source $TOP_DIR/stackrc
set -o errexit  # where stack.sh sets it (before sourcing lib/)
for lib in database rpc_backend host apache tls infra libraries keystone nova placement neutron; do
    stage="source lib/$lib"
    source $TOP_DIR/lib/$lib
done
if [[ $Q_AGENT == ovn ]] && is_service_enabled neutron; then
    stage=ovn  # configure_ovn imports an installed Neutron: not replayed (ML2/OVN, not OVS)
    exit 0
fi
stage=initialize_database_backends
initialize_database_backends >/dev/null 2>&1 || true
if is_service_enabled neutron; then
    stage=configure_neutron
    configure_neutron
fi
stage=post-config
merge_config_group $TOP_DIR/local.conf post-config
if is_service_enabled neutron; then
    stage=configure_neutron_after_post_config
    configure_neutron_after_post_config
fi
stage=done
exit 0
