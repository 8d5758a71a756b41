"""The API listener always admits the cluster's own subnet, whatever apiAllowedCidrs says.

Octavia turns a non-empty ``allowed_cidrs`` into deny-all-but-these on the VIP, and the nodes
reach their own API through the VIP (kubeadm's controlPlaneEndpoint, Swarm joins, the gate
through the bastion). Every example is rendered under the mocks and its listeners checked.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest

from coe_provider.cluster.loadbalancer import effective_allowed_cidrs
from coe_provider.plan.audit import audit_plan
from coe_provider.plan.openstack_answers import PLACEHOLDER_SUBNET_CIDR
from coe_provider.plan.stackfile import plan_stack_file
from tests.conftest import EXAMPLES, Recorded, cluster_settings

EXAMPLE_NAMES = sorted(p.parent.name for p in EXAMPLES.glob("*/Pulumi.*.yaml")
                       if p.name != "Pulumi.yaml")
LISTENER = "loadbalancer/listener:Listener"


def admits(allowed: list[str], cidr: str) -> bool:
    """Whether a listener with ``allowed`` admits every address of ``cidr``."""
    wanted = ipaddress.ip_network(cidr)
    return not allowed or any(
        wanted.version == n.version and wanted.subnet_of(n)  # type: ignore[arg-type]
        for n in map(ipaddress.ip_network, allowed))


def listeners(recorded: Recorded) -> dict[str, list[str]]:
    """Each listener's cluster name and its effective allowed CIDRs."""
    return {r.name.removesuffix("-api"): list(recorded.inputs(r).get("allowedCidrs") or [])
            for r in recorded.of_type(LISTENER)}


def subnet_cidr(recorded: Recorded, cluster: str) -> str:
    """The cluster's managed subnet, or what the offline answers give an existing one."""
    subnets = [r for r in recorded.of_type("networking/subnet:Subnet") if r.name == cluster]
    return str(recorded.inputs(subnets[0])["cidr"]) if subnets else PLACEHOLDER_SUBNET_CIDR


@pytest.mark.parametrize(("requested", "cluster", "effective"), [
    (["203.0.113.0/24"], ["10.0.0.0/22"], ["203.0.113.0/24", "10.0.0.0/22"]),
    (["0.0.0.0/0"], ["10.0.0.0/24"], ["0.0.0.0/0"]),
    (["10.0.0.0/8"], ["10.0.0.0/24"], ["10.0.0.0/8"]),
    ([], ["10.0.0.0/24"], []),
    (["2001:db8::/32"], ["10.0.0.0/24"], ["2001:db8::/32", "10.0.0.0/24"]),
])
def test_the_effective_list(requested: list[str], cluster: list[str],
                            effective: list[str]) -> None:
    assert effective_allowed_cidrs(requested, cluster) == effective


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_listener_admits_its_subnet(
        name: str, run_example: Callable[[str], Recorded]) -> None:
    recorded = run_example(name)
    for cluster, allowed in listeners(recorded).items():
        cidr = subnet_cidr(recorded, cluster)
        assert admits(allowed, cidr), f"{name}/{cluster}: {allowed} shuts out {cidr}"


def test_the_restricted_ha_example_gains_its_subnet(
        run_example: Callable[[str], Recorded]) -> None:
    found = listeners(run_example("k8s-ha"))
    assert found == {"prod": ["203.0.113.0/24", "198.51.100.0/24", "10.0.0.0/22"]}


@pytest.mark.parametrize("driver", ["k8s_ubuntu", "swarm_ubuntu"])
def test_an_existing_subnet_is_admitted_by_its_looked_up_cidr(
        driver: str, run_root_program: Callable[..., Recorded]) -> None:
    labels: dict[str, Any] = {"cloud_provider_enabled": False} if driver == "k8s_ubuntu" else {}
    recorded = run_root_program(cluster_settings(
        driver, labels, masterCount=3, template={
            "fixedNetwork": "shared", "fixedSubnet": "shared-v4", "masterLbEnabled": True,
            "apiAllowedCidrs": ["203.0.113.0/24"]}))
    assert listeners(recorded) == {"c1": ["203.0.113.0/24", PLACEHOLDER_SUBNET_CIDR]}


def test_audit_shows_the_effective_list_and_fails_a_listener_that_shuts_out_its_subnet() -> None:
    plan = plan_stack_file(EXAMPLES / "k8s-ha" / "Pulumi.prod.yaml").as_json()
    good = audit_plan(plan)
    rows = [row for row in good.exposure if row["kind"] == "listener"]
    assert [(row["resource"], row["cidrs"]) for row in rows] == [
        ("prod-api", ["203.0.113.0/24", "198.51.100.0/24", "10.0.0.0/22"])]
    assert good.failures == []
    # The same listener as an older release rendered it: only the offices.
    (listener,) = [r for r in plan["resources"] if r["type"].endswith(LISTENER)]
    listener["inputs"]["allowedCidrs"] = ["203.0.113.0/24", "198.51.100.0/24"]
    bad = audit_plan(plan)
    assert [(f.policy, f.resource) for f in bad.failures] == [
        ("api-listener-admits-cluster-subnet", "prod-api")]
    assert "shuts out the cluster subnet 10.0.0.0/22" in bad.failures[0].message


def test_a_bastion_sits_on_the_admitted_subnet(
        run_root_program: Callable[..., Recorded]) -> None:
    """The gate reaches the VIP through the bastion: its port is on the subnet the balancer's
    members are on, whose CIDR the listener admits, so its address is always admitted."""
    recorded = run_root_program(cluster_settings(
        "k8s_ubuntu", {"cloud_provider_enabled": False}, masterCount=3, template={
            "masterLbEnabled": True, "bastion": True, "subnetCidr": "10.20.0.0/24",
            "sshAllowedCidrs": ["192.0.2.10/32"],
            "apiAllowedCidrs": ["203.0.113.0/24"]}))
    assert listeners(recorded) == {"c1": ["203.0.113.0/24", "10.20.0.0/24"]}
    port = recorded.named("networking/port:Port", "c1-bastion")
    members = [recorded.inputs(m) for m in recorded.of_type("loadbalancer/member:Member")]
    assert len(members) == 3
    assert {m["subnetId"] for m in members} == {
        recorded.inputs(port)["fixedIps"][0]["subnetId"]}
