"""Cleanup on delete: its place in the delete order, and what it selects on a cloud.

The delete order is computed from the plan's recorded dependencies the way the engine orders
deletes. The selection runs openstacksdk against a fake OpenStack on 127.0.0.1 that answers
with the JSON shapes of Keystone, Octavia, Neutron and Cinder, and records every request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coe_provider.cleanup.executor import CleanupError, run_cleanup
from coe_provider.cleanup.resource import CloudCleanupProvider
from coe_provider.cleanup.target import (
    ENV_CLUSTER,
    ENV_NETWORK,
    ENV_RETAIN,
    ENV_SUBNET,
    ENV_TAG,
    CleanupTarget,
    tag_prefix,
)
from coe_provider.cleanup.wiring import CREATE_COMMAND, LEGACY_DELETE_COMMAND
from coe_provider.cli import app
from coe_provider.openstack.settings import (
    ENV_PROVIDER,
    arguments_from_environment,
    connection_arguments,
)
from coe_provider.plan.graph import PlanResource, delete_order, deleted_before
from coe_provider.plan.secrets import is_secret, reveal
from tests.cleanup_fixture import PROD_NET, PROD_TAG, prod_target, two_clusters
from tests.conftest import REPO, Recorded, shell_functions
from tests.fake_openstack import PASSWORD, PROJECT, FakeOpenStack

LB = "/lb/v2.0/lbaas/loadbalancers"
NET = "/network/v2.0"
VOL = f"/volume/v3/{PROJECT}/volumes"


# ------------------------------------------------------------------------ the delete order

def _of_type(resources: list[PlanResource], kind: str) -> list[PlanResource]:
    return [r for r in resources if r.type.endswith(kind)]


def assert_cleanup_between_servers_and_network(resources: list[PlanResource],
                                               cluster: str) -> None:
    before = deleted_before(resources)
    [cleanup] = [r for r in resources if r.name == f"{cluster}-cleanup"]
    assert cleanup.type == "pulumi-python:dynamic:Resource"
    # Cluster nodes (the bastion runs nothing that creates cloud objects).
    servers = [r for r in _of_type(resources, ":Instance")
               if (r.inputs.get("metadata") or {}).get("coe_role") in ("master", "worker")]
    network_parts = [r for r in resources if r.type.split(":")[-1] in (
        "Network", "Subnet", "RouterInterface", "SecGroup") and r.name.startswith(cluster)]
    assert servers and len(network_parts) >= 5
    # Guaranteed by the graph (not just one possible order): every server goes first...
    assert {s.urn for s in servers} <= before[cleanup.urn]
    # ...and the network's parts only after the cleanup.
    for part in network_parts:
        assert cleanup.urn in before[part.urn], f"{part.name} may go before the cleanup"
    order = delete_order(resources)
    position = {urn: i for i, urn in enumerate(order)}
    assert max(position[s.urn] for s in servers) < position[cleanup.urn]
    assert position[cleanup.urn] < min(position[p.urn] for p in network_parts)


def test_k8s_ha_deletes_cleanup_after_every_server_and_before_the_network(
        run_example: Callable[[str], Recorded]) -> None:
    resources = run_example("k8s-ha").plan.resources
    assert len(_of_type(resources, ":Instance")) == 8
    assert_cleanup_between_servers_and_network(resources, "prod")


def test_drain_commands_still_run_before_their_servers_with_the_cleanup(
        run_root_program: Callable[..., Recorded]) -> None:
    template = {"image": "ubuntu-24.04", "flavor": "m1.medium", "externalNetwork": "public",
                "masterLbEnabled": True, "bastion": True, "sshAllowedCidrs": ["192.0.2.0/24"],
                "labels": {"openstack_auth_url": "https://keystone.example.com:5000/v3"}}
    recorded = run_root_program({"clusters": {"c": {
        "driver": "k8s_ubuntu", "template": template, "masterCount": 3, "drainOnDelete": True,
        "nodeGroups": [{"name": "a", "count": 2}]}}})
    resources = recorded.plan.resources
    assert_cleanup_between_servers_and_network(resources, "c")
    before = deleted_before(resources)
    drains = [r for r in resources if r.name.endswith("-drain")]
    assert len(drains) == 5
    for drain in drains:
        [server] = [r for r in resources if r.name == drain.name.removesuffix("-drain")
                    and r.type.endswith(":Instance")]
        assert drain.urn in before[server.urn]
    # The bastion: the drains need it, so it goes after them; the cleanup neither waits for it
    # nor is waited for by it (the executor does not count its port as a node's).
    [cleanup] = [r for r in resources if r.name == "c-cleanup"]
    [bastion] = [r for r in resources if r.name == "c-bastion" and r.type.endswith(":Instance")]
    assert {d.urn for d in drains} <= before[bastion.urn]
    assert bastion.urn not in before[cleanup.urn]
    assert cleanup.urn not in before[bastion.urn]


def test_cleanup_stores_only_selection_parameters(
        run_example: Callable[[str], Recorded]) -> None:
    recorded = run_example("k8s-ha")
    cleanup = recorded.named("dynamic:Resource", "prod-cleanup")
    inputs = recorded.inputs(cleanup)
    tag = inputs["tag"]
    assert tag.startswith("prod-prod-") and len(tag) == len("prod-prod-") + 8
    assert inputs["cloudSettings"] == {"cloud": "mycloud", "region": None, "arguments": None}
    assert inputs["retainVolumes"] is False and inputs["cluster"] == "prod"
    assert "additionalSecretOutputs" in cleanup.options
    # The retired 0.1.0 command: same name and type, no delete, no secret.
    command = recorded.named("local:Command", "prod-cloud-cleanup")
    stored = recorded.inputs(command)
    assert stored["create"] == CREATE_COMMAND and "delete" not in stored
    environment = stored["environment"]
    assert sorted(environment) == sorted(
        [ENV_CLUSTER, ENV_TAG, ENV_NETWORK, ENV_SUBNET, ENV_RETAIN, "OS_CLOUD"])
    assert environment[ENV_TAG] == tag and environment[ENV_NETWORK] == inputs["networkId"]
    detail = recorded.output("cluster:prod")
    assert detail["cloudResourceTag"] == tag
    assert detail["cloudCleanup"]["tag"] == tag
    assert detail["cloudCleanup"]["networkId"] == inputs["networkId"]
    # The controllers get the tag: the Helm releases' values (issue 26); no node's
    # bootstrap applies the add-ons on this path.
    controller = recorded.named("Release", "prod-openstack-cloud-controller-manager")
    csi = recorded.named("Release", "prod-openstack-cinder-csi")
    assert recorded.inputs(controller)["values"]["cluster"]["name"] == tag
    assert recorded.inputs(csi)["values"]["clusterID"] == tag
    servers = recorded.of_type(":Instance")
    assert len(servers) == 8
    for server in servers:
        assert "CLOUD_PROVIDER_CLUSTER_NAME" not in recorded.inputs(server)["userData"]


PROVIDER_CONFIG = {
    "openstack:authUrl": "https://keystone.example.com:5000/v3",
    "openstack:userName": "operator", "openstack:tenantName": "demo",
    "openstack:userDomainName": "Default", "openstack:password": "stack-password",
    "openstack:insecure": "true",
}
"""The provider configured in the stack file, as Pulumi's OpenStack guide shows it."""


def test_the_providers_stack_settings_reach_the_cleanup_as_one_secret(
        run_root_program: Callable[..., Recorded]) -> None:
    template = {"image": "ubuntu-24.04", "flavor": "m1.medium", "externalNetwork": "public",
                "masterLbEnabled": True}
    recorded = run_root_program({"clusters": {"c": {
        "driver": "k8s_ubuntu", "template": template,
        "nodeGroups": [{"name": "a", "count": 1}]}}}, PROVIDER_CONFIG)
    cleanup = recorded.named("dynamic:Resource", "c-cleanup")
    stored = cleanup.inputs["cloudSettings"]["arguments"]
    assert is_secret(stored)
    assert json.loads(reveal(stored)) == {
        "auth": {"auth_url": "https://keystone.example.com:5000/v3", "username": "operator",
                 "project_name": "demo", "user_domain_name": "Default",
                 "password": "stack-password"},
        "insecure": "true"}
    assert cleanup.options["additionalSecretOutputs"] == ["cloudSettings"]
    # The selection parameters stay readable, and the output people read has no credential.
    assert not is_secret(cleanup.inputs["tag"])
    command = recorded.named("local:Command", "c-cloud-cleanup")
    assert "stack-password" not in json.dumps(reveal(command.inputs))
    cleanup_output = recorded.run.stack_outputs["cluster:c"]
    assert "stack-password" not in json.dumps(reveal(cleanup_output["cloudCleanup"]))
    assert not is_secret(cleanup_output["cloudCleanup"])


def test_the_dynamic_provider_is_pickled_by_its_module_path() -> None:
    from pulumi.dynamic.dynamic import serialize_provider

    # The state keeps the class by reference: a later layout move must alias this path.
    text = __import__("base64").b64decode(serialize_provider(CloudCleanupProvider()))
    assert b"coe_provider.cleanup.resource" in text and b"CloudCleanupProvider" in text
    assert b"def delete" not in text


@pytest.mark.parametrize(("settings", "expected"), [
    ({"applicationCredentialId": "ac1", "applicationCredentialSecret": "s", "authUrl": "u"},
     {"auth": {"application_credential_id": "ac1", "application_credential_secret": "s",
               "auth_url": "u"}, "auth_type": "v3applicationcredential"}),
    ({"token": "t", "authUrl": "u", "endpointType": "internal"},
     {"auth": {"token": "t", "auth_url": "u"}, "auth_type": "token", "interface": "internal"}),
    ({"cacertFile": "/etc/ssl/cloud.pem"}, {"cacert": "/etc/ssl/cloud.pem"}),
])
def test_connection_arguments_name_the_plugin_the_provider_would_choose(
        settings: dict[str, str], expected: dict[str, object]) -> None:
    assert connection_arguments(settings) == expected


def test_stored_arguments_turn_insecure_and_pem_contents_into_what_openstacksdk_reads() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    arguments = arguments_from_environment({ENV_PROVIDER: json.dumps(
        {"insecure": "true", "cacert": pem, "cert": "/etc/client.pem"})})
    assert arguments["verify"] is False and "insecure" not in arguments
    assert Path(arguments["cacert"]).read_text() == pem
    assert arguments["cacert"].startswith("/proc/self/fd/")  # in memory, this process's only
    assert arguments["cert"] == "/etc/client.pem"
    assert arguments_from_environment({}) == {}
    with pytest.raises(ValueError, match=f"{ENV_PROVIDER} is not JSON"):
        arguments_from_environment({ENV_PROVIDER: "{"})


def test_swarm_and_clusters_without_cloud_provider_have_no_cleanup(
        run_example: Callable[[str], Recorded],
        run_root_program: Callable[..., Recorded]) -> None:
    swarm = run_example("swarm")
    assert not swarm.of_type("local:Command")
    assert not swarm.of_type("randomId:RandomId") or all(
        "cloud-tag" not in r.name for r in swarm.of_type("randomId:RandomId"))
    off = run_root_program({"clusters": {"c": {"driver": "k8s_ubuntu", "waitForReady": False,
                                               "template": {
        "image": "u", "flavor": "f", "externalNetwork": "public",
        "labels": {"cloud_provider_enabled": False}}}}})
    assert not off.of_type("local:Command")
    assert "cloudCleanup" not in off.output("cluster:c")


def test_tag_prefix_is_readable_bounded_and_free_of_underscores() -> None:
    assert tag_prefix("dev", "prod") == "dev-prod-"
    assert tag_prefix("Org_Team.Stack", "prod-2") == "org-team-stack-prod-2-"
    long = tag_prefix("s" * 80, "c" * 63)
    assert len(long) <= 41 and long.endswith("-") and "_" not in long


# ----------------------------------------------------- the manifests get the cluster identity

MANIFESTS = {
    # The shapes cloud-provider-openstack ships: the flag through $(CLUSTER_NAME) in the
    # controller manager, quoted in Cinder CSI, and an old manifest without the flag.
    "occm": "      containers:\n        - name: occm\n          args:\n"
            "            - /bin/openstack-cloud-controller-manager\n"
            "            - --v=1\n            - --cluster-name=$(CLUSTER_NAME)\n",
    "occm-old": "          args:\n            - /bin/openstack-cloud-controller-manager\n"
                "            - --v=1\n",
    "csi": '          args:\n            - /bin/cinder-csi-plugin\n'
           '            - "--cluster=$(CLUSTER_NAME)"\n',
}


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_bootstrap_puts_the_tag_into_the_controllers_flags(name: str, tmp_path: Path) -> None:
    function = shell_functions(REPO / "drivers/k8s_ubuntu/templates/bootstrap.sh",
                               "set_cluster_identity")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFESTS[name])
    subprocess.run(["bash", "-c", f'{function}\nset_cluster_identity "$1"', "-", str(manifest)],
                   check=True, env={"CLOUD_PROVIDER_CLUSTER_NAME": PROD_TAG, "PATH": os.defpath})
    text = manifest.read_text()
    flag = "--cluster=" if name == "csi" else "--cluster-name="
    assert text.count(flag + PROD_TAG) == 1, text
    assert "$(CLUSTER_NAME)" not in text
    if name == "occm-old":
        assert text.splitlines()[2] == f"            - --cluster-name={PROD_TAG}"


# -------------------------------------------------------------------- selection on a cloud

@pytest.fixture
def cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeOpenStack]:
    """A fake cloud with two clusters, and OS_* pointing at it (no clouds.yaml in reach)."""
    fake = FakeOpenStack(two_clusters())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OS_CLOUD", raising=False)
    with fake:
        for key, value in fake.environment().items():
            monkeypatch.setenv(key, value)
        yield fake


KEPT_ELSEWHERE = ("port-prod-bastion", "server-bastion", "fip-moved", "fip-bastion",
                 "vol-moved", "att-m")
"""IDs of objects in use elsewhere: the bastion, prod's address serving prod-2, prod's volume
attached to prod-2's node. The cleanup sends no request that names one of them."""


def test_deletes_exactly_this_clusters_objects(cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    report = run_cleanup(prod_target(), timeout=5, interval=0.01)
    assert cloud.changes == [
        ("DELETE", f"{NET}/floatingips/fip-p1"),
        ("DELETE", f"{NET}/floatingips/fip-p-free"),
        ("DELETE", f"{LB}/lb-p3?cascade=True"),
        ("DELETE", f"{LB}/lb-p2?cascade=True"),
        ("DELETE", f"{LB}/lb-p1?cascade=True"),
        ("DELETE", f"{NET}/ports/port-vip-p2"),
        ("POST", f"{VOL}/vol-p2/action"),
        ("DELETE", f"{VOL}/vol-p1?cascade=True&force=False"),
        ("DELETE", f"{VOL}/vol-p2?cascade=True&force=False"),
    ]
    assert cloud.bodies == [(f"{VOL}/vol-p2/action", {"os-detach": {"attachment_id": "att-p2"}})]
    # The detached volume is seen available before any volume delete is sent.
    requests = cloud.requests
    detach = requests.index(("POST", f"{VOL}/vol-p2/action"))
    assert requests[detach + 1] == ("GET", f"{VOL}/vol-p2")
    # The stale attachment's server is looked up (gone), the foreign one too (alive).
    assert ("GET", "/compute/v2.1/servers/gone") in requests
    assert not [r for r in requests if any(i in r[1] for i in KEPT_ELSEWHERE)]
    # prod-2's, the stack's own API balancer, other clusters' and untagged objects remain.
    assert sorted(cloud.balancers) == ["lb-api", "lb-kube", "lb-pfx", "lb-q1", "lb-q2"]
    assert sorted(cloud.floating_ips) == [
        "fip-bastion", "fip-moved", "fip-node", "fip-q1", "fip-user"]
    assert cloud.floating_ips["fip-moved"]["port_id"] == "port-vip-q2"
    assert sorted(cloud.volumes) == ["vol-etcd", "vol-kube", "vol-moved", "vol-q1"]
    assert cloud.volumes["vol-moved"]["attachments"] == [
        {"attachment_id": "att-m", "server_id": "server-q", "volume_id": "vol-moved"}]
    assert sorted(cloud.ports) == ["port-api", "port-prod-bastion", "port-prod-m0",
                                   "port-prod2-m0", "port-vip-q1", "port-vip-q2"]
    assert [o.id for o in report.deleted] == [
        "fip-p1", "fip-p-free", "lb-p3", "lb-p2", "lb-p1", "port-vip-p2", "vol-p1", "vol-p2"]
    assert [(o.id, o.reason) for o in report.kept] == [
        ("fip-user", "not allocated by this cluster's cloud provider; Neutron releases it "
                     f"from load balancer kube_ingress_{PROD_TAG}_shop_front when that goes"),
        ("fip-moved", "attached to port port-vip-q2, which is no load balancer this cleanup "
                      "deletes (another cluster's Service may have taken it over)"),
        ("vol-moved", "attached to server server-q, which is not a node of cluster prod"),
    ]


def test_an_address_on_its_own_balancer_but_made_for_another_service_is_kept(
        cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    # prod's address of default/gone taken over by prod's own default/web (keep-floatingip).
    cloud.floating_ips["fip-p-free"]["port_id"] = "port-vip-p3"
    report = run_cleanup(prod_target(), timeout=5, interval=0.01, dry_run=True)
    assert "fip-p-free" not in [o.id for o in report.deleted]
    assert ("  would keep: floating IP 203.0.113.15 (fip-p-free): attached to load balancer "
            "a0123456789abcdef (lb-p3), which it was not allocated for") in report.lines()


def test_the_bastion_never_holds_up_the_cleanup(cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    assert cloud.ports["port-prod-bastion"]["device_owner"] == "compute:nova"
    run_cleanup(prod_target(), timeout=5, interval=0.01)
    assert "port-prod-bastion" in cloud.ports and "fip-bastion" in cloud.floating_ips
    # A node named like the bastion of another cluster is still a node.
    cloud.ports["port-prod-bastion"]["tags"] = ["coe-cluster=other"]
    cloud.ports["port-prod-m0"].update(device_owner="compute:nova", device_id="s")
    with pytest.raises(CleanupError, match="prod-master-0 are still bound"):
        run_cleanup(prod_target(), timeout=1, interval=0.01)


def test_retained_volumes_are_detached_kept_and_listed(cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    report = run_cleanup(prod_target(retain=True), timeout=5, interval=0.01)
    assert [c for c in cloud.changes if "/volume/" in c[1]] == [("POST", f"{VOL}/vol-p2/action")]
    assert {"vol-p1", "vol-p2"} <= set(cloud.volumes)
    assert cloud.volumes["vol-p2"]["attachments"] == []
    assert [o.id for o in report.kept] == ["fip-user", "fip-moved", "vol-p1", "vol-p2",
                                           "vol-moved"]
    assert ("  kept: volume pvc-1111 (vol-p1): retainVolumesOnDelete (detached)"
            in report.lines())
    assert cloud.volumes["vol-moved"]["attachments"][0]["server_id"] == "server-q"


def test_a_balancer_stuck_in_pending_delete_fails_of_type(cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    cloud.stuck_balancers.add("lb-p1")
    with pytest.raises(CleanupError) as error:
        run_cleanup(prod_target(), timeout=0.3, interval=0.02)
    message = str(error.value)
    assert (f"load balancer kube_service_{PROD_TAG}_default_web (lb-p1) in PENDING_DELETE"
            in message)
    assert "lb-p2" not in message and "subnet subnet-prod" in message
    # Nothing after the balancers was touched: the volumes are still there.
    assert not [c for c in cloud.changes if "/volume/" in c[1]]


def test_refuses_while_a_node_of_the_cluster_is_bound_to_a_server(
        cloud_env: FakeOpenStack) -> None:
    cloud = cloud_env.cloud
    cloud.ports["port-prod-m0"].update(device_owner="compute:nova", device_id="server-p")
    with pytest.raises(CleanupError, match="prod-master-0 are still bound to servers"):
        run_cleanup(prod_target(), timeout=1, interval=0.01)
    assert cloud.changes == []


def _stack_outputs(tmp_path: Path, retain: bool = False) -> Path:
    target = prod_target(retain)
    cleanup = {"cluster": target.cluster, "tag": target.tag, "networkId": target.network_id,
               "subnetId": target.subnet_id, "retainVolumes": retain, "cloud": None,
               "region": None}
    outputs = {"clusters": {"prod": {"name": "prod"}},
               # As `pulumi stack output --json` prints them: secrets not shown.
               "cluster:prod": {"name": "prod", "cloudResourceTag": PROD_TAG,
                                "cloudCleanup": cleanup, "kubeconfig": "[secret]",
                                "sshPrivateKey": "[secret]"},
               "cluster:legacy": {"name": "legacy"}}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_coe_cleanup_dry_run_lists_and_changes_nothing(cloud_env: FakeOpenStack,
                                                      tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cleanup", str(_stack_outputs(tmp_path)), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"cluster prod (cloud resource tag {PROD_TAG}): would delete 9 object(s), 3 kept",
        "  would delete: floating IP 203.0.113.10 (fip-p1)",
        "  would delete: floating IP 203.0.113.15 (fip-p-free)",
        "  would delete: load balancer a0123456789abcdef (lb-p3)",
        f"  would delete: load balancer kube_ingress_{PROD_TAG}_shop_front (lb-p2)",
        f"  would delete: load balancer kube_service_{PROD_TAG}_default_web (lb-p1)",
        "  would delete: port octavia-lb-lb-p1 (port-vip-p1)",
        "  would delete: port octavia-lb-lb-p2 (port-vip-p2)",
        "  would delete: volume pvc-1111 (vol-p1)",
        "  would delete: volume pvc-2222 (vol-p2)",
        "  would keep: floating IP 203.0.113.12 (fip-user): not allocated by this cluster's "
        f"cloud provider; Neutron releases it from load balancer kube_ingress_{PROD_TAG}_shop_"
        "front when that goes",
        "  would keep: floating IP 203.0.113.14 (fip-moved): attached to port port-vip-q2, "
        "which is no load balancer this cleanup deletes (another cluster's Service may have "
        "taken it over)",
        "  would keep: volume pvc-5555 (vol-moved): attached to server server-q, which is not "
        "a node of cluster prod",
    ]
    assert cloud_env.cloud.changes == []


@pytest.mark.parametrize(("text", "expected"), [
    ("{", "error: standard input: not JSON ("),
    ("[1, 2]", "error: standard input: not a JSON object"),
])
def test_coe_cleanup_refuses_what_is_not_stack_outputs_in_one_line(
        cloud_env: FakeOpenStack, text: str, expected: str) -> None:
    result = CliRunner().invoke(app, ["cleanup", "-"], input=text)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith(expected)
    assert cloud_env.cloud.requests == []


def test_coe_cleanup_from_stdin_deletes_and_names_unknown_clusters(
        cloud_env: FakeOpenStack, tmp_path: Path) -> None:
    text = _stack_outputs(tmp_path, retain=True).read_text()
    missing = CliRunner().invoke(app, ["cleanup", "-", "--cluster", "legacy"], input=text)
    assert missing.exit_code == 2
    assert "cluster 'legacy' has no cloudCleanup output (clusters with one: prod)" in \
        missing.output
    result = CliRunner().invoke(app, ["cleanup", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert "kept: volume pvc-2222 (vol-p2): retainVolumesOnDelete (detached)" in result.output
    assert sorted(cloud_env.cloud.balancers) == ["lb-api", "lb-kube", "lb-pfx", "lb-q1", "lb-q2"]


def test_the_delete_step_runs_as_the_command_does(cloud_env: FakeOpenStack) -> None:
    target = prod_target()
    environment = {**os.environ, ENV_CLUSTER: target.cluster, ENV_TAG: target.tag,
                   ENV_NETWORK: PROD_NET, ENV_SUBNET: "subnet-prod", ENV_RETAIN: "false",
                   "COE_PYTHON": sys.executable}
    done = subprocess.run(["/bin/sh", "-c", LEGACY_DELETE_COMMAND], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"cluster prod (cloud resource tag {PROD_TAG}): deleted 8 object(s), 3 kept")
    assert sorted(cloud_env.cloud.volumes) == ["vol-etcd", "vol-kube", "vol-moved", "vol-q1"]
    # Without its parameters it fails with one line, before touching the cloud.
    del environment[ENV_TAG]
    failed = subprocess.run(["/bin/sh", "-c", LEGACY_DELETE_COMMAND], env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == f"coe cleanup: environment variable(s) {ENV_TAG} must be set"


def test_the_delete_step_authenticates_with_the_stored_provider_settings(
        cloud_env: FakeOpenStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Where destroy runs there is no clouds.yaml and no OS_* credential: only what the stack
    # configured for the provider, stored with the command.
    arguments = connection_arguments({
        "authUrl": cloud_env.auth_url, "userName": "operator", "tenantName": "demo",
        "userDomainName": "Default", "projectDomainName": "Default", "password": PASSWORD})
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("OS_") or key == "OS_REGION_NAME"}
    target = prod_target()
    environment.update({ENV_CLUSTER: target.cluster, ENV_TAG: target.tag,
                        ENV_NETWORK: PROD_NET, ENV_SUBNET: "subnet-prod", ENV_RETAIN: "false",
                        "COE_PYTHON": sys.executable, ENV_PROVIDER: json.dumps(arguments)})
    done = subprocess.run(["/bin/sh", "-c", LEGACY_DELETE_COMMAND], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "deleted 8 object(s)" in done.stdout
    # A wrong stored password fails the step in one line, naming the cluster.
    arguments["auth"]["password"] = "rotated-since"
    environment[ENV_PROVIDER] = json.dumps(arguments)
    failed = subprocess.run(["/bin/sh", "-c", LEGACY_DELETE_COMMAND], env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode == 1
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("coe cleanup: cluster prod: ") and "401" in line


def test_target_rejects_a_tag_that_could_match_by_prefix() -> None:
    with pytest.raises(ValueError, match="cloud resource tag"):
        CleanupTarget(cluster="prod", tag="kube_x", network_id="n", retain_volumes=False)



def test_the_cleanup_resource_deletes_in_the_engines_python_with_no_path(
        cloud_env: FakeOpenStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # What the dynamic provider host does on destroy: create's outputs handed back to delete.
    # No interpreter is looked up (PATH is empty) and no OS_* credential is in reach.
    for key in [k for k in os.environ if k.startswith("OS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PATH", "")
    settings = connection_arguments({
        "authUrl": cloud_env.auth_url, "userName": "operator", "tenantName": "demo",
        "defaultDomain": "default", "password": PASSWORD})
    props: dict[str, Any] = {"cluster": "prod", "tag": PROD_TAG, "networkId": PROD_NET,
             "subnetId": "subnet-prod", "retainVolumes": False, "deleteTimeoutSeconds": 5,
             "cloudSettings": {"cloud": None, "region": "RegionOne",
                               "arguments": json.dumps(settings)}}
    provider = CloudCleanupProvider()
    created = provider.create(props)
    assert created.id == "prod-cloud-cleanup" and cloud_env.cloud.changes == []
    provider.delete(created.id, dict(created.outs or {}))
    assert sorted(cloud_env.cloud.balancers) == ["lb-api", "lb-kube", "lb-pfx", "lb-q1", "lb-q2"]
    assert sorted(cloud_env.cloud.volumes) == ["vol-etcd", "vol-kube", "vol-moved", "vol-q1"]
    # A stored password that no longer works fails the delete in one line.
    settings["auth"]["password"] = "rotated-since"
    props["cloudSettings"]["arguments"] = json.dumps(settings)
    from coe_provider.cleanup.resource import CloudCleanupFailed

    with pytest.raises(CloudCleanupFailed) as failed:
        provider.delete("prod-cloud-cleanup", props)
    assert str(failed.value).startswith("coe cleanup: cluster prod: ")
    assert "\n" not in str(failed.value) and "rotated-since" not in str(failed.value)
