# shellcheck shell=bash
# coe-provider shared bootstrap library, installed as /usr/local/lib/coe/common.sh and sourced
# by every driver's bootstrap script. It only defines functions: no shell options are changed
# and nothing runs on source. Every function is safe under `set -euo pipefail`.

COE_LOG_FILE="${COE_LOG_FILE:-/var/log/coe-bootstrap.log}"
COE_PROXY_VARS=(HTTP_PROXY HTTPS_PROXY NO_PROXY)
# The locks apt and dpkg take (fcntl locks): dpkg's frontend and database, apt's package lists
# (apt-get update takes that one without waiting) and its download cache.
COE_APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock
    /var/cache/apt/archives/lock)
COE_APT_LOCK_WAIT="${COE_APT_LOCK_WAIT:-900}"

# coe_log MSG...: print a timestamped line to stderr and append it to $COE_LOG_FILE.
coe_log() {
    local line
    line="$(date -u '+%Y-%m-%dT%H:%M:%SZ') coe-bootstrap[$$]: $*"
    printf '%s\n' "${line}" >&2
    { printf '%s\n' "${line}" >>"${COE_LOG_FILE}"; } 2>/dev/null || true
}

# coe_retry MAX_TRIES DELAY_SECONDS CMD...: run CMD until it succeeds; non-zero after MAX_TRIES.
coe_retry() {
    local max="$1" delay="$2" try=1
    shift 2
    while true; do
        if "$@"; then
            return 0
        fi
        if ((try >= max)); then
            coe_log "giving up after ${try} tries: $1"
            return 1
        fi
        coe_log "try ${try}/${max} failed: $1; retrying in ${delay}s"
        try=$((try + 1))
        sleep "${delay}"
    done
}

# _coe_proxy_set: succeed when at least one of the proxy variables is non-empty.
_coe_proxy_set() {
    local name
    for name in "${COE_PROXY_VARS[@]}"; do
        if [[ -n "${!name:-}" ]]; then
            return 0
        fi
    done
    return 1
}

# _coe_systemd_escape VALUE: escape a value for a quoted systemd Environment= assignment.
_coe_systemd_escape() {
    local value="$1"
    value="${value//\\/\\\\}"
    value="${value//\"/\\\"}"
    printf '%s' "${value//%/%%}"
}

# _coe_apt_direct_hosts: apt reads no NO_PROXY; each host name or address in it (an APT mirror
# inside the cloud, say) gets apt's per-host "DIRECT" instead. Domains (.example.com) and CIDRs have
# no apt equivalent and are left to the proxy.
_coe_apt_direct_hosts() {
    local entry scheme
    local -a entries
    IFS=',' read -r -a entries <<<"${NO_PROXY:-}"
    for entry in "${entries[@]}"; do
        entry="${entry// /}"
        [[ "${entry}" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || continue
        for scheme in http https; do
            printf 'Acquire::%s::Proxy::%s "DIRECT";\n' "${scheme}" "${entry}"
        done
    done
}

# coe_apply_proxy UNIT...: persist HTTP(S)_PROXY/NO_PROXY for login shells, apt and the units.
coe_apply_proxy() {
    local name value lower unit dropin tmp
    if ! _coe_proxy_set; then
        coe_log "proxy: none configured"
        return 0
    fi
    coe_log "proxy: configured; writing /etc/environment, apt and units: ${*:-none}"
    tmp="$(mktemp)"
    grep -viE '^(HTTPS?_PROXY|NO_PROXY)=' /etc/environment >"${tmp}" 2>/dev/null || true
    for name in "${COE_PROXY_VARS[@]}"; do
        value="${!name:-}"
        [[ -n "${value}" ]] || continue
        lower="${name,,}"
        export "${name}=${value}" "${lower}=${value}"
        printf '%s="%s"\n%s="%s"\n' "${name}" "${value}" "${lower}" "${value}" >>"${tmp}"
    done
    cat "${tmp}" >/etc/environment
    rm -f "${tmp}"

    mkdir -p /etc/apt/apt.conf.d
    {
        if [[ -n "${HTTP_PROXY:-}" ]]; then
            printf 'Acquire::http::Proxy "%s";\n' "${HTTP_PROXY}"
        fi
        if [[ -n "${HTTPS_PROXY:-}" ]]; then
            printf 'Acquire::https::Proxy "%s";\n' "${HTTPS_PROXY}"
        fi
        _coe_apt_direct_hosts
    } >/etc/apt/apt.conf.d/95coe-proxy
    chmod 0600 /etc/apt/apt.conf.d/95coe-proxy

    for unit in "$@"; do
        dropin="/etc/systemd/system/${unit%.service}.service.d"
        mkdir -p "${dropin}"
        {
            printf '[Service]\n'
            for name in "${COE_PROXY_VARS[@]}"; do
                value="${!name:-}"
                [[ -n "${value}" ]] || continue
                lower="${name,,}"
                printf 'Environment="%s=%s"\n' "${name}" "$(_coe_systemd_escape "${value}")"
                printf 'Environment="%s=%s"\n' "${lower}" "$(_coe_systemd_escape "${value}")"
            done
        } >"${dropin}/http-proxy.conf"
        chmod 0600 "${dropin}/http-proxy.conf"
    done
    systemctl daemon-reload
}

# _coe_lock_held FILE: succeed while a process holds an fcntl lock on FILE. /proc/locks names
# each locked file as MAJOR:MINOR:INODE; the inode alone is matched (a rare match on another
# device only makes coe_wait_apt_locks wait longer).
_coe_lock_held() {
    local inode
    inode="$(stat -c %i "$1" 2>/dev/null)" || return 1
    awk -v inode="${inode}" '{
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^[0-9a-f]+:[0-9a-f]+:[0-9]+$/) { split($i, id, ":"); if (id[3] == inode) found = 1 }
        }
    } END { exit !found }' /proc/locks 2>/dev/null
}

# coe_wait_apt_locks: wait until no process holds apt's or dpkg's locks (unattended-upgrades,
# apt-daily at first boot), at most COE_APT_LOCK_WAIT seconds; then let apt try anyway.
coe_wait_apt_locks() {
    local lock busy waited=0
    while true; do
        busy=""
        for lock in "${COE_APT_LOCKS[@]}"; do
            if _coe_lock_held "${lock}"; then
                busy="${lock}"
                break
            fi
        done
        [[ -n "${busy}" ]] || return 0
        if ((waited >= COE_APT_LOCK_WAIT)); then
            coe_log "apt: ${busy} is still locked after ${waited}s; trying anyway"
            return 0
        fi
        if ((waited % 60 == 0)); then
            coe_log "apt: waiting for ${busy}, held by another apt or dpkg (unattended-upgrades?)"
        fi
        sleep 5
        waited=$((waited + 5))
    done
}

# _coe_apt_install_once PKG...: one apt-get update + install attempt, after apt's locks are
# free; install waits for the dpkg lock itself too (update has no such option for its lock).
_coe_apt_install_once() {
    coe_wait_apt_locks &&
        apt-get -q -o DPkg::Lock::Timeout=300 update &&
        apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
            -o Dpkg::Options::=--force-confold install "$@"
}

# _coe_apt_installed PKG[=VERSION]...: succeed when every package is installed (at VERSION when
# one is given), so that images with the packages baked in need no archive at all.
_coe_apt_installed() {
    local spec name want have
    for spec in "$@"; do
        name="${spec%%=*}"
        want=""
        [[ "${spec}" != *=* ]] || want="${spec#*=}"
        have="$(dpkg-query -W -f='${db:Status-Status} ${Version}' "${name}" 2>/dev/null)" ||
            return 1
        [[ "${have}" == "installed "* ]] || return 1
        # VERSION may be a pattern (kubelet=1.31.2-*), as apt-get accepts.
        # shellcheck disable=SC2053
        [[ -z "${want}" || "${have#installed }" == ${want} ]] || return 1
    done
}

# coe_apt_install PKG[=VERSION]...: install packages non-interactively, retried while mirrors
# flap; nothing is fetched when the image has them all already.
coe_apt_install() {
    if _coe_apt_installed "$@"; then
        coe_log "apt: already installed: $*"
        return 0
    fi
    coe_log "apt: installing $*"
    # needrestart (Ubuntu 22.04+) must not prompt either.
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 coe_retry 10 15 _coe_apt_install_once "$@"
}

# _coe_apt_hold_once PKG...: one apt-mark hold attempt, after apt's locks are free.
_coe_apt_hold_once() {
    coe_wait_apt_locks && apt-mark hold "$@" >/dev/null
}

# coe_apt_hold PKG...: hold installed packages, so that unattended upgrades neither upgrade nor
# restart them; a deliberate upgrade unholds them (apt-mark unhold) or replaces the node.
coe_apt_hold() {
    coe_retry 10 15 _coe_apt_hold_once "$@" || return 1
    coe_log "apt: held $*"
}

# coe_apt_install_pinned PKG VERSION [PKG...]: install PKG[=VERSION] and the others; PKG, the
# node's engine, is held whether pinned or not, so that it keeps the version it was built with.
coe_apt_install_pinned() {
    local pkg="$1" version="$2"
    shift 2
    coe_apt_install "${pkg}${version:+=${version}}" "$@"
    coe_apt_hold "${pkg}"
}

# _coe_wait_device PATH: wait up to 5 minutes for a block device path to exist.
_coe_wait_device() {
    local path="$1" waited=0
    until [[ -b "${path}" ]]; do
        if ((waited >= 300)); then
            coe_log "device ${path} did not appear within 300s"
            return 1
        fi
        sleep 5
        waited=$((waited + 5))
    done
}

# _coe_format_and_mount DEVICE MOUNTPOINT: mkfs.ext4 if blank, add a UUID fstab entry, mount.
_coe_format_and_mount() {
    local dev="$1" mnt="$2" probe uuid fstype entry tmp
    dev="$(readlink -f "${dev}")"
    probe="$(blkid -p -o export "${dev}" 2>/dev/null || true)"
    if [[ -z "${probe}" ]]; then
        coe_log "formatting ${dev} as ext4 for ${mnt}"
        mkfs.ext4 -q -F "${dev}"
    elif ! grep -q '^TYPE=' <<<"${probe}"; then
        coe_log "${dev} has a partition table but no filesystem; refusing to format it"
        return 1
    fi
    if command -v udevadm >/dev/null; then
        udevadm settle || true
    fi
    uuid="$(blkid -p -o value -s UUID "${dev}" || true)"
    fstype="$(blkid -p -o value -s TYPE "${dev}" || true)"
    if [[ -z "${uuid}" || -z "${fstype}" ]]; then
        coe_log "no filesystem UUID/type on ${dev}"
        return 1
    fi
    # A volume that already holds a filesystem (re-used) keeps its type.
    entry="UUID=${uuid} ${mnt} ${fstype} defaults,nofail 0 2"
    if ! grep -qxF "${entry}" /etc/fstab 2>/dev/null; then
        # Drop a stale entry for the same mountpoint (e.g. a replaced volume), then add ours.
        tmp="$(mktemp)"
        awk -v mnt="${mnt}" '$1 ~ /^#/ || $2 != mnt' /etc/fstab >"${tmp}" 2>/dev/null || true
        printf '%s\n' "${entry}" >>"${tmp}"
        cat "${tmp}" >/etc/fstab
        rm -f "${tmp}"
        if command -v systemctl >/dev/null; then
            systemctl daemon-reload || true
        fi
    fi
    mkdir -p "${mnt}"
    if ! mountpoint -q "${mnt}"; then
        mount "${mnt}"
    fi
    coe_log "mounted ${dev} (UUID ${uuid}) on ${mnt}"
}

# coe_mount_volume_by_id VOLUME_ID MOUNTPOINT: format (if blank) and mount a Cinder volume.
coe_mount_volume_by_id() {
    local id="$1" mnt="$2" dev
    dev="/dev/disk/by-id/virtio-${id:0:20}"
    coe_log "waiting for volume ${id} at ${dev}"
    _coe_wait_device "${dev}" || return 1
    _coe_format_and_mount "${dev}" "${mnt}"
}

# _coe_root_disk: print the name of the disk holding / (e.g. vda), empty if unknown.
_coe_root_disk() {
    local src
    src="$(findmnt -nvo SOURCE / 2>/dev/null || true)"
    [[ -b "${src}" ]] || return 0
    lsblk -ndo PKNAME "${src}" 2>/dev/null || true
}

# _coe_blank_disks SIZE_GIB: print /dev paths of unused, unpartitioned disks of exactly SIZE_GIB.
_coe_blank_disks() {
    local bytes=$(($1 * 1073741824)) root name size type
    root="$(_coe_root_disk)"
    while read -r name size type; do
        [[ "${type}" == disk && "${size}" == "${bytes}" && "${name}" != "${root}" ]] || continue
        # One line means the disk has no partitions or holders (LVM, dm-crypt).
        [[ "$(lsblk -nro NAME "/dev/${name}" | wc -l)" -eq 1 ]] || continue
        [[ -z "$(lsblk -ndo MOUNTPOINT "/dev/${name}")" ]] || continue
        [[ -z "$(blkid -p -o export "/dev/${name}" 2>/dev/null || true)" ]] || continue
        printf '/dev/%s\n' "${name}"
    done < <(lsblk -dnbo NAME,SIZE,TYPE)
}

# coe_mount_blank_disk SIZE_GIB MOUNTPOINT: find the one blank disk of that size, format, mount.
coe_mount_blank_disk() {
    local gib="$1" mnt="$2" waited=0 disks=()
    if [[ ! "${gib}" =~ ^[1-9][0-9]*$ ]]; then
        coe_log "invalid disk size '${gib}' GiB"
        return 1
    fi
    if mountpoint -q "${mnt}"; then
        coe_log "${mnt} is already mounted"
        return 0
    fi
    # A re-run after a reboot: the disk is formatted already and known to fstab.
    if awk -v mnt="${mnt}" '$1 !~ /^#/ && $2 == mnt { found = 1 } END { exit !found }' \
        /etc/fstab 2>/dev/null && mkdir -p "${mnt}" && mount "${mnt}" 2>/dev/null; then
        coe_log "mounted ${mnt} from its fstab entry"
        return 0
    fi
    coe_log "waiting for a blank ${gib} GiB disk for ${mnt}"
    while true; do
        mapfile -t disks < <(_coe_blank_disks "${gib}")
        if ((${#disks[@]} == 1)); then
            break
        elif ((${#disks[@]} > 1)); then
            coe_log "ambiguous: several blank ${gib} GiB disks: ${disks[*]}"
            return 1
        elif ((waited >= 300)); then
            coe_log "no blank ${gib} GiB disk appeared within 300s"
            return 1
        fi
        sleep 5
        waited=$((waited + 5))
    done
    _coe_format_and_mount "${disks[0]}" "${mnt}"
}

# coe_mount_volumes STATE_DIR DATA_DIR: a master's state volume (COE_ETCD_VOLUME_ID) on
# STATE_DIR, formatted first so it is no blank-disk candidate, and the data disk on DATA_DIR.
coe_mount_volumes() {
    local state="$1" data="$2" id="" gib="${COE_DATA_VOLUME_GIB:-0}"
    [[ "${COE_ROLE:-}" != master ]] || id="${COE_ETCD_VOLUME_ID:-}"
    if [[ -n "${id}" ]] && ! mountpoint -q "${data}"; then
        coe_mount_volume_by_id "${id}" "${state}"
        if [[ "${gib}" != 0 && "${state}" == "${data}"/* ]]; then
            umount "${state}" # mounted again on top of the data disk
        fi
    fi
    if [[ "${gib}" != 0 ]]; then
        coe_mount_blank_disk "${gib}" "${data}"
    fi
    if [[ -n "${id}" ]]; then
        mountpoint -q "${state}" || coe_mount_volume_by_id "${id}" "${state}"
        # mkfs leaves lost+found; etcd (kubeadm's preflight) wants an empty directory.
        rmdir "${state}/lost+found" 2>/dev/null || true
    fi
}

# coe_wait_tcp HOST PORT TIMEOUT_SECONDS: wait until HOST:PORT accepts TCP connections.
coe_wait_tcp() {
    local host="$1" port="$2" limit="$3" deadline
    # host and port go into a `bash -c` string: allow only hostname / IP address characters.
    if [[ ! "${host}" =~ ^[A-Za-z0-9.:_-]+$ || ! "${port}" =~ ^[0-9]+$ ||
        ! "${limit}" =~ ^[0-9]+$ ]]; then
        coe_log "coe_wait_tcp: invalid arguments '${host}' '${port}' '${limit}'"
        return 1
    fi
    deadline=$((SECONDS + limit))
    coe_log "waiting up to ${limit}s for ${host}:${port}"
    until timeout 3 bash -c "exec 3<>/dev/tcp/${host}/${port}" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            coe_log "${host}:${port} not reachable after ${limit}s"
            return 1
        fi
        sleep 2
    done
    coe_log "${host}:${port} is reachable"
}

# coe_die MSG...: log MSG as an error and end the bootstrap with status 1.
coe_die() {
    coe_log "ERROR: $*"
    exit 1
}

# coe_require NAME...: end the bootstrap unless every named variable is non-empty.
coe_require() {
    local name missing=()
    for name in "$@"; do
        [[ -n "${!name:-}" ]] || missing+=("${name}")
    done
    ((${#missing[@]} == 0)) || coe_die "missing settings: ${missing[*]}"
}

# coe_require_files FILE...: end the bootstrap at the first FILE that is missing or empty.
coe_require_files() {
    local file
    for file in "$@"; do
        [[ -s "${file}" ]] || coe_die "${file} is missing"
    done
}

# coe_check_role: end the bootstrap unless COE_ROLE is master or worker (master on the first).
coe_check_role() {
    [[ "${COE_ROLE:-}" =~ ^(master|worker)$ ]] || coe_die "bad COE_ROLE '${COE_ROLE:-}'"
    [[ "${COE_FIRST_MASTER:-}" != true || "${COE_ROLE}" == master ]] ||
        coe_die "first master must be a master"
}

# coe_load_env: source /etc/coe/node.env and /etc/coe/driver.env (COE_ENV_DIR overrides the
# directory); their variables become globals of the calling script.
coe_load_env() {
    local dir="${COE_ENV_DIR:-/etc/coe}"
    # shellcheck source=/dev/null
    source "${dir}/node.env"
    # shellcheck source=/dev/null
    source "${dir}/driver.env"
}

# coe_trap_errors: log the failing function, line and command of any unhandled error.
coe_trap_errors() {
    trap 'coe_log "bootstrap FAILED (exit $?) in ${FUNCNAME[0]:-main}, line ${LINENO}: ${BASH_COMMAND}"' ERR
}

# coe_extend_no_proxy ENTRY...: when a proxy is set, append each non-empty ENTRY that is not
# listed yet to NO_PROXY, so that traffic to those hosts and networks bypasses the proxy.
coe_extend_no_proxy() {
    local entry
    _coe_proxy_set || return 0
    for entry in "$@"; do
        [[ -n "${entry}" ]] || continue
        case ",${NO_PROXY:-}," in
        *",${entry},"*) ;;
        *) NO_PROXY="${NO_PROXY:+${NO_PROXY},}${entry}" ;;
        esac
    done
}

# coe_log_start DETAIL...: log the start of this node's bootstrap (name, role, cluster), the
# driver's DETAIL and whether a proxy is set (never its value).
coe_log_start() {
    local proxy="unset"
    if [[ -n "${HTTP_PROXY:-}${HTTPS_PROXY:-}" ]]; then
        proxy="set"
    fi
    coe_log "bootstrap of ${COE_NODE_NAME:-?} (${COE_ROLE:-?}, cluster ${COE_CLUSTER:-?})" \
        "starting; $*; proxy ${proxy}"
}

# coe_mark_done: record and log a finished bootstrap (/var/lib/coe/bootstrap-done).
coe_mark_done() {
    mkdir -p /var/lib/coe
    touch /var/lib/coe/bootstrap-done
    coe_log "bootstrap of ${COE_NODE_NAME:-?} finished"
}
