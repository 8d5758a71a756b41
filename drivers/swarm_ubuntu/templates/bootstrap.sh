#!/bin/bash
# coe-bootstrap for the swarm_ubuntu driver: turns a fresh Ubuntu (or Debian) server into a
# Docker Swarm mode manager or worker. Installed as /usr/local/bin/coe-bootstrap and run once by
# cloud-init (runcmd); safe to re-run. Inputs: /etc/coe/node.env, /etc/coe/driver.env, the files
# under /etc/coe/swarm and, on managers, the Docker TLS material under /etc/docker/tls.
# See coe_provider/bootstrap/scripts/README.md and drivers/swarm_ubuntu/README.md.
set -Eeuo pipefail

# shellcheck source=SCRIPTDIR/../../../coe_provider/bootstrap/scripts/common.sh
source /usr/local/lib/coe/common.sh
coe_load_env
coe_trap_errors

readonly SWARM_DIR=/etc/coe/swarm
readonly DOCKER_ROOT=/var/lib/docker
readonly SWARM_STATE=/var/lib/docker/swarm
readonly DOCKER_CLI=/usr/bin/docker
readonly TLS_FILES=(/etc/docker/tls/ca.pem /etc/docker/tls/server-cert.pem
    /etc/docker/tls/server-key.pem)
readonly DOCKER_DROPIN=/etc/systemd/system/docker.service.d/coe-hosts.conf
readonly SUDOERS_RULE=/etc/sudoers.d/coe-join
readonly UNLOCK_KEY_FILE=/run/coe/swarm-unlock-key
readonly TOKEN_PATTERN='^SWMTKN-1-[0-9a-z]+-[0-9a-z]+$'
readonly SWARM_PORT=2377
readonly PRUNE_UNIT=coe-swarm-prune
readonly MTU_OPTION=com.docker.network.driver.mtu
readonly GATEWAY_BRIDGE=docker_gwbridge
# Engine packages held after install: unattended upgrades would upgrade and restart them on
# each node at its own time (containerd is docker.io's runtime).
readonly HELD_PACKAGES=(containerd)
readonly PRUNE_FILES=(/usr/local/sbin/coe-swarm-prune /etc/systemd/system/coe-swarm-prune.service
    /etc/systemd/system/coe-swarm-prune.timer)
MANAGERS=()
ADDR_POOLS=()

# is_manager: succeed on a manager (a master of the cluster).
is_manager() {
    [[ "${COE_ROLE}" == master ]]
}

# check_settings: fail early on missing or malformed settings and files.
check_settings() {
    local address
    coe_require COE_CLUSTER COE_ROLE COE_NODE_NAME COE_NODE_ADDRESS COE_FIRST_MASTER \
        SWARM_MANAGERS SWARM_JOIN_USER SWARM_ADDR_POOLS SWARM_DATA_PATH_PORT SWARM_AUTOLOCK
    coe_check_role
    read -r -a MANAGERS <<<"${SWARM_MANAGERS}"
    read -r -a ADDR_POOLS <<<"${SWARM_ADDR_POOLS}"
    for address in "${COE_NODE_ADDRESS}" "${MANAGERS[@]}"; do
        [[ "${address}" =~ ^[0-9A-Fa-f:.]+$ ]] || coe_die "bad address '${address}'"
    done
    [[ "${SWARM_DATA_PATH_PORT}" =~ ^[0-9]+$ ]] || coe_die "bad SWARM_DATA_PATH_PORT"
    [[ "${SWARM_ADDR_POOL_MASK:-}" =~ ^[0-9]*$ ]] || coe_die "bad SWARM_ADDR_POOL_MASK"
    [[ "${COE_NETWORK_MTU:-}" =~ ^[0-9]*$ ]] || coe_die "bad COE_NETWORK_MTU"
    local files=("${SWARM_DIR}/daemon.json" "${SWARM_DIR}/daemon-before-24.json")
    if [[ "${COE_FIRST_MASTER}" != true ]]; then
        files+=("${SWARM_DIR}/join_key" "${SWARM_DIR}/known_hosts")
    fi
    if is_manager; then
        files+=("${SWARM_DIR}/authorized_keys" "${SWARM_DIR}/sudoers" "${TLS_FILES[@]}"
            "${PRUNE_FILES[@]}")
    fi
    coe_require_files "${files[@]}"
}

# mount_volumes: container storage on /var/lib/docker and, on managers with a state volume,
# the swarm's Raft state on /var/lib/docker/swarm; both before docker is installed.
mount_volumes() {
    coe_mount_volumes "${SWARM_STATE}" "${DOCKER_ROOT}"
    if is_manager && [[ -n "${COE_ETCD_VOLUME_ID:-}" ]]; then
        chmod 0700 "${SWARM_STATE}"
    fi
}

# install_docker: docker.io from the distribution's archive, held with its runtime whether
# pinned or not. apparmor too: docker.io only recommends it, yet on a kernel with AppArmor
# enabled (Debian's and Ubuntu's) dockerd refuses to start any container without apparmor_parser.
install_docker() {
    local packages=(ca-certificates openssh-client apparmor)
    if is_manager; then
        packages+=(openssh-server sudo)
    fi
    coe_apt_install_pinned docker.io "${DOCKER_VERSION:-}" "${packages[@]}"
    coe_apt_hold "${HELD_PACKAGES[@]}"
    [[ -x "${DOCKER_CLI}" ]] || coe_die "${DOCKER_CLI} is missing; the join-token commands name it"
}

# write_docker_dropin: daemon.json names the daemon's hosts, and dockerd refuses to start when
# the unit's command line names one too; drop `-H fd://` from the packaged ExecStart (the
# dockerd path and other flags differ between Ubuntu and Debian, so they are kept as found).
write_docker_dropin() {
    local unit line command
    unit="$(systemctl show --property=FragmentPath --value docker.service)"
    [[ -f "${unit}" ]] || coe_die "docker.service has no unit file"
    line="$(grep -m1 '^ExecStart=.' "${unit}")" || coe_die "no ExecStart in ${unit}"
    command="${line// -H fd:\/\//}"
    [[ "${command}" != *" -H "* && "${command}" != *"--host"* ]] ||
        coe_die "cannot take the -H option out of '${line}'"
    mkdir -p "${DOCKER_DROPIN%/*}"
    printf '[Service]\nExecStart=\n%s\n' "${command}" >"${DOCKER_DROPIN}"
}

# docker_ready: succeed when the daemon answers on its local socket.
docker_ready() {
    "${DOCKER_CLI}" info >/dev/null 2>&1
}

# docker_major: the installed docker.io's major version (20 for 20.10.24+dfsg1-1).
docker_major() {
    local version
    version="$(dpkg-query -W -f='${Version}' docker.io 2>/dev/null)" || return 1
    [[ "${version}" =~ ^([0-9]+:)?([0-9]+)\. ]] || return 1
    printf '%s' "${BASH_REMATCH[2]}"
}

# daemon_file: the daemon.json this Docker takes: Docker before 24 refuses default-network-opts.
daemon_file() {
    local major
    major="$(docker_major)" || coe_die "cannot read the version of docker.io"
    if ((major >= 24)); then
        printf '%s' "${SWARM_DIR}/daemon.json"
    else
        printf '%s' "${SWARM_DIR}/daemon-before-24.json"
    fi
}

# configure_docker: install daemon.json (plus the unit drop-in on managers) and restart docker.
configure_docker() {
    local source
    source="$(daemon_file)"
    install -d -m 0755 /etc/docker
    install -m 0644 "${source}" /etc/docker/daemon.json
    coe_log "docker: ${source##*/} as /etc/docker/daemon.json"
    if is_manager; then
        write_docker_dropin
    fi
    systemctl daemon-reload
    systemctl enable docker.service
    systemctl restart docker.service
    coe_retry 30 2 docker_ready || coe_die "docker did not start"
}

# network_mtu NETWORK: the MTU option a docker network was created with (empty when none).
network_mtu() {
    "${DOCKER_CLI}" network inspect --format "{{index .Options \"${MTU_OPTION}\"}}" "$1" \
        2>/dev/null
}

# create_gateway_bridge: with a known network MTU, create docker_gwbridge (containers' way out
# of overlay networks) before init or join with the options Docker gives it and that MTU; Docker
# would create it at 1500 otherwise. Docker's docs describe this for a customised gwbridge.
create_gateway_bridge() {
    [[ -n "${COE_NETWORK_MTU:-}" ]] || return 0
    if "${DOCKER_CLI}" network inspect "${GATEWAY_BRIDGE}" >/dev/null 2>&1; then
        return 0
    fi
    "${DOCKER_CLI}" network create --driver bridge \
        --opt com.docker.network.bridge.name="${GATEWAY_BRIDGE}" \
        --opt com.docker.network.bridge.enable_icc=false \
        --opt com.docker.network.bridge.enable_ip_masquerade=true \
        --opt "${MTU_OPTION}=${COE_NETWORK_MTU}" "${GATEWAY_BRIDGE}" >/dev/null
    coe_log "created ${GATEWAY_BRIDGE} with MTU ${COE_NETWORK_MTU}"
}

# ingress_replaced: succeed once the routing mesh's network carries the network's MTU.
ingress_replaced() {
    [[ "$(network_mtu ingress)" == "${COE_NETWORK_MTU}" ]] && return 0
    # Removal asks for confirmation even without a terminal; it is answered here. A new
    # ingress can be created once the old one is gone, so both steps are retried together.
    if "${DOCKER_CLI}" network inspect ingress >/dev/null 2>&1; then
        printf 'y\n' | "${DOCKER_CLI}" network rm ingress >/dev/null 2>&1 || return 1
    fi
    "${DOCKER_CLI}" network create --driver overlay --ingress \
        --opt "${MTU_OPTION}=${COE_NETWORK_MTU}" ingress >/dev/null 2>&1 || return 1
    [[ "$(network_mtu ingress)" == "${COE_NETWORK_MTU}" ]]
}

# set_ingress_mtu: swarm init has no MTU option, so the first manager replaces the ingress
# network it made with one of the network's MTU (overlay networks subtract the VXLAN header
# themselves), while no service uses it yet.
set_ingress_mtu() {
    [[ -n "${COE_NETWORK_MTU:-}" ]] || return 0
    [[ "$(network_mtu ingress)" != "${COE_NETWORK_MTU}" ]] || return 0
    if [[ -n "$("${DOCKER_CLI}" service ls -q 2>/dev/null)" ]]; then
        coe_log "services exist already: the ingress network keeps its MTU"
        return 0
    fi
    coe_retry 12 5 ingress_replaced || coe_die "could not recreate the ingress network"
    coe_log "ingress network recreated with MTU ${COE_NETWORK_MTU}"
}

# serve_join_tokens: the coe-join user, its forced-command keys and its one sudoers rule.
serve_join_tokens() {
    local user="${SWARM_JOIN_USER}" home group
    if ! id -u "${user}" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/var/lib/${user}" --shell /bin/sh \
            --comment "coe-provider swarm join tokens" "${user}"
    fi
    # '*' matches no password, yet sshd does not take the account for locked (as with '!').
    usermod -p '*' "${user}"
    home="$(getent passwd "${user}" | cut -d: -f6)"
    group="$(id -gn "${user}")"
    install -d -m 0700 -o "${user}" -g "${group}" "${home}/.ssh"
    install -m 0600 -o "${user}" -g "${group}" "${SWARM_DIR}/authorized_keys" \
        "${home}/.ssh/authorized_keys"
    visudo -c -q -f "${SWARM_DIR}/sudoers" || coe_die "the join-token sudoers rule does not parse"
    install -m 0440 "${SWARM_DIR}/sudoers" "${SUDOERS_RULE}"
    coe_log "serving join tokens to the cluster as ${user}"
}

# swarm_state: this daemon's swarm state (inactive, pending, active, locked, error).
swarm_state() {
    "${DOCKER_CLI}" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown
}

# fetch_token MANAGER: print the join token that MANAGER's forced command gives our key.
fetch_token() {
    local token
    token="$(ssh -F /dev/null -n -T -i "${SWARM_DIR}/join_key" -o IdentitiesOnly=yes \
        -o BatchMode=yes -o StrictHostKeyChecking=yes \
        -o UserKnownHostsFile="${SWARM_DIR}/known_hosts" -o GlobalKnownHostsFile=/dev/null \
        -o ConnectTimeout=10 -o LogLevel=ERROR "${SWARM_JOIN_USER}@$1" 2>/dev/null)" || return 1
    [[ "${token}" =~ ${TOKEN_PATTERN} ]] || return 1
    printf '%s' "${token}"
}

# join_via MANAGER: fetch a token from MANAGER and join the swarm through it.
join_via() {
    local manager="$1" token
    token="$(fetch_token "${manager}")" || return 1
    "${DOCKER_CLI}" swarm join --token "${token}" --advertise-addr "${COE_NODE_ADDRESS}" \
        --listen-addr "${COE_NODE_ADDRESS}:${SWARM_PORT}" "${manager}:${SWARM_PORT}" >/dev/null
}

# try_join: one pass over the managers, first manager first; succeeds once joined.
try_join() {
    local manager
    case "$(swarm_state)" in
    active) return 0 ;;
    locked)
        coe_log "this node is in the swarm but locked: unlock it with docker swarm unlock"
        return 0
        ;;
    pending) return 1 ;;
    error) "${DOCKER_CLI}" swarm leave --force >/dev/null 2>&1 || true ;;
    esac
    for manager in "${MANAGERS[@]}"; do
        [[ "${manager}" != "${COE_NODE_ADDRESS}" ]] || continue
        join_via "${manager}" && return 0
        # Docker's join can time out and go on in the background (pending, then active):
        # asking another manager then only fails ("already part of a swarm").
        case "$(swarm_state)" in
        active) return 0 ;;
        pending)
            coe_log "the join through ${manager} goes on in the background"
            return 1
            ;;
        esac
    done
    return 1
}

# join_swarm: other managers and workers; retry until a manager hands out a token (1 hour).
join_swarm() {
    coe_log "joining the swarm as a ${COE_ROLE} through ${MANAGERS[*]}"
    coe_retry 360 10 try_join || coe_die "no manager let this node join"
    coe_log "this node is in the swarm ($(swarm_state))"
}

# keep_unlock_key: with autolock, leave the unlock key for root on tmpfs (gone at reboot).
keep_unlock_key() {
    install -d -m 0700 "${UNLOCK_KEY_FILE%/*}"
    (umask 077 && "${DOCKER_CLI}" swarm unlock-key -q >"${UNLOCK_KEY_FILE}")
    coe_log "autolock: unlock key in ${UNLOCK_KEY_FILE} until reboot; save it elsewhere"
}

# init_swarm: the first manager creates the swarm (once: a re-run finds it active).
init_swarm() {
    local args pool
    case "$(swarm_state)" in
    active | locked)
        coe_log "this node is in a swarm already"
        return 0
        ;;
    esac
    args=(--advertise-addr "${COE_NODE_ADDRESS}" --listen-addr "${COE_NODE_ADDRESS}:${SWARM_PORT}"
        --data-path-port "${SWARM_DATA_PATH_PORT}")
    for pool in "${ADDR_POOLS[@]}"; do
        args+=(--default-addr-pool "${pool}")
    done
    if [[ -n "${SWARM_ADDR_POOL_MASK:-}" ]]; then
        args+=(--default-addr-pool-mask-length "${SWARM_ADDR_POOL_MASK}")
    fi
    if [[ "${SWARM_AUTOLOCK}" == true ]]; then
        args+=(--autolock)
    fi
    coe_log "initialising the swarm on ${COE_NODE_ADDRESS} (pools ${ADDR_POOLS[*]})"
    # The output shows a join token (and the unlock key): keep it off the console log.
    "${DOCKER_CLI}" swarm init "${args[@]}" >/dev/null
    if [[ "${SWARM_AUTOLOCK}" == true ]]; then
        keep_unlock_key
    fi
}

# prune_unfinished_joins: run coe-swarm-prune once (a failure stops the bootstrap, so a
# broken prune shows at once), then every 30 s from its timer. Retried: right after init or
# join this node's own entry may not show its hostname yet, and the script refuses to act then.
prune_unfinished_joins() {
    coe_retry 30 5 systemctl start "${PRUNE_UNIT}.service" ||
        coe_die "${PRUNE_UNIT} failed: see journalctl -u ${PRUNE_UNIT}"
    systemctl enable --now "${PRUNE_UNIT}.timer"
    coe_log "removing swarm entries left by unfinished joins (${PRUNE_UNIT}.timer)"
}

# main: the whole bootstrap, in order.
main() {
    check_settings
    coe_log_start "docker.io ${DOCKER_VERSION:-from the distribution}"
    coe_extend_no_proxy localhost 127.0.0.1 "${COE_NODE_ADDRESS}" "${COE_API_HOST:-}" \
        "${MANAGERS[@]}"
    coe_apply_proxy docker containerd
    mount_volumes
    install_docker
    configure_docker
    if is_manager; then
        serve_join_tokens
    fi
    create_gateway_bridge
    if [[ "${COE_FIRST_MASTER}" == true ]]; then
        init_swarm
        set_ingress_mtu
    else
        join_swarm
    fi
    if is_manager; then
        prune_unfinished_joins
    fi
    coe_mark_done
}

main "$@"
