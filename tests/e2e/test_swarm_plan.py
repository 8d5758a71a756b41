"""The plan the swarm end-to-end test boots, checked without VMs (runs in the default suite).

If these fail, the VMs would boot the wrong thing; they are cheap enough to run everywhere.
"""

from __future__ import annotations

import datetime
import ipaddress
import shlex

import pytest
import yaml
from cryptography import x509

from coe_provider.health.outputs import targets_from_outputs
from coe_provider.health.target import HealthTarget
from coe_provider.plan.diff import diff_plans
from tests.e2e.swarm_plan import (
    API_FLOATING_IP,
    BASTION_FLOATING_IP,
    JOIN_TOKEN,
    MIRROR_HOST,
    NODE_ADDRESSES,
    READY_TIMEOUT,
    TEST_APT_MIRRORS,
    VOLUME_GIB,
    PlannedSwarm,
    plan_swarm,
)
from tests.validators import files_in


@pytest.fixture(scope="module")
def planned() -> PlannedSwarm:
    """One plan for the module."""
    return plan_swarm()


def written_files(user_data: str) -> dict[str, str]:
    """path -> content of a cloud-config's write_files (gzip'd scripts unpacked)."""
    return files_in(user_data)


def env(text: str) -> dict[str, str]:
    """KEY='value' lines as a mapping."""
    return {key: shlex.split(value)[0] if value else ""
            for key, _, value in (line.partition("=") for line in text.splitlines() if line)}


def test_each_node_gets_the_address_of_its_vm(planned: PlannedSwarm) -> None:
    planned_addresses = {node.name: node.address for node in (*planned.nodes, planned.bastion)}
    assert planned_addresses == {name: address for name, address in NODE_ADDRESSES.items()
                                 if name != "e2e-workers-1"}
    assert planned.outputs["bastionAddress"] == BASTION_FLOATING_IP
    managers = " ".join(NODE_ADDRESSES[f"e2e-master-{i}"] for i in range(3))
    for node in planned.nodes:
        files = written_files(node.user_data)
        assert env(files["/etc/coe/node.env"])["COE_NODE_ADDRESS"] == node.address
        assert env(files["/etc/coe/driver.env"])["SWARM_MANAGERS"] == managers
    assert planned.outputs["masterAddresses"] == managers.split()


def test_disks_are_what_nova_would_attach(planned: PlannedSwarm) -> None:
    for node in planned.nodes:
        sizes = [disk.size_gib for disk in node.disks]
        ids = [disk.volume_id for disk in node.disks]
        if "master" in node.name:
            assert sizes == [VOLUME_GIB, VOLUME_GIB] and ids[0] == "" and len(ids[1]) == 36
            node_env = env(written_files(node.user_data)["/etc/coe/node.env"])
            assert node_env["COE_ETCD_VOLUME_ID"] == ids[1]
        else:
            assert sizes == [VOLUME_GIB] and ids == [""]


def test_no_join_token_is_planned(planned: PlannedSwarm) -> None:
    # The scripts are written gzip'd: search them unpacked as well as the plan itself.
    scripts = "".join("".join(written_files(node.user_data).values()) for node in planned.nodes)
    assert "SWMTKN-1-" in scripts  # the bootstrap's own check names the prefix
    assert not JOIN_TOKEN.search(planned.everything + scripts)


def test_certificates_are_real_and_valid_now(planned: PlannedSwarm) -> None:
    bundle = planned.outputs["dockerTls"]
    ca = x509.load_pem_x509_certificate(bundle["ca.pem"].encode())
    client = x509.load_pem_x509_certificate(bundle["cert.pem"].encode())
    client.verify_directly_issued_by(ca)
    now = datetime.datetime.now(datetime.UTC)
    for cert in (ca, client):
        assert cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    first = planned.nodes[0]
    server = x509.load_pem_x509_certificate(
        written_files(first.user_data)["/etc/docker/tls/server-cert.pem"].encode())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address(first.address) in names.get_values_for_type(x509.IPAddress)
    # Through the "balancer's floating IP" the test forwards, the certificate still matches.
    assert ipaddress.ip_address(API_FLOATING_IP) in names.get_values_for_type(x509.IPAddress)


def test_the_gate_and_coe_status_ask_the_api_at_its_floating_ip(
        planned: PlannedSwarm) -> None:
    gate = HealthTarget.from_props(planned.gate)
    assert (gate.api_host, gate.api_port, gate.tunnel) == (API_FLOATING_IP, 2376, None)
    assert [node.name for node in gate.expected] == [node.name for node in planned.nodes]
    assert planned.gate["timeoutSeconds"] == READY_TIMEOUT
    assert targets_from_outputs(planned.stack_outputs) == [gate]


def test_growing_and_removing_keep_the_crypto_and_the_other_nodes(
        planned: PlannedSwarm) -> None:
    """The lifecycle's later plans (with the first as state) change only what they must."""
    grown = plan_swarm(workers=2, previous=planned)
    assert grown.node("e2e-workers-1").address == NODE_ADDRESSES["e2e-workers-1"]
    for node in planned.nodes:
        assert grown.node(node.name).user_data == node.user_data, node.name
    assert grown.outputs["dockerTls"] == planned.outputs["dockerTls"]
    removed = plan_swarm(workers=1, remove=(0,), previous=grown)
    assert [node.name for node in removed.nodes][-1] == "e2e-workers-1"
    assert "e2e-workers-0" not in removed.removals
    assert sorted(removed.removals) == ["e2e-master-0", "e2e-master-1", "e2e-master-2",
                                        "e2e-workers-1"]


def test_the_mirrors_step_2_names_reach_only_the_new_worker(planned: PlannedSwarm) -> None:
    """Step 2's plan: the template names the bastion's mirrors; the new worker's cloud-config
    points apt at them, and the nodes that exist keep the user_data they were built with."""
    grown = plan_swarm(workers=2, previous=planned, apt_mirrors=TEST_APT_MIRRORS)
    apt = yaml.safe_load(grown.node("e2e-workers-1").user_data)["apt"]
    assert apt == {
        "preserve_sources_list": False,
        "primary": [{"arches": ["default"], "uri": f"http://{MIRROR_HOST}:8080/debian"}],
        "security": [{"arches": ["default"],
                      "uri": f"http://{MIRROR_HOST}:8080/debian-security"}]}
    diff = diff_plans(planned.document, grown.document)
    assert sorted(change.name for change in diff.creates) == [
        "e2e-workers-1", "e2e-workers-1", "e2e-workers-1-drain"]
    assert [change.name for change in diff.updates] == ["e2e-ready"]
    assert diff.replaces == [] and diff.deletes == []
    # Later plans keep the mirrors (the template still names them).
    removed = plan_swarm(workers=1, remove=(0,), previous=grown)
    assert removed.apt_mirrors == TEST_APT_MIRRORS
