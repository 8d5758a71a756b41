"""The readiness gate under the mocks runtime: one per cluster, after every server, secret
credentials only, the route it takes, and a diff that waits again only when the cluster
changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from coe_provider.health.gate import ReadinessProvider
from coe_provider.health.outputs import target_from_detail
from coe_provider.health.target import WATCHED_INPUTS, HealthTarget
from coe_provider.plan.secrets import is_secret, reveal
from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import REPO, Recorded, cluster_settings

Run = Callable[..., Recorded]

GATE = "pulumi-python:dynamic:Resource"
"""The gate's type token (a Python dynamic resource)."""

PUBLIC_API = {"masterLbEnabled": True}
"""With the minimal template's external network, the API gets a floating IP."""

K8S_LABELS = {"cloud_provider_enabled": False}


def gated(driver: str, labels: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """Settings of one cluster with the gate on."""
    settings = cluster_settings(driver, labels, **fields)
    settings["clusters"]["c1"]["waitForReady"] = True
    return settings


def gates(run: Recorded) -> list[Any]:
    """The final readiness gates (a Kubernetes cluster whose add-ons come from the program
    also has a first stage, ``<cluster>-api-ready``)."""
    return [r for r in run.resources if r.type == GATE and not r.name.endswith("-api-ready")]


@pytest.mark.parametrize(("driver", "labels"), [("k8s_ubuntu", K8S_LABELS),
                                                 ("swarm_ubuntu", {})])
def test_one_gate_per_cluster_after_every_server(run_root_program: Run, driver: str,
                                                 labels: dict[str, Any]) -> None:
    run = run_root_program(gated(driver, labels, masterCount=3, template=PUBLIC_API))
    [gate] = gates(run)
    assert gate.name == "c1-ready"
    servers = run.of_type("compute/instance:Instance")
    assert len(servers) == 5
    assert {s.urn for s in servers} <= set(gate.dependencies)
    inputs = Recorded.inputs(gate)
    assert [n["name"] for n in inputs["expectedNodes"]] == [
        "c1-master-0", "c1-master-1", "c1-master-2", "c1-default-worker-0",
        "c1-default-worker-1"]
    assert [n["role"] for n in inputs["expectedNodes"]].count("master") == 3
    assert len(inputs["serverIds"]) == 5
    # Straight to the balancer's floating IP, not through a bastion.
    floating = run.named("networking/floatingIp:FloatingIp", "c1-api")
    assert inputs["apiHost"] == floating.outputs["address"]
    assert inputs.get("bastionHost") is None and inputs.get("sshPrivateKey") is None
    assert inputs["timeoutSeconds"] == 3600
    staged = [r for r in run.resources if r.type == GATE and r.name == "c1-api-ready"]
    assert len(staged) == (1 if driver == "k8s_ubuntu" else 0)
    for api in staged:
        assert {s.urn for s in servers} <= set(api.dependencies)
        assert Recorded.inputs(api)["stage"] == "api"


def test_credentials_are_secret_and_nothing_else_is(run_root_program: Run) -> None:
    run = run_root_program(gated("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API))
    [gate] = gates(run)
    assert is_secret(gate.inputs["credentials"])
    revealed = Recorded.inputs(gate)["credentials"]
    assert revealed["key"].startswith("-----BEGIN") and "PRIVATE KEY" in revealed["key"]
    plan_text = run.plan.dumps()
    assert revealed["key"] not in plan_text and revealed["cert"] not in plan_text
    assert not is_secret(gate.inputs["expectedNodes"])


def test_the_providers_settings_reach_the_gate_as_a_secret(run_root_program: Run) -> None:
    run = run_root_program(gated("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API), {
        "openstack:cloud": "mycloud", "openstack:region": "RegionTwo",
        "openstack:userName": "operator", "openstack:password": "stack-password"})
    [gate] = gates(run)
    settings = gate.inputs["openstack"]
    assert settings["cloud"] == "mycloud" and settings["region"] == "RegionTwo"
    assert is_secret(settings["arguments"])
    assert json.loads(reveal(settings["arguments"])) == {
        "auth": {"username": "operator", "password": "stack-password"}}
    assert "stack-password" not in run.plan.dumps()
    # Without provider settings in the stack, the gate uses clouds.yaml / OS_* where it runs.
    [plain] = gates(run_root_program(gated("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API)))
    assert Recorded.inputs(plain)["openstack"] == {"cloud": None, "region": None,
                                                   "arguments": None}


def test_bastion_route_tunnels_to_the_internal_address(run_root_program: Run) -> None:
    settings = gated("swarm_ubuntu", template={
        "bastion": True, "masterLbEnabled": True, "masterLbFloatingIpEnabled": False,
        "sshAllowedCidrs": ["192.0.2.0/24"]}, masterCount=3)
    run = run_root_program(settings)
    [gate] = gates(run)
    inputs = Recorded.inputs(gate)
    vip_port = run.named("networking/port:Port", "c1-api-vip")
    assert inputs["apiHost"] == vip_port.outputs["allFixedIps"][0]
    assert inputs["bastionHost"] and inputs["sshUser"] == "coe"
    assert is_secret(gate.inputs["sshPrivateKey"])
    assert run.named("compute/instance:Instance", "c1-bastion").urn in gate.dependencies
    # coe status reaches the same address the same way, from the stack outputs alone.
    from_outputs = target_from_detail("c1", run.output("cluster:c1"))
    assert from_outputs == HealthTarget.from_props(inputs)


def test_status_targets_the_same_api_as_the_gate(run_root_program: Run) -> None:
    run = run_root_program(gated("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API))
    [gate] = gates(run)
    assert target_from_detail("c1", run.output("cluster:c1")) == HealthTarget.from_props(
        Recorded.inputs(gate))


def test_no_gate_when_turned_off(run_root_program: Run) -> None:
    settings = cluster_settings("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API)
    assert settings["clusters"]["c1"]["waitForReady"] is False
    assert gates(run_root_program(settings)) == []


def test_no_route_is_refused_at_validation() -> None:
    with pytest.raises(SpecError) as raised:
        resolve_clusters(gated("k8s_ubuntu", K8S_LABELS), REPO)
    [issue] = raised.value.issues
    assert issue.path == "clusters.c1.waitForReady"
    assert "waitForReady: false" in issue.rule and "bastion" in issue.rule


def test_a_master_floating_ip_is_a_route() -> None:
    settings = gated("k8s_ubuntu", K8S_LABELS, template={"floatingIpEnabled": True})
    assert resolve_clusters(settings, REPO)["c1"].spec.wait_for_ready


def test_ready_timeout_is_bounded() -> None:
    with pytest.raises(SpecError) as raised:
        resolve_clusters(gated("k8s_ubuntu", K8S_LABELS, template=PUBLIC_API,
                               readyTimeout=10), REPO)
    assert [issue.path for issue in raised.value.issues] == ["clusters.c1.readyTimeout"]


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    return {key: props.get(key) for key in (*WATCHED_INPUTS, "timeoutSeconds")}


def test_diff_waits_again_only_when_the_cluster_changed(run_root_program: Run) -> None:
    run = run_root_program(gated("swarm_ubuntu", template=PUBLIC_API))
    news = Recorded.inputs(gates(run)[0])
    olds = _outputs(news)
    provider = ReadinessProvider()
    # Another machine or virtualenv: the pickled provider and the timeout may differ, the
    # credentials are the same secrets; none of it is a change.
    moved = {**news, "__provider": "another pickle", "timeoutSeconds": 7200}
    assert provider.diff("c1-ready", olds, moved).changes is False
    grown = {**news, "expectedNodes": [*news["expectedNodes"],
                                       {"name": "c1-default-worker-2", "role": "worker",
                                        "group": "default-worker"}]}
    assert provider.diff("c1-ready", olds, grown).changes is True
    replaced = {**news, "serverIds": [*news["serverIds"][:-1], "a-new-server-id"]}
    result = provider.diff("c1-ready", olds, replaced)
    assert result.changes is True and result.replaces == []
