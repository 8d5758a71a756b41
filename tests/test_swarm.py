"""The swarm_ubuntu driver: balancer, security rules, join channel, Docker TLS, payloads."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from coe_provider.bootstrap import NOVA_USER_DATA_LIMIT
from coe_provider.plan.secrets import is_secret, reveal
from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import EXAMPLES, REPO, Recorded, cluster_settings
from tests.validators import cloud_init_schema, files_in, systemd_verify

SWARM_PORTS = {2377, 7946, 4789}
"""Swarm's cluster ports: only ever open to the cluster's own security groups."""


def run_stack(example: str, stack: str) -> Recorded:
    """An example program with one of its stack files."""
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory
    from coe_provider.spec.yamlload import load_yaml_file

    directory = EXAMPLES / example
    config, secret_keys = config_from_stack_file(
        load_yaml_file(directory / f"Pulumi.{stack}.yaml"))
    return Recorded(run_program_directory(directory, stack, config, secret_keys))


@pytest.fixture(scope="module")
def ha() -> Recorded:
    """The swarm example: 3 managers behind Octavia, 2 workers."""
    return run_stack("swarm", "prod")


@pytest.fixture(scope="module")
def mixed() -> Recorded:
    """The mixed example: a k8s_ubuntu and a swarm_ubuntu cluster in one stack."""
    return run_stack("mixed", "prod")


def user_data(run: Recorded, name: str) -> str:
    return str(Recorded.inputs(run.named("compute/instance:Instance", name))["userData"])


def cloud_config(run: Recorded, name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(user_data(run, name))
    return document


def env_of(text: str) -> dict[str, str]:
    """A ``KEY='value'`` env file as bash would read it."""
    import shlex

    return {key: shlex.split(value)[0] if value else "" for key, _, value in
            (line.partition("=") for line in text.splitlines() if line)}


def detail(run: Recorded, cluster: str) -> dict[str, Any]:
    value: dict[str, Any] = run.output(f"cluster:{cluster}")
    return value


def shellcheck_style(script: str, common: str, tmp_path: Path) -> tuple[bool, str]:
    """``shellcheck -x -S style`` on a rendered bootstrap, with the rendered common.sh where
    the script's source directive points (``SCRIPTDIR/../../../coe_provider/...``)."""
    tool = shutil.which("shellcheck")
    assert tool, "shellcheck is not installed (apt-get install shellcheck)"
    library = tmp_path / "coe_provider/bootstrap/scripts/common.sh"
    library.parent.mkdir(parents=True, exist_ok=True)
    library.write_text(common)
    target = tmp_path / "drivers/swarm_ubuntu/templates/coe-bootstrap"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(script)
    result = subprocess.run([tool, "-x", "-S", "style", target.name], cwd=target.parent,
                            capture_output=True, text=True, check=False, timeout=120)
    return result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------ shape and balancer


def test_three_managers_behind_a_balancer_on_2376(ha: Recorded) -> None:
    servers = sorted(s.name for s in ha.of_type("compute/instance:Instance"))
    assert servers == ["swarm-default-worker-0", "swarm-default-worker-1",
                       "swarm-master-0", "swarm-master-1", "swarm-master-2"]
    members = ha.of_type("loadbalancer/member:Member")
    assert len(members) == 3
    assert {m.inputs["protocolPort"] for m in members} == {2376}
    assert sorted(m.inputs["address"] for m in members) == sorted(
        detail(ha, "swarm")["masterAddresses"])
    listener = ha.named("loadbalancer/listener:Listener", "swarm-api")
    assert listener.inputs["protocolPort"] == 2376
    # The cluster subnet is always admitted: the managers join through the VIP.
    assert listener.inputs["allowedCidrs"] == ["203.0.113.0/24", "10.0.0.0/24"]
    summary = ha.output("clusters")["swarm"]
    assert summary["driver"] == "swarm_ubuntu" and summary["coe"] == "swarm"
    assert summary["coeVersion"] == "distribution"


def test_docker_host_is_the_balancer_over_tcp(ha: Recorded) -> None:
    info = detail(ha, "swarm")
    assert info["dockerHost"] == info["apiAddress"]
    assert info["dockerHost"].startswith("tcp://") and info["dockerHost"].endswith(":2376")


# ---------------------------------------------------------------------------- security rules


def test_swarm_ports_are_open_only_between_cluster_groups(ha: Recorded) -> None:
    rules = ha.of_type("networking/secGroupRule:SecGroupRule")
    seen = set()
    for rule in rules:
        low, high = rule.inputs.get("portRangeMin"), rule.inputs.get("portRangeMax")
        if low is None:
            if rule.inputs["protocol"] == "50":
                assert rule.inputs.get("remoteGroupId"), rule.name
            continue
        for port in SWARM_PORTS & set(range(low, (high or low) + 1)):
            seen.add((rule.inputs["protocol"], port))
            assert rule.inputs.get("remoteGroupId"), rule.name
            assert not rule.inputs.get("remoteIpPrefix"), rule.name
    assert seen == {("tcp", 2377), ("tcp", 7946), ("udp", 7946), ("udp", 4789)}
    workers = {r.name for r in rules if r.name.startswith("swarm-worker-")}
    assert not any("2377" in name or "2376" in name for name in workers)


def test_only_the_docker_api_faces_the_allowed_cidrs(ha: Recorded) -> None:
    by_cidr = [r for r in ha.of_type("networking/secGroupRule:SecGroupRule")
               if r.inputs.get("remoteIpPrefix")]
    assert by_cidr, "the API must be reachable from apiAllowedCidrs"
    for rule in by_cidr:
        assert rule.name.startswith("swarm-master-tcp-2376-"), rule.name
        assert (rule.inputs["portRangeMin"], rule.inputs["portRangeMax"]) == (2376, 2376)
        assert rule.inputs["remoteIpPrefix"] in {"203.0.113.0/24", "10.0.0.0/24"}, rule.name
    # The subnet rule is for Octavia's health monitor and member traffic.
    assert {r.inputs["remoteIpPrefix"] for r in by_cidr} == {"203.0.113.0/24", "10.0.0.0/24"}


def test_managers_take_ssh_from_the_cluster_for_join_tokens(ha: Recorded) -> None:
    names = {r.name for r in ha.of_type("networking/secGroupRule:SecGroupRule")
             if r.inputs.get("portRangeMin") == 22}
    assert names == {"swarm-master-tcp-22-from-masters", "swarm-master-tcp-22-from-workers"}


def test_a_changed_data_path_port_moves_the_rule(
        run_root_program: Callable[..., Recorded]) -> None:
    run = run_root_program(cluster_settings("swarm_ubuntu", {"data_path_port": 4790}))
    udp = {(r.inputs["portRangeMin"], r.name.split("-from-")[1])
           for r in run.of_type("networking/secGroupRule:SecGroupRule")
           if r.inputs.get("protocol") == "udp" and r.inputs["portRangeMin"] != 7946}
    assert udp == {(4790, "masters"), (4790, "workers")}
    env = env_of(files_in(user_data(run, "c1-master-0"))["/etc/coe/driver.env"])
    assert env["SWARM_DATA_PATH_PORT"] == "4790"


# ------------------------------------------------------------------------------- payloads


@pytest.mark.parametrize("name", ["swarm-master-0", "swarm-master-1", "swarm-default-worker-0"])
def test_payloads_pass_cloud_init_schema_and_shellcheck(ha: Recorded, name: str,
                                                        tmp_path: Path) -> None:
    text = user_data(ha, name)
    ok, output = cloud_init_schema(text)
    assert ok, f"{name}: {output}"
    files = files_in(text)
    ok, output = shellcheck_style(files["/usr/local/bin/coe-bootstrap"],
                                  files["/usr/local/lib/coe/common.sh"], tmp_path)
    assert ok, f"{name}: {output}"
    assert len(base64.b64encode(text.encode())) < NOVA_USER_DATA_LIMIT


def test_removal_runs_on_the_first_manager_and_passes_shellcheck(
        run_root_program: Callable[..., Recorded], tmp_path: Path) -> None:
    run = run_root_program(cluster_settings(
        "swarm_ubuntu", masterCount=3, drainOnDelete=True,
        template={"bastion": True, "masterLbEnabled": True, "sshAllowedCidrs": ["192.0.2.0/24"]}))
    commands = {c.name: c for c in run.of_type("remote:Command")}
    assert sorted(commands) == ["c1-default-worker-0-drain", "c1-default-worker-1-drain",
                                "c1-master-0-drain", "c1-master-1-drain", "c1-master-2-drain"]
    first = run.named("compute/instance:Instance", "c1-master-0")
    assert first.urn in commands["c1-default-worker-1-drain"].dependencies
    delete = Recorded.inputs(commands["c1-master-2-drain"])["delete"]
    script = delete.split("<<'COE_REMOVAL'\n", 1)[1].rsplit("\nCOE_REMOVAL", 1)[0]
    assert "docker node demote" in script and "NODE=c1-master-2\n" in script
    target = tmp_path / "remove"
    target.write_text(script)
    tool = shutil.which("shellcheck")
    assert tool
    result = subprocess.run([tool, "-S", "style", str(target)], capture_output=True, text=True,
                            check=False, timeout=120)
    assert result.returncode == 0, result.stdout


def test_managers_prune_entries_left_by_unfinished_joins(ha: Recorded) -> None:
    """Managers get coe-swarm-prune and its service and timer (verified by systemd-analyze);
    the service passes the grace the behaviour tests use and logs only at notice."""
    from tests.test_swarm_prune import GRACE

    wanted = {"/usr/local/sbin/coe-swarm-prune": "0755",
              "/etc/systemd/system/coe-swarm-prune.service": "0644",
              "/etc/systemd/system/coe-swarm-prune.timer": "0644"}
    for name in ("swarm-master-0", "swarm-master-2"):
        written = {item["path"]: item for item in cloud_config(ha, name)["write_files"]}
        assert {path: written[path]["permissions"] for path in wanted} == wanted
    assert not set(wanted) & set(files_in(user_data(ha, "swarm-default-worker-0")))
    files = files_in(user_data(ha, "swarm-master-1"))
    units = {path.rsplit("/", 1)[1]: files[path] for path in wanted if "/systemd/" in path}
    ok, output = systemd_verify(units, {"/usr/local/sbin/coe-swarm-prune":
                                        files["/usr/local/sbin/coe-swarm-prune"]},
                                provided=("docker.service",))
    assert ok, output
    service = units["coe-swarm-prune.service"].splitlines()
    assert f"ExecStart=/usr/local/sbin/coe-swarm-prune {GRACE}" in service
    assert {"SyslogLevel=notice", "LogLevelMax=notice", "Type=oneshot"} <= set(service)
    assert "WantedBy=timers.target" in units["coe-swarm-prune.timer"].splitlines()


def test_docker_configuration_per_role(ha: Recorded) -> None:
    manager = files_in(user_data(ha, "swarm-master-1"))
    worker = files_in(user_data(ha, "swarm-default-worker-0"))
    daemon = json.loads(manager["/etc/coe/swarm/daemon.json"])
    assert daemon["hosts"] == ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"]
    assert daemon["tlsverify"] is True
    assert (daemon["tlscacert"], daemon["tlscert"], daemon["tlskey"]) == (
        "/etc/docker/tls/ca.pem", "/etc/docker/tls/server-cert.pem",
        "/etc/docker/tls/server-key.pem")
    worker_daemon = json.loads(worker["/etc/coe/swarm/daemon.json"])
    assert "hosts" not in worker_daemon and "tlskey" not in worker_daemon
    assert "tier=app" in worker_daemon["labels"]
    assert "coe.group=default-worker" in worker_daemon["labels"]
    assert not any(path.startswith("/etc/docker/tls/") for path in worker)
    env = env_of(manager["/etc/coe/driver.env"])
    assert env["SWARM_MANAGERS"].split() == detail(ha, "swarm")["masterAddresses"]
    assert env["SWARM_ADDR_POOLS"] == "10.200.0.0/16"
    assert env["SWARM_ADDR_POOL_MASK"] == "24"
    assert env["SWARM_AUTOLOCK"] == "false" and env["DOCKER_VERSION"] == ""
    script = manager["/usr/local/bin/coe-bootstrap"]
    assert "-H fd:" in script and "docker.io" in script


def test_state_and_container_storage_volumes(ha: Recorded) -> None:
    volumes = sorted(v.name for v in ha.of_type("blockstorage/volume:Volume"))
    assert volumes == ["swarm-master-0-etcd", "swarm-master-1-etcd", "swarm-master-2-etcd"]
    for name in ("swarm-master-2", "swarm-default-worker-1"):
        devices = ha.named("compute/instance:Instance", name).inputs["blockDevices"]
        blank = [d for d in devices if d["sourceType"] == "blank"]
        assert len(blank) == 1 and blank[0]["volumeSize"] == 50
    env = env_of(files_in(user_data(ha, "swarm-master-2"))["/etc/coe/node.env"])
    assert env["COE_ETCD_VOLUME_ID"] and env["COE_DATA_VOLUME_GIB"] == "50"


# --------------------------------------------------------------------------- join channel


def _public_openssh(private_openssh: str) -> str:
    key = serialization.load_ssh_private_key(private_openssh.encode(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def test_first_manager_serves_tokens_through_forced_commands(ha: Recorded) -> None:
    first = files_in(user_data(ha, "swarm-master-0"))
    lines = first["/etc/coe/swarm/authorized_keys"].splitlines()
    assert len(lines) == 2
    for line, kind in zip(lines, ("worker", "manager"), strict=True):
        options = line.rsplit(" ", 3)[0]
        assert options == (f'command="sudo -n /usr/bin/docker swarm join-token -q {kind}",'
                           f'from="10.0.0.0/24",restrict')
    assert first["/etc/coe/swarm/sudoers"].splitlines()[-1] == (
        "coe-join ALL=(root) NOPASSWD: /usr/bin/docker swarm join-token -q worker, "
        "/usr/bin/docker swarm join-token -q manager")
    # The first manager makes the tokens: it holds no key to fetch one.
    assert "/etc/coe/swarm/join_key" not in first


def test_nodes_hold_their_kind_of_key_and_pin_the_host_key(ha: Recorded) -> None:
    first = cloud_config(ha, "swarm-master-0")
    authorized = files_in(user_data(ha, "swarm-master-0"))["/etc/coe/swarm/authorized_keys"]
    entries = [line.rsplit(" ", 3) for line in authorized.splitlines()]
    public_by_kind = {comment.removeprefix("coe-join-"): f"{key_type} {blob}"
                      for _, key_type, blob, comment in entries}
    host_public = first["ssh_keys"]["ed25519_public"]
    assert _public_openssh(first["ssh_keys"]["ed25519_private"]) == host_public
    masters = detail(ha, "swarm")["masterAddresses"]
    for name, kind in (("swarm-master-1", "manager"), ("swarm-master-2", "manager"),
                       ("swarm-default-worker-0", "worker")):
        document = cloud_config(ha, name)
        files = files_in(user_data(ha, name))
        assert _public_openssh(files["/etc/coe/swarm/join_key"]) == public_by_kind[kind]
        mode = {f["path"]: f["permissions"] for f in document["write_files"]}
        assert mode["/etc/coe/swarm/join_key"] == "0600"
        hosts, key = files["/etc/coe/swarm/known_hosts"].strip().split(" ", 1)
        assert hosts.split(",") == masters and key == host_public
        assert ("ssh_keys" in document) == (kind == "manager")
    assert "ssh_keys" not in cloud_config(ha, "swarm-default-worker-1")


def test_private_keys_stay_in_payloads_never_in_outputs(ha: Recorded) -> None:
    secrets = {cloud_config(ha, "swarm-master-0")["ssh_keys"]["ed25519_private"]}
    for name in ("swarm-master-1", "swarm-default-worker-0"):
        secrets.add(files_in(user_data(ha, name))["/etc/coe/swarm/join_key"])
    # No line of a key's body may leak either; the first one is the same in every unencrypted
    # Ed25519 key (format, cipher, key count), so it proves nothing.
    fragments = {line for text in secrets for line in text.splitlines()[2:-1]}
    assert len(fragments) >= 3 * 3
    outputs = json.dumps(reveal(ha.run.stack_outputs))
    outputs += json.dumps([reveal(r.outputs) for r in ha.resources])
    outputs += ha.plan.dumps()
    for fragment in fragments:
        assert fragment not in outputs
    for server in ha.of_type("compute/instance:Instance"):
        assert is_secret(server.inputs["userData"])


# ----------------------------------------------------------------------------- Docker TLS


def test_docker_tls_outputs_are_secret(ha: Recorded) -> None:
    wire = ha.run.stack_outputs["cluster:swarm"]
    assert is_secret(wire) or is_secret(wire["dockerTls"])
    component = next(r for r in ha.resources if not r.custom)
    assert is_secret(component.outputs["dockerTls"])
    assert not is_secret(component.outputs["dockerHost"])
    bundle = detail(ha, "swarm")["dockerTls"]
    assert set(bundle) == {"ca.pem", "cert.pem", "key.pem"}
    assert "PRIVATE KEY" in bundle["key.pem"]


def test_client_certificate_verifies_against_the_ca(ha: Recorded) -> None:
    bundle = detail(ha, "swarm")["dockerTls"]
    ca = x509.load_pem_x509_certificate(bundle["ca.pem"].encode())
    client = x509.load_pem_x509_certificate(bundle["cert.pem"].encode())
    client.verify_directly_issued_by(ca)
    usages = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usages
    key = serialization.load_pem_private_key(bundle["key.pem"].encode(), password=None)
    assert key.public_key().public_numbers() == client.public_key().public_numbers()  # type: ignore[union-attr]


def test_server_certificates_name_the_balancer_and_their_manager(ha: Recorded) -> None:
    info = detail(ha, "swarm")
    ca = x509.load_pem_x509_certificate(info["dockerTls"]["ca.pem"].encode())
    vip = env_of(files_in(user_data(ha, "swarm-default-worker-0"))["/etc/coe/node.env"])[
        "COE_API_HOST"]
    floating = info["dockerHost"].removeprefix("tcp://").rsplit(":", 1)[0]
    assert vip not in info["masterAddresses"] and vip != floating
    for index, address in enumerate(info["masterAddresses"]):
        files = files_in(user_data(ha, f"swarm-master-{index}"))
        assert files["/etc/docker/tls/ca.pem"] == info["dockerTls"]["ca.pem"]
        cert = x509.load_pem_x509_certificate(files["/etc/docker/tls/server-cert.pem"].encode())
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
        assert {address, vip, floating, "127.0.0.1"} <= ips
        others = set(info["masterAddresses"]) - {address}
        assert not ips & others, "each manager's certificate names only its own address"
        assert f"swarm-master-{index}" in names.get_values_for_type(x509.DNSName)
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert ExtendedKeyUsageOID.SERVER_AUTH in usages


# -------------------------------------------------------------------------------- labels


def _errors(labels: dict[str, Any], **fields: Any) -> list[str]:
    with pytest.raises(SpecError) as caught:
        resolve_clusters(cluster_settings("swarm_ubuntu", labels, **fields), REPO)
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize(("labels", "expected"), [
    ({"default_addr_pool": ["10.0.0.0/8"]},
     "clusters.c1.labels.default_addr_pool: overlaps the node subnet 10.0.0.0/24"),
    ({"default_addr_pool": ["10.200.0.1/16"]},
     "clusters.c1.labels.default_addr_pool: item [0] must be a network in CIDR notation"),
    ({"default_addr_pool": ["fd00::/64"]},
     "clusters.c1.labels.default_addr_pool: item [0] must be an IPv4 network"),
    ({"default_addr_pool": ["10.200.0.0/16", "10.200.128.0/17"]},
     "clusters.c1.labels.default_addr_pool: pools must not overlap"),
    ({"default_addr_pool_mask_length": 12},
     "clusters.c1.labels: default_addr_pool_mask_length 12 is shorter than the prefix"),
    ({"default_addr_pool_mask_length": 30},
     "clusters.c1.labels.default_addr_pool_mask_length: Input should be less than or equal "
     "to 29"),
    ({"data_path_port": 80},
     "clusters.c1.labels.data_path_port: Input should be greater than or equal to 1024"),
    ({"data_path_port": 7946},
     "clusters.c1.labels.data_path_port: must not be a port the cluster already uses"),
    ({"docker_version": "latest"},
     "clusters.c1.labels.docker_version: must be an APT version string"),
    ({"kube_tag": "v1.36.4"},
     "clusters.c1.labels.kube_tag: unknown label for driver swarm_ubuntu"),
])
def test_bad_labels_name_path_and_rule(labels: dict[str, Any], expected: str) -> None:
    errors = _errors(labels)
    assert any(error.startswith(expected) for error in errors), errors


def test_labels_reach_the_bootstrap(run_root_program: Callable[..., Recorded]) -> None:
    run = run_root_program(cluster_settings("swarm_ubuntu", {
        "docker_version": "24.0.7-0ubuntu4", "default_addr_pool": "10.210.0.0/16",
        "autolock": True}))
    env = env_of(files_in(user_data(run, "c1-master-0"))["/etc/coe/driver.env"])
    assert env["DOCKER_VERSION"] == "24.0.7-0ubuntu4"
    assert env["SWARM_ADDR_POOLS"] == "10.210.0.0/16" and env["SWARM_ADDR_POOL_MASK"] == ""
    assert env["SWARM_AUTOLOCK"] == "true"
    assert run.output("clusters")["c1"]["coeVersion"] == "24.0.7-0ubuntu4"


def test_a_fixed_network_skips_the_subnet_overlap_check() -> None:
    settings = cluster_settings("swarm_ubuntu", {"default_addr_pool": ["10.0.0.0/8"]},
                                template={"fixedNetwork": "net", "externalNetwork": None})
    assert "c1" in resolve_clusters(settings, REPO)


# ------------------------------------------------------------------------ single and mixed


def test_single_manager_without_balancer_uses_its_floating_ip(mixed: Recorded) -> None:
    info = detail(mixed, "edge")
    assert info["driver"] == "swarm_ubuntu"
    floating = mixed.named("networking/floatingIp:FloatingIp", "edge-master-0")
    assert floating is not None
    host = info["dockerHost"].removeprefix("tcp://").rsplit(":", 1)[0]
    assert host not in info["masterAddresses"]
    cert = x509.load_pem_x509_certificate(files_in(user_data(mixed, "edge-master-0"))[
        "/etc/docker/tls/server-cert.pem"].encode())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    assert {host, info["masterAddresses"][0]} <= ips
    rules = {r.name for r in mixed.of_type("networking/secGroupRule:SecGroupRule")
             if r.name.startswith("edge-")}
    assert "edge-master-tcp-2376-from-subnet" not in rules, "no balancer, no health monitor"
    workers = env_of(files_in(user_data(mixed, "edge-default-worker-0"))["/etc/coe/node.env"])
    assert workers["COE_API_HOST"] == info["masterAddresses"][0]


def test_mixed_stack_builds_both_clusters(mixed: Recorded) -> None:
    components = sorted((r.type, r.name) for r in mixed.resources if not r.custom)
    assert components == [("coe:index:KubernetesUbuntuCluster", "apps"),
                          ("coe:index:SwarmUbuntuCluster", "edge")]
    summary = mixed.output("clusters")
    assert summary["apps"]["driver"] == "k8s_ubuntu" and summary["edge"]["driver"] == "swarm_ubuntu"
    assert detail(mixed, "apps")["apiAddress"].startswith("https://")
    assert detail(mixed, "edge")["apiAddress"].startswith("tcp://")
    subnets = {r.name: r.inputs["cidr"] for r in mixed.of_type("networking/subnet:Subnet")}
    assert subnets == {"apps": "10.0.0.0/22", "edge": "10.1.0.0/24"}
    for server in mixed.of_type("compute/instance:Instance"):
        ok, output = cloud_init_schema(Recorded.inputs(server)["userData"])
        assert ok, f"{server.name}: {output}"
    env = env_of(files_in(user_data(mixed, "edge-master-0"))["/etc/coe/driver.env"])
    assert env["SWARM_ADDR_POOLS"] == "10.201.0.0/16", "one CIDR is taken as a list of one"



def test_the_first_managers_removal_survives_a_moment_without_a_leader(tmp_path: Path) -> None:
    """Just after the last demotion ``docker node ls`` can fail (no leader yet): the removal
    retries the list instead of reading it as empty, so the first manager leaves its swarm."""
    from coe_provider.cluster.contract import RemovalStep
    from coe_provider.cluster.scaling import removal_script

    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/bash
echo "$*" >>{calls}
case "$1 $2" in
"node ls")
  if [[ ! -e {tmp_path}/listed ]]; then
    touch {tmp_path}/listed
    echo "Error response from daemon: rpc error: The swarm does not have a leader." >&2
    exit 1
  fi
  printf 'id0 first-manager\\nid1 worker-1\\n' ;;
"info --format") echo id0 ;;
esac
""")
    fake.chmod(0o755)
    script = (REPO / "drivers" / "swarm_ubuntu" / "templates" / "remove-node.sh").read_text()
    result = subprocess.run(
        ["bash", "-c", removal_script(RemovalStep("first_master", script), "first-manager", 30)],
        capture_output=True, text=True, timeout=60,
        env={"PATH": f"{fake.parent}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "first-manager, the first manager, left the swarm" in result.stderr
    assert calls.read_text().splitlines().count("swarm leave --force") == 1
