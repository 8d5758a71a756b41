"""Nodes on Ubuntu 24.04 as it ships today (Docker 29, containerd 2, cloud-init 24.1 to 26.1)
and on the Debian 12 the VM test boots (Docker 20.10, cloud-init 22.4): container storage on
the data volume, engine packages held, Docker's reserved labels refused, apt's locks waited
for, overlay and pod networks sized to the network's MTU.

Everything is checked on rendered payloads; the shell parts run under bash with the system
commands they call faked (tests/bootstrap_shell.py).
"""

from __future__ import annotations

import fcntl
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from coe_provider.bootstrap.cloudconfig import BOOTSTRAP_PATH
from coe_provider.plan.diff import diff_plans
from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import resolve_clusters
from tests.bootstrap_shell import LOGGING_FAKE, BootstrapShell
from tests.conftest import REPO, Recorded, cluster_settings
from tests.test_scaling import changed, plan
from tests.validators import files_in

SWARM_DIR = "/etc/coe/swarm"


def user_data(run: Recorded, name: str) -> str:
    return str(Recorded.inputs(run.named("compute/instance:Instance", name))["userData"])


def env_of(text: str) -> dict[str, str]:
    return {key: value.strip("'") for key, _, value in
            (line.partition("=") for line in text.splitlines() if line)}


@pytest.fixture(scope="module")
def swarm(run_root_program_module: Callable[..., Recorded]) -> Recorded:
    """A swarm with a data volume on a managed network (Neutron reports MTU 1450)."""
    return run_root_program_module(cluster_settings(
        "swarm_ubuntu", template={"dockerVolumeSize": 40},
        nodeGroups=[{"name": "default-worker", "count": 1, "labels": {"tier": "app"}}]))


@pytest.fixture(scope="module")
def kubernetes(run_root_program_module: Callable[..., Recorded]) -> Recorded:
    return run_root_program_module(cluster_settings(
        "k8s_ubuntu", {"cloud_provider_enabled": False}, template={"dockerVolumeSize": 40}))


@pytest.fixture(scope="module")
def run_root_program_module() -> Callable[..., Recorded]:
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory

    def run(coe: dict[str, Any]) -> Recorded:
        config, secret_keys = config_from_stack_file(
            {"config": {f"coe:{key}": value for key, value in coe.items()}})
        return Recorded(run_program_directory(REPO, "test", config, secret_keys))

    return run


def daemon_files(run: Recorded, node: str) -> dict[str, dict[str, Any]]:
    files = files_in(user_data(run, node))
    return {name: json.loads(files[f"{SWARM_DIR}/{name}"])
            for name in ("daemon.json", "daemon-before-24.json")}


# ----------------------------------------------------------------- 1. container storage


def test_swarm_images_stay_on_the_data_volume(swarm: Recorded) -> None:
    """Docker 29's containerd image store would put images under /var/lib/containerd on the
    root disk; the snapshotter is off in both daemon configurations, so images stay in
    /var/lib/docker, where the data volume is mounted before docker.io is installed."""
    for node in ("c1-master-0", "c1-default-worker-0"):
        for name, config in daemon_files(swarm, node).items():
            assert config["features"] == {"containerd-snapshotter": False}, (node, name)
            assert "data-root" not in config
    script = files_in(user_data(swarm, "c1-default-worker-0"))[BOOTSTRAP_PATH]
    main = script[script.index("main() {"):]
    assert main.index("mount_volumes") < main.index("install_docker")
    assert "readonly DOCKER_ROOT=/var/lib/docker" in script
    node_env = env_of(files_in(user_data(swarm, "c1-default-worker-0"))["/etc/coe/node.env"])
    assert node_env["COE_DATA_VOLUME_GIB"] == "40"


DOCKER_20_10_KEYS = frozenset({"features", "hosts", "labels", "log-driver", "log-opts", "mtu",
                               "tlscacert", "tlscert", "tlskey", "tlsverify"})
"""daemon.json keys of ours that Docker 20.10 knows (moby v20.10.24, daemon/config/config.go
and its json tags; ``features`` is a free map whose unknown names are ignored). dockerd 20.10
refuses to start on any key outside its configuration, such as ``default-network-opts``
(from v24.0.0)."""


def test_the_older_docker_configuration_has_only_keys_docker_20_10_knows(
        swarm: Recorded) -> None:
    for node in ("c1-master-0", "c1-default-worker-0"):
        older = daemon_files(swarm, node)["daemon-before-24.json"]
        assert set(older) <= DOCKER_20_10_KEYS, sorted(set(older) - DOCKER_20_10_KEYS)


def test_kubernetes_data_volume_holds_containerd_root(kubernetes: Recorded) -> None:
    """containerd keeps images and container layers under its root, /var/lib/containerd:
    that is where the data volume goes, before containerd is installed."""
    script = files_in(user_data(kubernetes, "c1-default-worker-0"))[BOOTSTRAP_PATH]
    main = script[script.index("main() {"):]
    mount = main.index("coe_mount_volumes /var/lib/etcd /var/lib/containerd")
    assert mount < main.index("install_containerd")
    assert not re.search(r"^\s*root\s*=", script, re.MULTILINE), "containerd's root moved"


# ---------------------------------------------------------------------- 2. held packages

FAKE_DPKG_QUERY = """#!/bin/bash
# Nothing is installed yet; asked for docker.io's version alone, FAKE_DOCKER_VERSION.
if [[ "$2" == '-f=${Version}' ]]; then
    printf '%s' "${FAKE_DOCKER_VERSION:-}"
    exit 0
fi
exit 1
"""


@pytest.fixture
def swarm_shell(swarm: Recorded, tmp_path: Path) -> Callable[[str], BootstrapShell]:
    def make(node: str) -> BootstrapShell:
        fakes = {name: LOGGING_FAKE for name in ("apt-get", "apt-mark", "systemctl")}
        fakes["dpkg-query"] = FAKE_DPKG_QUERY
        fakes["docker"] = FAKE_DOCKER
        root = tmp_path / node
        return BootstrapShell(root, user_data(swarm, node), fakes, {
            "readonly DOCKER_CLI=/usr/bin/docker": f"readonly DOCKER_CLI={root / 'bin/docker'}"})
    return make


@pytest.mark.parametrize("version", ["", "29.1.3-0ubuntu3~24.04.1"])
def test_swarm_holds_docker_and_containerd_pinned_or_not(
        swarm_shell: Callable[[str], BootstrapShell], version: str) -> None:
    shell = swarm_shell("c1-default-worker-0")
    run = shell.run(f"DOCKER_VERSION='{version}'\ninstall_docker")
    assert run.returncode == 0, run.output
    install = [call for call in run.calls if call.startswith("apt-get") and " install " in call]
    assert install and f"docker.io{'=' + version if version else ''} " in install[0] + " "
    holds = [call for call in run.calls if call.startswith("apt-mark")]
    assert holds == ["apt-mark hold docker.io", "apt-mark hold containerd"]
    assert run.calls.index(install[0]) < run.calls.index(holds[0])


def test_kubernetes_holds_its_engine_packages(kubernetes: Recorded, tmp_path: Path) -> None:
    """kubelet, kubeadm and kubectl are held as before; containerd now too, unpinned or not,
    through the shared library's coe_apt_install_pinned (its behaviour is run below)."""
    script = files_in(user_data(kubernetes, "c1-default-worker-0"))[BOOTSTRAP_PATH]
    assert re.search(r"^\s*coe_apt_hold kubelet kubeadm kubectl$", script, re.MULTILINE)
    assert re.search(r'^\s*coe_apt_install_pinned containerd "\$\{CONTAINERD_VERSION:-\}"',
                     script, re.MULTILINE)
    assert "apt-mark hold" not in script, "holds go through coe_apt_hold, which waits for locks"


@pytest.mark.parametrize(("version", "installs"), [
    ("", "containerd ca-certificates"), ("1.7.28-0ubuntu1", "containerd=1.7.28-0ubuntu1 ca-")])
def test_the_engine_package_is_held_pinned_or_not(
        kubernetes: Recorded, tmp_path: Path, version: str, installs: str) -> None:
    fakes = {name: LOGGING_FAKE for name in ("apt-get", "apt-mark")}
    fakes["dpkg-query"] = "#!/bin/sh\nexit 1\n"
    shell = BootstrapShell(tmp_path, user_data(kubernetes, "c1-default-worker-0"), fakes)
    run = shell.run(f'coe_apt_install_pinned containerd "{version}" ca-certificates')
    assert run.returncode == 0, run.output
    assert any(f" install {installs}" in call for call in run.calls), run.calls
    assert run.calls[-1] == "apt-mark hold containerd"


# ------------------------------------------------------------------ 3. reserved labels


def _errors(labels: dict[str, str]) -> list[str]:
    settings = cluster_settings("swarm_ubuntu", nodeGroups=[
        {"name": "default-worker", "count": 1, "labels": labels}])
    with pytest.raises(SpecError) as caught:
        resolve_clusters(settings, REPO)
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize("key", ["com.docker.network", "io.docker.tier", "org.dockerproject.x",
                                 "COM.Docker.upper", "Io.DOCKER.mixed"])
def test_reserved_engine_labels_are_refused_naming_the_label(key: str) -> None:
    errors = _errors({"tier": "app", key: "x"})
    assert len(errors) == 1, errors
    assert errors[0].startswith("clusters.c1.nodeGroups[0].labels"), errors
    assert repr(key) in errors[0] and "dockerd refuses to start" in errors[0]


@pytest.mark.parametrize("key", ["com.dockerhub.team", "com.docker", "docker.io.tier",
                                 "tier.com.docker.x"])
def test_labels_outside_the_reserved_namespaces_pass(key: str) -> None:
    settings = cluster_settings("swarm_ubuntu", nodeGroups=[
        {"name": "default-worker", "count": 1, "labels": {key: "x"}}])
    assert "c1" in resolve_clusters(settings, REPO)


# ----------------------------------------------------------------------- 4. apt's locks


def test_no_payload_asks_cloud_init_to_install_packages(swarm: Recorded,
                                                        kubernetes: Recorded) -> None:
    for run in (swarm, kubernetes):
        for server in run.of_type("compute/instance:Instance"):
            document = yaml.safe_load(str(Recorded.inputs(server)["userData"]))
            assert not {"packages", "package_update", "package_upgrade"} & set(document)


def test_kubernetes_bootstrap_installs_its_own_tools_first(kubernetes: Recorded,
                                                           tmp_path: Path) -> None:
    """curl, gpg and ca-certificates came from cloud-init's packages before; the bootstrap
    installs them itself, before anything fetches or verifies a download."""
    fakes = {name: LOGGING_FAKE for name in ("apt-get", "apt-mark")}
    fakes["dpkg-query"] = "#!/bin/sh\nexit 1\n"
    shell = BootstrapShell(tmp_path, user_data(kubernetes, "c1-master-0"), fakes)
    run = shell.run("install_tools")
    assert run.returncode == 0, run.output
    assert any(call.endswith("install ca-certificates curl gpg") for call in run.calls)
    script = files_in(user_data(kubernetes, "c1-master-0"))[BOOTSTRAP_PATH]
    main = script[script.index("main() {"):]
    assert main.index("install_tools") < main.index("install_containerd")


@pytest.fixture
def held_lock(tmp_path: Path) -> Iterator[tuple[Path, threading.Event]]:
    """A file locked with fcntl, as apt and dpkg lock theirs, until the event is set."""
    path = tmp_path / "lists-lock"
    path.write_text("")
    release = threading.Event()
    locked = threading.Event()

    def hold() -> None:
        with path.open("w") as handle:
            fcntl.lockf(handle, fcntl.LOCK_EX)
            locked.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(5)
    # fcntl locks belong to the process: release them from another one's point of view by
    # ending the holder thread (closing the file drops the lock).
    yield path, release
    release.set()
    thread.join()


def test_apt_update_waits_for_the_lists_lock(kubernetes: Recorded, tmp_path: Path,
                                              held_lock: tuple[Path, threading.Event]) -> None:
    """apt-get update takes /var/lib/apt/lists/lock without waiting (DPkg::Lock::Timeout is
    for dpkg's lock): the library waits until no process holds it, read from /proc/locks."""
    lock, release = held_lock
    fakes = {"apt-get": "#!/bin/bash\nprintf '%s %s\\n' \"$(date +%s.%N)\" \"$*\" "
                        ">>\"${FAKE_LOG}\"\n"}
    shell = BootstrapShell(tmp_path / "shell", user_data(kubernetes, "c1-master-0"), fakes)
    timer = threading.Timer(2.0, release.set)
    started = time.time()
    timer.start()
    run = shell.run(f'COE_APT_LOCKS=("{lock}"); _coe_lock_held "{lock}" && echo held-at-start\n'
                    "_coe_apt_install_once curl")
    timer.cancel()
    assert run.returncode == 0, run.output
    assert "held-at-start" in run.output
    assert "waiting for" in run.output and str(lock) in run.output
    update = float(run.calls[0].split()[0])
    assert run.calls[0].endswith("update") and update - started >= 2.0


def test_a_free_lock_is_not_waited_for(tmp_path: Path, kubernetes: Recorded) -> None:
    lock = tmp_path / "free-lock"
    lock.write_text("")
    shell = BootstrapShell(tmp_path / "shell", user_data(kubernetes, "c1-master-0"), {})
    started = time.time()
    run = shell.run(f'COE_APT_LOCKS=("{lock}" "{tmp_path / "absent"}"); coe_wait_apt_locks\n'
                    f'! _coe_lock_held "{lock}"')
    assert run.returncode == 0, run.output
    assert time.time() - started < 3


# ------------------------------------------------------------------------------ 5. MTU


def test_nodes_learn_the_network_mtu(swarm: Recorded, kubernetes: Recorded,
                                     run_root_program_module: Callable[..., Recorded]) -> None:
    """The managed network's MTU as Neutron reports it, or the template's networkMtu."""
    for run in (swarm, kubernetes):
        env = env_of(files_in(user_data(run, "c1-master-0"))["/etc/coe/node.env"])
        assert env["COE_NETWORK_MTU"] == "1450"
    fixed = run_root_program_module(cluster_settings(
        "swarm_ubuntu", template={"fixedNetwork": "tenant-net", "externalNetwork": None}))
    env = env_of(files_in(user_data(fixed, "c1-master-0"))["/etc/coe/node.env"])
    assert env["COE_NETWORK_MTU"] == "1450"
    chosen = run_root_program_module(cluster_settings(
        "swarm_ubuntu", template={"networkMtu": 1400}))
    env = env_of(files_in(user_data(chosen, "c1-default-worker-0"))["/etc/coe/node.env"])
    assert env["COE_NETWORK_MTU"] == "1400"
    network = chosen.named("networking/network:Network", "c1")
    assert "mtu" not in Recorded.inputs(network), "the network's MTU is read, never set"


def test_docker_networks_take_the_network_mtu(swarm: Recorded) -> None:
    """docker0 by ``mtu``; stack and user networks by default-network-opts, which only
    Docker 24 and later know (older daemons refuse unknown keys and would not start)."""
    configs = daemon_files(swarm, "c1-default-worker-0")
    modern, older = configs["daemon.json"], configs["daemon-before-24.json"]
    assert modern["mtu"] == older["mtu"] == 1450
    assert modern["default-network-opts"] == {
        "bridge": {"com.docker.network.driver.mtu": "1450"},
        "overlay": {"com.docker.network.driver.mtu": "1450"}}
    assert "default-network-opts" not in older
    assert {key: value for key, value in modern.items() if key != "default-network-opts"} == older


FAKE_DOCKER = """#!/bin/bash
# docker network inspect/rm/create and service ls, on one file per network holding its MTU.
printf '%s\\n' "docker $*" >>"${FAKE_LOG}"
net="${FAKE_STATE}/net-${*: -1}"
case "$1 $2" in
"network inspect")
    [[ -e "${net}" ]] || exit 1
    if [[ "$3" == --format ]]; then cat "${net}"; fi ;;
"network rm")
    read -r answer
    if [[ "${answer}" == y ]]; then rm -f "${net}"; fi ;;
"network create")
    [[ ! -e "${net}" ]] || exit 1
    mtu=""
    for arg in "$@"; do
        if [[ "${arg}" == com.docker.network.driver.mtu=* ]]; then mtu="${arg#*=}"; fi
    done
    printf '%s' "${mtu}" >"${net}" ;;
"service ls") cat "${FAKE_STATE}/services" 2>/dev/null || true ;;
*) exit 2 ;;
esac
"""


def test_first_manager_recreates_ingress_and_every_node_its_gateway_bridge(
        swarm_shell: Callable[[str], BootstrapShell]) -> None:
    """swarm init has no MTU option: the ingress it made is replaced (the removal prompt
    answered) before any service uses it; docker_gwbridge is made before init or join."""
    shell = swarm_shell("c1-master-0")
    (shell.root / "net-ingress").write_text("")  # as swarm init leaves it
    run = shell.run("create_gateway_bridge\nset_ingress_mtu")
    assert run.returncode == 0, run.output
    assert (shell.root / "net-ingress").read_text() == "1450"
    assert (shell.root / "net-docker_gwbridge").read_text() == "1450"
    create = next(c for c in run.calls if c.startswith("docker network create --driver bridge"))
    assert "com.docker.network.bridge.enable_icc=false" in create
    assert "com.docker.network.bridge.enable_ip_masquerade=true" in create
    removal = run.calls.index("docker network rm ingress")
    assert removal < run.calls.index(
        "docker network create --driver overlay --ingress --opt "
        "com.docker.network.driver.mtu=1450 ingress")
    again = shell.run("create_gateway_bridge\nset_ingress_mtu")
    assert again.returncode == 0 and not any(
        call.startswith(("docker network rm", "docker network create")) for call in again.calls)


def test_ingress_in_use_or_an_unknown_mtu_is_left_alone(
        swarm_shell: Callable[[str], BootstrapShell]) -> None:
    shell = swarm_shell("c1-master-0")
    (shell.root / "net-ingress").write_text("")
    (shell.root / "services").write_text("abc123\n")
    run = shell.run("set_ingress_mtu")
    assert run.returncode == 0 and "docker network rm ingress" not in run.calls
    unknown = shell.run("COE_NETWORK_MTU=''\ncreate_gateway_bridge\nset_ingress_mtu")
    assert unknown.returncode == 0 and unknown.calls == []


@pytest.mark.parametrize(("version", "chosen"), [
    ("20.10.24+dfsg1-1+deb12u1", "daemon-before-24.json"),
    ("23.0.6-1", "daemon-before-24.json"),
    ("24.0.7-0ubuntu4", "daemon.json"),
    ("29.1.3-0ubuntu3~24.04.1", "daemon.json"),
])
def test_the_daemon_configuration_follows_the_installed_docker(
        swarm_shell: Callable[[str], BootstrapShell], version: str, chosen: str) -> None:
    run = swarm_shell("c1-default-worker-0").run(
        "daemon_file", env={"FAKE_DOCKER_VERSION": version})
    assert run.returncode == 0, run.output
    assert run.output.strip().endswith(f"{SWARM_DIR}/{chosen}")


CALICO_CONFIG = 'kind: ConfigMap\ndata:\n  # Configure the MTU\n  veth_mtu: "0"\n'
"""The line of calico.yaml (v3.32 and later, manifests/calico.yaml) that sizes pod interfaces
and tunnels; "0" means detect."""

FLANNEL_CONFIG = ('  net-conf.json: |\n    {\n      "Network": "10.244.0.0/16",\n'
                  '      "Backend": {\n        "Type": "vxlan"\n      }\n    }\n')
"""kube-flannel.yml's network configuration (v0.28.9); its VXLAN backend reads ``MTU`` as the
network's MTU and subtracts its header (pkg/backend/vxlan/vxlan.go, ``VXLANConfig``)."""


@pytest.mark.parametrize(("cni", "manifest", "expected"), [
    ("calico", CALICO_CONFIG, 'veth_mtu: "1430"'),
    ("flannel", FLANNEL_CONFIG, '"Type": "vxlan", "MTU": 1450'),
])
def test_the_pod_network_is_sized_to_the_network_mtu(
        kubernetes: Recorded, tmp_path: Path, cni: str, manifest: str, expected: str) -> None:
    shell = BootstrapShell(tmp_path, user_data(kubernetes, "c1-master-0"), {})
    target = tmp_path / "manifest.yaml"
    target.write_text(manifest)
    run = shell.run(f'CNI={cni}\nset_cni_mtu "{target}"')
    assert run.returncode == 0, run.output
    assert expected in target.read_text()
    if cni == "flannel":
        document = yaml.safe_load(target.read_text())
        assert json.loads(document["net-conf.json"])["Backend"]["MTU"] == 1450
    target.write_text(manifest)
    unknown = shell.run(f"CNI={cni}\nCOE_NETWORK_MTU=''\nset_cni_mtu \"{target}\"")
    assert unknown.returncode == 0 and target.read_text() == manifest


def test_an_mtu_change_touches_no_existing_resource() -> None:
    """Day 2: the MTU reaches nodes through user_data, which existing servers keep; the
    network's MTU is never an input, so nothing is updated or replaced."""
    cluster = {"driver": "swarm_ubuntu", "waitForReady": False,
               "template": {"image": "ubuntu-24.04", "flavor": "m1.medium",
                            "externalNetwork": "public"},
               "masterCount": 1, "nodeGroups": [{"name": "a", "count": 2}]}
    before = plan(cluster)
    after = plan(changed(cluster, lambda c: c["template"].update(networkMtu=1400)), before)
    diff = diff_plans(before, after)
    assert diff.creates == diff.deletes == diff.updates == diff.replaces == []


# ---------------------------------------------------------------- cloud-config keys used

CLOUD_INIT_SCHEMA_KEYS: dict[str, frozenset[str]] = {
    "top": frozenset({"hostname", "preserve_hostname", "users", "ssh_keys", "write_files",
                      "runcmd", "final_message"}),
    "users[]": frozenset({"name", "gecos", "shell", "sudo", "lock_passwd",
                          "ssh_authorized_keys"}),
    "write_files[]": frozenset({"path", "permissions", "content", "encoding"}),
}
"""The cloud-config modules' keys the payloads may use. Each is a property, without a
``deprecated`` flag, in cloud-init's schema-cloud-config-v1.json at tags 24.1, 25.1 and 26.1
(github:canonical/cloud-init, cloudinit/config/schemas/schema-cloud-config-v1.json): top-level
keys of cc_set_hostname/cc_update_hostname, cc_users_groups, cc_ssh, cc_write_files, cc_runcmd
and cc_final_message; user keys of ``users_groups.user`` (additionalProperties false); item
keys of ``write_files``. Ubuntu 24.04 runs those releases, and only Debian's 22.4 can be
installed here to validate against, so a key outside this list needs a look at them first."""

SSH_KEYS_PATTERN = re.compile(r"^(ecdsa|ed25519|rsa)_(public|private|certificate)$")
"""``ssh_keys`` entries allowed by the same schemas (its patternProperties, no other keys)."""


def keys_used(document: dict[str, Any]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {"top": set(document), "users[]": set(), "write_files[]": set(),
                                 "ssh_keys": set(document.get("ssh_keys", {}))}
    for user in document.get("users", []):
        if isinstance(user, dict):
            used["users[]"] |= set(user)
    for item in document.get("write_files", []):
        used["write_files[]"] |= set(item)
    return used


def test_payloads_use_only_keys_of_the_newer_cloud_init_schemas(
        swarm: Recorded, kubernetes: Recorded) -> None:
    seen: dict[str, set[str]] = {}
    for run in (swarm, kubernetes):
        for server in run.of_type("compute/instance:Instance"):
            document = yaml.safe_load(str(Recorded.inputs(server)["userData"]))
            for part, keys in keys_used(document).items():
                seen.setdefault(part, set()).update(keys)
    for part, allowed in CLOUD_INIT_SCHEMA_KEYS.items():
        assert seen[part] <= allowed, f"{part}: {sorted(seen[part] - allowed)} not in the list"
    assert seen["ssh_keys"] and all(SSH_KEYS_PATTERN.match(key) for key in seen["ssh_keys"])
    # Every listed key is in use, so the list says what the payloads need and no more.
    assert seen["top"] == CLOUD_INIT_SCHEMA_KEYS["top"]



def test_the_shared_library_travels_compressed_and_decodes_to_itself(
        kubernetes: Recorded) -> None:
    """The library is written gzip+base64 (keeping the first master's cloud-config well
    inside Nova's limit); decoded as cloud-init decodes it, it is the library byte for byte."""
    from coe_provider.bootstrap.cloudconfig import COMMON_LIBRARY_PATH, common_library

    text = user_data(kubernetes, "c1-master-0")
    (entry,) = [item for item in yaml.safe_load(text)["write_files"]
                if item["path"] == COMMON_LIBRARY_PATH]
    assert entry["encoding"] == "gz+b64" and "coe_apt_install" not in entry["content"]
    assert files_in(text)[COMMON_LIBRARY_PATH] == common_library()
