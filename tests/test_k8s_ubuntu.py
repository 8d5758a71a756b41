"""The k8s_ubuntu driver: CA material, joins, kubeconfig, security rules, rendered payloads."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
import yaml
from cryptography import x509

from coe_provider.cluster.pki import public_key_sha256
from coe_provider.plan.secrets import contains_secret, is_secret
from tests.conftest import Recorded
from tests.validators import cloud_init_schema, files_in, shellcheck


@pytest.fixture(scope="module")
def ha() -> Recorded:
    """The k8s-ha example: 3 masters behind Octavia, two node groups."""
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory
    from coe_provider.spec.yamlload import load_yaml_file
    from tests.conftest import EXAMPLES

    directory = EXAMPLES / "k8s-ha"
    config, secret_keys = config_from_stack_file(load_yaml_file(directory / "Pulumi.prod.yaml"))
    return Recorded(run_program_directory(directory, "prod", config, secret_keys))


def user_data(run: Recorded, name: str) -> str:
    return str(Recorded.inputs(run.named("compute/instance:Instance", name))["userData"])


def test_ha_example_has_three_masters_a_balancer_and_both_groups(ha: Recorded) -> None:
    servers = sorted(s.name for s in ha.of_type("compute/instance:Instance"))
    assert servers == ["prod-default-worker-0", "prod-default-worker-1", "prod-default-worker-2",
                       "prod-gpu-0", "prod-gpu-1",
                       "prod-master-0", "prod-master-1", "prod-master-2"]
    members = ha.of_type("loadbalancer/member:Member")
    assert len(members) == 3
    master_addresses = ha.output("cluster:prod")["masterAddresses"]
    assert sorted(m.inputs["address"] for m in members) == sorted(master_addresses)
    listener = ha.named("loadbalancer/listener:Listener", "prod-api")
    assert listener.inputs["protocolPort"] == 6443
    # The cluster subnet is always admitted: the nodes reach the API through the VIP.
    assert listener.inputs["allowedCidrs"] == ["203.0.113.0/24", "198.51.100.0/24", "10.0.0.0/22"]
    gpu = ha.named("compute/instance:Instance", "prod-gpu-0")
    assert gpu.inputs["flavorName"] == "g1.xlarge"


def test_kubeconfig_is_secret_and_signed_by_the_cluster_ca(ha: Recorded) -> None:
    assert is_secret(ha.run.stack_outputs["cluster:prod"]["kubeconfig"]) or is_secret(
        ha.run.stack_outputs["cluster:prod"])
    detail = ha.output("cluster:prod")
    kubeconfig = yaml.safe_load(detail["kubeconfig"])
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"] == detail["apiAddress"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(cluster["certificate-authority-data"]))
    client = x509.load_pem_x509_certificate(
        base64.b64decode(kubeconfig["users"][0]["user"]["client-certificate-data"]))
    client.verify_directly_issued_by(ca)
    subject = client.subject.rfc4514_string()
    assert "O=system:masters" in subject and "CN=kubernetes-admin" in subject


def test_workers_join_with_the_ca_hash_and_the_balancer(ha: Recorded) -> None:
    files = files_in(user_data(ha, "prod-default-worker-1"))
    join = yaml.safe_load(files["/etc/coe/kubeadm.yaml"])
    assert join["kind"] == "JoinConfiguration" and "controlPlane" not in join
    discovery = join["discovery"]["bootstrapToken"]
    ca_pem = ha.output("cluster:prod")["caCertificate"]
    assert discovery["caCertHashes"] == [public_key_sha256(ca_pem)]
    vip = ha.of_type("loadbalancer/loadBalancer:LoadBalancer")
    assert len(vip) == 1
    assert discovery["apiServerEndpoint"].endswith(":6443")
    assert "/etc/kubernetes/pki/ca.key" not in files, "workers never get CA keys"
    taints = yaml.safe_load(files_in(user_data(ha, "prod-gpu-0"))["/etc/coe/kubeadm.yaml"])
    assert taints["nodeRegistration"]["taints"] == [
        {"key": "nvidia.com/gpu", "effect": "NoSchedule", "value": "true"}]


def test_masters_share_the_ca_and_only_the_first_initialises(ha: Recorded) -> None:
    first = files_in(user_data(ha, "prod-master-0"))
    second = files_in(user_data(ha, "prod-master-1"))
    documents = list(yaml.safe_load_all(first["/etc/coe/kubeadm.yaml"]))
    assert [d["kind"] for d in documents] == [
        "InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
    cluster_config = documents[1]
    assert cluster_config["networking"] == {"podSubnet": "10.100.0.0/16",
                                            "serviceSubnet": "10.254.0.0/16"}
    join = yaml.safe_load(second["/etc/coe/kubeadm.yaml"])
    assert join["kind"] == "JoinConfiguration" and "controlPlane" in join
    for path in ("ca.crt", "ca.key", "front-proxy-ca.key", "etcd/ca.key", "sa.key", "sa.pub"):
        assert first[f"/etc/kubernetes/pki/{path}"] == second[f"/etc/kubernetes/pki/{path}"]
    token = documents[0]["bootstrapTokens"][0]["token"]
    assert join["discovery"]["bootstrapToken"]["token"] == token
    assert len(token) == 23 and token[6] == "."


def test_etcd_lives_on_its_own_volume_mounted_by_id(ha: Recorded) -> None:
    volumes = {v.name: v for v in ha.of_type("blockstorage/volume:Volume")}
    assert sorted(volumes) == ["prod-master-0-etcd", "prod-master-1-etcd", "prod-master-2-etcd"]
    master = ha.named("compute/instance:Instance", "prod-master-1")
    devices = master.inputs["blockDevices"]
    volume_devices = [d for d in devices if d["sourceType"] == "volume"]
    assert len(volume_devices) == 1 and volume_devices[0]["deleteOnTermination"] is False
    node_env = files_in(user_data(ha, "prod-master-1"))["/etc/coe/node.env"]
    assert f"COE_ETCD_VOLUME_ID={volume_devices[0]['uuid']}" in node_env


def test_no_rule_opens_etcd_or_kubelet_to_the_world(ha: Recorded) -> None:
    for rule in ha.of_type("networking/secGroupRule:SecGroupRule"):
        low, high = rule.inputs.get("portRangeMin"), rule.inputs.get("portRangeMax")
        if low is None or high is None:
            continue
        sensitive = any(low <= port <= high for port in (2379, 2380, 10250))
        if sensitive:
            assert "remoteGroupId" in rule.inputs, rule.name
            assert rule.inputs.get("remoteIpPrefix") in (None, ""), rule.name


def test_cloud_provider_credential_is_secret(ha: Recorded) -> None:
    credentials = ha.of_type("identity/applicationCredential:ApplicationCredential")
    assert len(credentials) == 1
    assert "secret" in credentials[0].options.get("additionalSecretOutputs", [])
    # The program makes the cloud-config Secret (issue 26): no master carries cloud.conf.
    assert "/etc/kubernetes/cloud-config" not in files_in(user_data(ha, "prod-master-0"))
    secret = ha.named("core/v1:Secret", "prod-cloud-config")
    assert contains_secret(secret.inputs["stringData"])
    cloud_config = Recorded.inputs(secret)["stringData"]["cloud.conf"]
    assert "auth-url=https://keystone.example.com:5000/v3" in cloud_config
    assert "application-credential-secret=" in cloud_config


@pytest.mark.parametrize("name", ["prod-master-0", "prod-master-2", "prod-gpu-1"])
def test_payloads_pass_cloud_init_schema_and_shellcheck(ha: Recorded, name: str) -> None:
    text = user_data(ha, name)
    ok, output = cloud_init_schema(text)
    assert ok, output
    files = files_in(text)
    for path in ("/usr/local/bin/coe-bootstrap", "/usr/local/lib/coe/common.sh"):
        ok, output = shellcheck(files[path])
        assert ok, f"{path}: {output}"


def test_single_master_without_balancer_uses_the_master(
        run_example: Callable[[str], Recorded]) -> None:
    single = run_example("k8s-single")
    assert single.of_type("loadbalancer/loadBalancer:LoadBalancer") == []
    detail = single.output("cluster:dev")
    floating = single.named("networking/floatingIp:FloatingIp", "dev-master-0")
    assert floating is not None
    assert detail["apiAddress"].startswith("https://172.24.")
    env = files_in(user_data(single, "dev-default-worker-0"))["/etc/coe/node.env"]
    assert f"COE_API_HOST={detail['masterAddresses'][0]}" in env
    assert single.of_type("identity/applicationCredential:ApplicationCredential") == []
