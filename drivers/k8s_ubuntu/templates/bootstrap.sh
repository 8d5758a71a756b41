#!/bin/bash
# coe-bootstrap for the k8s_ubuntu driver: turns a fresh Ubuntu server into a Kubernetes node.
# Installed as /usr/local/bin/coe-bootstrap and run once by cloud-init (runcmd); safe to re-run.
# Inputs: /etc/coe/node.env, /etc/coe/driver.env and /etc/coe/kubeadm.yaml (never generated
# here), plus the cluster PKI and cloud-config on masters. See coe_provider/bootstrap/scripts.
set -Eeuo pipefail

# shellcheck source=SCRIPTDIR/../../../coe_provider/bootstrap/scripts/common.sh
source /usr/local/lib/coe/common.sh
coe_load_env
coe_trap_errors

readonly KUBEADM_CONFIG=/etc/coe/kubeadm.yaml
readonly PKI_DIR=/etc/kubernetes/pki
readonly PKI_SEED=/var/lib/coe/pki-seed
readonly MASTER_PKI=(ca.crt ca.key front-proxy-ca.crt front-proxy-ca.key sa.key sa.pub
    etcd/ca.crt etcd/ca.key)
readonly CCM_MANIFESTS=(cloud-controller-manager-roles.yaml
    cloud-controller-manager-role-bindings.yaml openstack-cloud-controller-manager-ds.yaml)
# csi-secret-cinderplugin.yaml is left out on purpose: it would replace our cloud-config secret.
readonly CSI_MANIFESTS=(cinder-csi-controllerplugin-rbac.yaml cinder-csi-controllerplugin.yaml
    cinder-csi-nodeplugin-rbac.yaml cinder-csi-nodeplugin.yaml csi-cinder-driver.yaml)

# check_settings: fail early on missing or malformed settings from the env files.
check_settings() {
    coe_require COE_CLUSTER COE_ROLE COE_NODE_NAME COE_FIRST_MASTER COE_API_HOST COE_API_PORT \
        KUBE_VERSION KUBE_MINOR CNI CNI_VERSION POD_CIDR SERVICE_CIDR SANDBOX_IMAGE \
        KUBE_APT_REPOSITORY CONTAINERD_CERTS_DIR
    coe_check_role
    if [[ "${CONTAINERD_VERSION:-}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        coe_require CONTAINERD_TARBALL_URL
    fi
    if [[ "${COE_ADDONS:-boot}" == boot && "${COE_FIRST_MASTER}" == true ]]; then
        coe_require CNI_MANIFEST_URL
        if [[ "${CLOUD_PROVIDER_ENABLED:-false}" == true ]]; then
            coe_require CLOUD_PROVIDER_MANIFESTS_URL
        fi
    fi
    [[ "${POD_CIDR}" =~ ^[0-9A-Fa-f:.]+/[0-9]+$ ]] || coe_die "bad POD_CIDR '${POD_CIDR}'"
    [[ "${COE_NETWORK_MTU:-}" =~ ^[0-9]*$ ]] || coe_die "bad COE_NETWORK_MTU"
    if [[ "${CLOUD_PROVIDER_ENABLED:-false}" == true && -z "${CLOUD_PROVIDER_VERSION:-}" ]]; then
        coe_die "CLOUD_PROVIDER_ENABLED=true needs CLOUD_PROVIDER_VERSION"
    fi
    [[ "${COE_ADDONS:-boot}" =~ ^(boot|program)$ ]] || coe_die "bad COE_ADDONS '${COE_ADDONS}'"
    if [[ "${COE_ADDONS:-boot}" == boot && "${CLOUD_PROVIDER_ENABLED:-false}" == true &&
        ! "${CLOUD_PROVIDER_CLUSTER_NAME:-}" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ ]]; then
        coe_die "CLOUD_PROVIDER_ENABLED=true needs CLOUD_PROVIDER_CLUSTER_NAME (a-z, 0-9, '-')"
    fi
    [[ -f "${KUBEADM_CONFIG}" ]] || coe_die "${KUBEADM_CONFIG} is missing"
}

# fetch URL DEST: download URL to DEST with curl, retried.
fetch() {
    coe_retry 10 10 curl -fsSL --connect-timeout 10 --max-time 300 -o "$2" "$1"
}

# setup_kernel: load and persist the modules and sysctls Kubernetes networking needs; no swap.
setup_kernel() {
    printf '%s\n' overlay br_netfilter >/etc/modules-load.d/coe-kubernetes.conf
    modprobe overlay
    modprobe br_netfilter
    printf '%s\n' 'net.bridge.bridge-nf-call-iptables = 1' \
        'net.bridge.bridge-nf-call-ip6tables = 1' 'net.ipv4.ip_forward = 1' \
        >/etc/sysctl.d/90-coe-kubernetes.conf
    sysctl -q -p /etc/sysctl.d/90-coe-kubernetes.conf
    swapoff -a
    sed -ri '/^[^#[:space:]]\S*\s+\S+\s+swap\s/s/^/#/' /etc/fstab
}

# install_tools: what the bootstrap itself uses, through apt here rather than cloud-init's
# packages module (which gives up on a lock after 30 s); cloud images ship them, so this
# usually fetches nothing.
install_tools() {
    coe_apt_install ca-certificates curl gpg
}

# containerd_config_edit SANDBOX_IMAGE CERTS_DIR: filter `containerd config default` (stdin)
# to stdout with the runc runtime on the systemd cgroup driver, kubeadm's sandbox image and the
# registry hosts directory (config_path: one hosts.toml per mirrored registry). The keys are
# written right under their table's header, and any earlier value in that table is
# dropped, for config version 2 (containerd 1.7) and 3 (2.x); a table the default lacks is
# appended. containerd 2.0 and 2.1 print no SystemdCgroup line at all, so no line is edited.
containerd_config_edit() {
    awk -v image="$1" -v certs="$2" '
    function bare(line) { gsub(/[[:space:]"\047]|\[|\]/, "", line); return line }
    function setting(line) { sub(/[[:space:]]*=.*/, "", line); sub(/^[[:space:]]*/, "", line); return line }
    { lines[++count] = $0 }
    /^[[:space:]]*\[/ { in_tables = 1 }
    !in_tables && /^[[:space:]]*version[[:space:]]*=/ {
        version = $0; sub(/.*=[[:space:]]*/, "", version); version += 0
    }
    END {
        if (version == 2) {
            runc = "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options"
            pause = "plugins.\"io.containerd.grpc.v1.cri\""; pause_key = "sandbox_image"
            registry = "plugins.\"io.containerd.grpc.v1.cri\".registry"
        } else if (version == 3) {
            runc = "plugins.\047io.containerd.cri.v1.runtime\047.containerd.runtimes.runc.options"
            pause = "plugins.\047io.containerd.cri.v1.images\047.pinned_images"; pause_key = "sandbox"
            registry = "plugins.\047io.containerd.cri.v1.images\047.registry"
        } else {
            print "containerd config version " version " is not 2 or 3" > "/dev/stderr"; exit 3
        }
        want[bare(runc)] = "SystemdCgroup = true"; wanted_key[bare(runc)] = "SystemdCgroup"
        want[bare(pause)] = pause_key " = \"" image "\""; wanted_key[bare(pause)] = pause_key
        want[bare(registry)] = "config_path = \"" certs "\""; wanted_key[bare(registry)] = "config_path"
        header[bare(runc)] = runc; header[bare(pause)] = pause; header[bare(registry)] = registry
        table = ""
        for (i = 1; i <= count; i++) {
            line = lines[i]
            if (line ~ /^[[:space:]]*\[/) {
                table = bare(line); print line
                if (table in want) {
                    indent = line; sub(/[^[:space:]].*/, "", indent)
                    print indent "  " want[table]; done[table] = 1
                }
                continue
            }
            if ((table in want) && setting(line) == wanted_key[table]) continue
            print line
        }
        for (t in want) if (!(t in done)) { print ""; print "[" header[t] "]"; print "  " want[t] }
    }'
}

# install_containerd_release: the containerd release tarball (CONTAINERD_TARBALL_URL, a mirror
# or containerd's GitHub release, with {arch} still to fill in), checked against CONTAINERD_TARBALL_SHA256 or the checksum
# file published next to it, into /usr/local; runc from the Ubuntu archive; a systemd unit.
install_containerd_release() {
    local arch url tarball sum
    coe_apt_install runc ca-certificates curl
    # runc runs every container: held like the engine, so unattended-upgrades leaves it be.
    coe_apt_hold runc
    if /usr/local/bin/containerd --version 2>/dev/null | grep -qF " v${CONTAINERD_VERSION} "; then
        coe_log "containerd ${CONTAINERD_VERSION} already installed"
    else
        arch="$(dpkg --print-architecture)"
        url="${CONTAINERD_TARBALL_URL//\{arch\}/${arch}}"
        tarball="$(mktemp --suffix=.tar.gz)"
        fetch "${url}" "${tarball}"
        sum="${CONTAINERD_TARBALL_SHA256:-}"
        if [[ -z "${sum}" ]]; then
            fetch "${url}.sha256sum" "${tarball}.sha256sum"
            sum="$(awk '{print $1; exit}' "${tarball}.sha256sum")"
            rm -f "${tarball}.sha256sum"
        fi
        printf '%s  %s\n' "${sum}" "${tarball}" | sha256sum --check --status ||
            coe_die "containerd tarball ${url} does not match sha256 ${sum}"
        tar -C /usr/local -xzf "${tarball}" bin
        rm -f "${tarball}"
        coe_log "installed containerd ${CONTAINERD_VERSION} from ${url}"
    fi
    cat >/etc/systemd/system/containerd.service <<'UNIT'
[Unit]
Description=containerd (coe-provider: release tarball in /usr/local)
After=network.target local-fs.target

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
# containerd manages its children's cgroups; stopping it leaves the shims and containers up.
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNOFILE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload
}

# install_containerd: containerd (a release, or Ubuntu's package when CONTAINERD_VERSION is an
# APT version, as earlier releases installed), with its configuration checked by containerd.
install_containerd() {
    local config=/etc/containerd/config.toml
    if [[ "${CONTAINERD_VERSION:-}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
        install_containerd_release
    else
        coe_apt_install_pinned containerd "${CONTAINERD_VERSION:-}" ca-certificates curl gpg
    fi
    mkdir -p /etc/containerd
    containerd config default |
        containerd_config_edit "${SANDBOX_IMAGE}" "${CONTAINERD_CERTS_DIR}" >"${config}.new" ||
        coe_die "could not write the containerd configuration"
    containerd --config "${config}.new" config dump >"${config}.dump" ||
        coe_die "containerd refuses ${config}.new"
    grep -Eq '^[[:space:]]*SystemdCgroup = true$' "${config}.dump" ||
        coe_die "containerd does not read SystemdCgroup = true from ${config}.new"
    grep -qF "${SANDBOX_IMAGE}" "${config}.dump" ||
        coe_die "containerd does not read the sandbox image ${SANDBOX_IMAGE} from ${config}.new"
    grep -qF "config_path = '${CONTAINERD_CERTS_DIR}'" "${config}.dump" ||
        grep -qF "config_path = \"${CONTAINERD_CERTS_DIR}\"" "${config}.dump" ||
        coe_die "containerd does not read config_path ${CONTAINERD_CERTS_DIR} from ${config}.new"
    rm -f "${config}.dump"
    mv "${config}.new" "${config}"
    printf 'runtime-endpoint: unix:///run/containerd/containerd.sock\n' >/etc/crictl.yaml
    systemctl enable containerd
    systemctl restart containerd
}

# install_kubernetes: KUBE_APT_REPOSITORY (pkgs.k8s.io's repository of KUBE_MINOR, or its
# mirror); kubelet/kubeadm/kubectl held.
install_kubernetes() {
    local repo="${KUBE_APT_REPOSITORY}"
    local keyring=/etc/apt/keyrings/kubernetes-apt-keyring.gpg key
    key="$(mktemp)"
    install -d -m 0755 /etc/apt/keyrings
    fetch "${repo}Release.key" "${key}"
    gpg --batch --yes --dearmor -o "${keyring}" "${key}"
    chmod 0644 "${keyring}"
    rm -f "${key}"
    printf 'deb [signed-by=%s] %s /\n' "${keyring}" "${repo}" \
        >/etc/apt/sources.list.d/kubernetes.list
    coe_apt_install "kubelet=${KUBE_VERSION}-*" "kubeadm=${KUBE_VERSION}-*" \
        "kubectl=${KUBE_VERSION}-*"
    coe_apt_hold kubelet kubeadm kubectl
    systemctl enable kubelet
}

# seed_pki: check the masters' shared PKI and keep a copy, since `kubeadm reset` deletes it.
seed_pki() {
    if [[ -d "${PKI_SEED}" ]]; then
        cp -a "${PKI_SEED}/." "${PKI_DIR}/"
    fi
    if [[ "${COE_ROLE}" == master ]]; then
        coe_require_files "${MASTER_PKI[@]/#/${PKI_DIR}/}"
    fi
    if [[ ! -d "${PKI_SEED}" && -d "${PKI_DIR}" ]]; then
        rm -rf "${PKI_SEED}.tmp"
        install -d -m 0700 "${PKI_SEED}.tmp"
        cp -a "${PKI_DIR}/." "${PKI_SEED}.tmp/"
        mv "${PKI_SEED}.tmp" "${PKI_SEED}"
    fi
}

# reset_node: undo a failed kubeadm init/join so that the next try starts clean (PKI restored).
reset_node() {
    kubeadm reset -f || coe_log "kubeadm reset failed; trying again anyway"
    if [[ -d "${PKI_SEED}" ]]; then
        cp -a "${PKI_SEED}/." "${PKI_DIR}" || coe_log "restoring ${PKI_DIR} failed"
    fi
}

# kubeadm_attempt init|join: one kubeadm run with our config; resets the node when it fails.
kubeadm_attempt() {
    kubeadm "$1" --config "${KUBEADM_CONFIG}" && return 0
    coe_log "kubeadm $1 failed; resetting the node before the next try"
    reset_node
    return 1
}

# kubectl_apply FILE: server-side apply of a manifest, retried (idempotent on re-runs).
kubectl_apply() {
    coe_retry 10 15 kubectl apply --server-side --force-conflicts -f "$1"
}

# set_cluster_identity FILE: the cloud resource tag as the cloud controller manager's
# --cluster-name and Cinder CSI's --cluster (never the shared default "kubernetes"), so every
# balancer name and every volume's metadata names this cluster; the cleanup on delete selects
# by it. A controller manager manifest without the flag gets it after the binary's line.
set_cluster_identity() {
    local manifest="$1" tag="${CLOUD_PROVIDER_CLUSTER_NAME}"
    sed -i -E -e "s#--cluster-name=[^\"[:space:]]*#--cluster-name=${tag}#" \
        -e "s#--cluster=[^\"[:space:]]*#--cluster=${tag}#" "${manifest}"
    if ! grep -q -- '--cluster-name=' "${manifest}"; then
        sed -i -E "s#^([[:space:]]*)- /bin/openstack-cloud-controller-manager\$#&\n\1- --cluster-name=${tag}#" \
            "${manifest}"
    fi
}

# apply_cloud_manifest DIR NAME: download a cloud-provider-openstack manifest, give the
# controllers that create cloud objects the cluster's identity (checked), and apply it.
apply_cloud_manifest() {
    local manifest flag=""
    manifest="$(mktemp --suffix=.yaml)"
    fetch "${CLOUD_PROVIDER_MANIFESTS_URL}/$1/$2" "${manifest}"
    case "$2" in
    openstack-cloud-controller-manager-ds.yaml) flag="--cluster-name" ;;
    cinder-csi-controllerplugin.yaml) flag="--cluster" ;;
    esac
    if [[ -n "${flag}" ]]; then
        set_cluster_identity "${manifest}"
        grep -qF -- "${flag}=${CLOUD_PROVIDER_CLUSTER_NAME}" "${manifest}" ||
            coe_die "$2: could not set ${flag} to the cloud resource tag"
    fi
    kubectl_apply "${manifest}"
    rm -f "${manifest}"
}

# set_cni_mtu MANIFEST: size the pod network to COE_NETWORK_MTU (left to the CNI's own
# detection when unknown). Calico's veth_mtu is the MTU of pod interfaces and tunnels, so it
# leaves room for the IP-in-IP header (20 bytes; its manifest's default pool uses IP-in-IP);
# flannel's VXLAN backend takes the network's MTU and subtracts its header itself.
set_cni_mtu() {
    local manifest="$1" mtu="${COE_NETWORK_MTU:-}"
    [[ -n "${mtu}" ]] || return 0
    case "${CNI}" in
    calico)
        sed -i -E 's/^([[:space:]]*veth_mtu: )"0"$/\1"'"$((mtu - 20))"'"/' "${manifest}"
        grep -qE "^[[:space:]]*veth_mtu: \"$((mtu - 20))\"$" "${manifest}" ||
            coe_die "calico: could not set veth_mtu"
        ;;
    flannel)
        sed -i -E 's/("Type": "vxlan")/\1, "MTU": '"${mtu}"'/' "${manifest}"
        grep -qF "\"MTU\": ${mtu}" "${manifest}" || coe_die "flannel: could not set the MTU"
        ;;
    esac
    coe_log "${CNI}: sized to the network MTU ${mtu}"
}

# apply_cni: the configured CNI with its pod network set to POD_CIDR.
apply_cni() {
    local manifest
    manifest="$(mktemp --suffix=.yaml)"
    case "${CNI}" in
    calico)
        fetch "${CNI_MANIFEST_URL}" "${manifest}"
        sed -i -e '/# - name: CALICO_IPV4POOL_CIDR/{s/# //;n;s|#   value: .*|  value: "'"${POD_CIDR}"'"|}' \
            "${manifest}"
        grep -q '^ *- name: CALICO_IPV4POOL_CIDR$' "${manifest}" || coe_die "calico: CIDR not set"
        ;;
    flannel)
        fetch "${CNI_MANIFEST_URL}" "${manifest}"
        sed -i -E 's|"Network": "[^"]*"|"Network": "'"${POD_CIDR}"'"|' "${manifest}"
        ;;
    *) coe_die "unsupported CNI '${CNI}'" ;;
    esac
    grep -qF "\"${POD_CIDR}\"" "${manifest}" || coe_die "${CNI}: could not set the pod CIDR"
    set_cni_mtu "${manifest}"
    coe_log "applying ${CNI} ${CNI_VERSION} (pod CIDR ${POD_CIDR})"
    kubectl_apply "${manifest}"
    rm -f "${manifest}"
}

# apply_cloud_secret: kube-system/cloud-config from the OpenStack cloud.conf (create or update).
apply_cloud_secret() {
    kubectl -n kube-system create secret generic cloud-config \
        --from-file=cloud.conf=/etc/kubernetes/cloud-config --dry-run=client -o yaml |
        kubectl apply --server-side --force-conflicts -f -
}

# deploy_cloud_provider: OpenStack cloud controller manager and Cinder CSI.
deploy_cloud_provider() {
    local name
    [[ -f /etc/kubernetes/cloud-config ]] || coe_die "/etc/kubernetes/cloud-config is missing"
    coe_log "deploying cloud-provider-openstack ${CLOUD_PROVIDER_VERSION}"
    coe_retry 10 15 apply_cloud_secret
    for name in "${CCM_MANIFESTS[@]}"; do
        apply_cloud_manifest controller-manager "${name}"
    done
    for name in "${CSI_MANIFESTS[@]}"; do
        apply_cloud_manifest cinder-csi-plugin "${name}"
    done
}

# init_cluster: first master; kubeadm init, then, on the boot-time path (COE_ADDONS=boot, the
# default), the cluster add-ons. With COE_ADDONS=program the program installs them as Helm
# releases once the API answers, and this node fetches no manifest.
init_cluster() {
    if [[ -f /etc/kubernetes/admin.conf ]]; then
        coe_log "admin.conf exists: cluster already initialised, skipping kubeadm init"
    else
        coe_retry 3 30 kubeadm_attempt init
    fi
    export KUBECONFIG=/etc/kubernetes/admin.conf
    coe_retry 120 5 kubectl get --raw=/readyz >/dev/null
    if [[ "${COE_ADDONS:-boot}" == program ]]; then
        coe_log "add-ons: installed by the program (Helm releases), none applied here"
        return 0
    fi
    apply_cni
    if [[ "${CLOUD_PROVIDER_ENABLED:-false}" == true ]]; then
        deploy_cloud_provider
    fi
}

# served_minor: the control plane's minor version ("1.36") from the API's /version, which
# kubeadm leaves readable without credentials; empty when it cannot be read.
served_minor() {
    curl -fsSk --connect-timeout 10 --max-time 20 \
        "https://${COE_API_HOST}:${COE_API_PORT}/version" 2>/dev/null |
        sed -nE 's/.*"gitVersion": *"v([0-9]+)\.([0-9]+)\..*/\1.\2/p' | head -n 1 || true
}

# check_version_skew: refuse to join a control plane of an older minor than KUBE_MINOR, since
# Kubernetes supports no kubelet newer than its API servers (kube_tag raised on a running
# cluster). A version that cannot be read does not block the join.
check_version_skew() {
    local served
    served="$(served_minor)"
    if [[ ! "${served}" =~ ^[0-9]+\.[0-9]+$ ]]; then
        coe_log "control plane version not readable; joining as kubernetes ${KUBE_VERSION}"
        return 0
    fi
    if ((${KUBE_MINOR%%.*} * 1000 + ${KUBE_MINOR#*.} > ${served%%.*} * 1000 + ${served#*.})); then
        coe_die "this node is kubernetes ${KUBE_VERSION} but the control plane serves" \
            "${served}: a kubelet newer than its API servers is not supported; set kube_tag" \
            "back to a ${served} release for this cluster (coe-provider does not upgrade" \
            "control planes)"
    fi
}

# etcd_voting_members ADDRESS DIR: the names of the started, voting members etcd at ADDRESS
# lists, one a line, asked through etcd's JSON gateway with the client certificate in DIR.
# The gateway leaves out false fields and the name of a member that has not started.
etcd_voting_members() {
    curl -fsS --connect-timeout 5 --max-time 10 --cacert "${PKI_DIR}/etcd/ca.crt" \
        --cert "$2/client.crt" --key "$2/client.key" -X POST -d '{}' \
        "https://$1:2379/v3/cluster/member/list" |
        python3 -c 'import json, sys
for member in json.load(sys.stdin).get("members", []):
    if member.get("name") and not member.get("isLearner"):
        print(member["name"])'
}

# etcd_client_certificate DIR: a one-day etcd client certificate in DIR, signed with the
# cluster's etcd CA, which every master holds; only the join wait uses it.
etcd_client_certificate() {
    printf 'extendedKeyUsage = clientAuth\n' >"$1/client.ext"
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=coe-join-wait" \
        -keyout "$1/client.key" -out "$1/client.csr" 2>/dev/null
    openssl x509 -req -in "$1/client.csr" -CA "${PKI_DIR}/etcd/ca.crt" \
        -CAkey "${PKI_DIR}/etcd/ca.key" -set_serial "0x$(openssl rand -hex 16)" -days 1 \
        -extfile "$1/client.ext" -out "$1/client.crt" 2>/dev/null
}

# wait_for_previous_master: a master joins only once the master before it
# (COE_PREVIOUS_MASTER at COE_PREVIOUS_MASTER_ADDRESS) is a voting etcd member, since etcd
# admits one learner at a time and concurrent joins fail with "too many learner members".
# The wait is bounded (JOIN_WAIT_SECONDS, 1800 s) and logged; past it the join goes ahead.
wait_for_previous_master() {
    local previous="${COE_PREVIOUS_MASTER:-}" address="${COE_PREVIOUS_MASTER_ADDRESS:-}"
    local limit="${JOIN_WAIT_SECONDS:-1800}" waited=0 dir members
    [[ "${COE_ROLE}" == master && -n "${previous}" && -n "${address}" ]] || return 0
    dir="$(mktemp -d)"
    etcd_client_certificate "${dir}" || coe_die "could not make an etcd client certificate"
    coe_log "waiting for ${previous} (${address}) to be a voting etcd member before joining"
    while true; do
        members="$(etcd_voting_members "${address}" "${dir}" 2>/dev/null || true)"
        grep -qxF "${previous}" <<<"${members}" && break
        if ((waited >= limit)); then
            coe_log "${previous} is not a voting etcd member after ${waited}s; joining anyway"
            rm -rf "${dir}"
            return 0
        fi
        if ((waited % 60 == 0)); then
            coe_log "${previous} is not a voting etcd member yet (${waited}s of ${limit}s)"
        fi
        sleep 10
        waited=$((waited + 10))
    done
    rm -rf "${dir}"
    coe_log "${previous} is a voting etcd member (after ${waited}s); joining"
}

# join_cluster: other masters and workers; wait for the API, then kubeadm join.
join_cluster() {
    if [[ -f /etc/kubernetes/kubelet.conf ]]; then
        coe_log "kubelet.conf exists: node already joined, skipping kubeadm join"
        return 0
    fi
    coe_wait_tcp "${COE_API_HOST}" "${COE_API_PORT}" 3600
    check_version_skew
    wait_for_previous_master
    coe_retry 60 10 kubeadm_attempt join
}

# main: the whole bootstrap, in order.
main() {
    check_settings
    coe_log_start "kubernetes ${KUBE_VERSION}, ${CNI}"
    # Keep cluster-internal traffic off the proxy.
    coe_extend_no_proxy localhost 127.0.0.1 "${COE_API_HOST}" "${COE_NODE_ADDRESS:-}" \
        "${POD_CIDR}" "${SERVICE_CIDR}" .svc .cluster.local
    coe_apply_proxy containerd kubelet
    setup_kernel
    # etcd's volume and the container storage, before anything writes there.
    coe_mount_volumes /var/lib/etcd /var/lib/containerd
    install_tools
    install_containerd
    install_kubernetes
    seed_pki
    if [[ "${COE_FIRST_MASTER}" == true ]]; then
        init_cluster
    else
        join_cluster
    fi
    rm -rf "${PKI_SEED}"
    coe_mark_done
}

main "$@"
