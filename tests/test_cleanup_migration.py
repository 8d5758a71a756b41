"""A stack made by 0.1.0, whose cleanup is a ``local.Command`` running ``python3 -m
coe_provider.cleanup``, still destroys; and its next ``pulumi up`` moves it to the dynamic
cleanup without running that command's delete.

The state is ``tests/data/cleanup_migration/plan-0.1.0.json``, recorded by ``coe plan`` at 0.1.0
(see the README beside it). pulumi-command's semantics the migration rests on (its Update
stores the new inputs and runs ``create``; only ``triggers`` replace; its Delete runs nothing
without a ``delete``): pulumi/pulumi-command@010bd8e
provider/pkg/provider/local/commandController.go and provider/pkg/provider/common/inputs.go.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coe_provider.plan.diff import diff_plans
from coe_provider.plan.graph import deleted_before
from coe_provider.plan.replacement import forcing_paths
from coe_provider.plan.secrets import REDACTED
from coe_provider.plan.stackfile import plan_stack_file
from tests.cleanup_fixture import _balancer, _fip, _port, _volume
from tests.fake_openstack import PASSWORD, FakeCloud, FakeOpenStack
from tests.test_cleanup import assert_cleanup_between_servers_and_network

DATA = Path(__file__).parent / "data" / "cleanup_migration"
STACK_FILE = DATA / "Pulumi.prod.yaml"
RECORDED = DATA / "plan-0.1.0.json"
COMMAND = ("urn:pulumi:prod::coe-provider::coe:index:KubernetesUbuntuCluster"
           "$command:local:Command::prod-cloud-cleanup")


def _recorded() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RECORDED.read_text())
    return document


def _resource(document: dict[str, Any], urn: str) -> dict[str, Any]:
    [found] = [r for r in document["resources"] if r["urn"] == urn]
    return found


def test_the_next_update_moves_the_stack_without_running_its_cleanup() -> None:
    before = _recorded()
    plan = plan_stack_file(STACK_FILE, STACK_FILE.parents[3], RECORDED)
    after = plan.as_json()
    diff = diff_plans(before, after)
    assert [(c.type, c.name) for c in diff.creates] == [
        ("pulumi-python:dynamic:Resource", "prod-cleanup")]
    assert diff.deletes == [] and diff.replaces == []
    [update] = diff.updates
    assert update.urn == COMMAND
    assert sorted(c.path for c in update.changes) == [
        "delete", "environment.COE_CLEANUP_PROVIDER_SETTINGS"]
    assert forcing_paths(update.type, update.changes) == []
    old, new = _resource(before, COMMAND)["inputs"], _resource(after, COMMAND)["inputs"]
    # The update runs ``create`` (no ``update`` is set): the same echo as at creation.
    assert new["create"] == old["create"] and "update" not in new
    assert old["delete"] == '"${COE_PYTHON:-python3}" -m coe_provider.cleanup'
    # Stored for the later destroy: no delete, and nothing secret in the environment.
    assert "delete" not in new and REDACTED not in json.dumps(new)
    # Every other resource keeps its URN and inputs (servers only gain a dependency).
    assert {r["urn"] for r in after["resources"]} - {r["urn"] for r in before["resources"]} \
        == {diff.creates[0].urn}
    # This is k8s-ha with a bastion and drainOnDelete: the engine orders the cleanup after
    # every node's server and its drain, and neither before nor after the bastion.
    assert_cleanup_between_servers_and_network(plan.resources, "prod")
    order = deleted_before(plan.resources)
    [cleanup] = [r for r in plan.resources if r.name == "prod-cleanup"]
    [bastion] = [r for r in plan.resources
                 if r.name == "prod-bastion" and r.type.endswith(":Instance")]
    drains = [r.urn for r in plan.resources if r.name.endswith("-drain")]
    assert len(drains) == 5 and set(drains) <= order[cleanup.urn]
    assert bastion.urn not in order[cleanup.urn] and cleanup.urn not in order[bastion.urn]


@pytest.fixture
def recorded_cloud(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeOpenStack]:
    """The recorded cluster's cloud after its servers went, but its bastion is still up."""
    environment = _resource(_recorded(), COMMAND)["inputs"]["environment"]
    tag, network = environment["COE_CLEANUP_TAG"], environment["COE_CLEANUP_NETWORK_ID"]
    cloud = FakeCloud()
    svc = "Kubernetes external service default/web"
    cloud.balancers["lb-1"] = _balancer("lb-1", f"kube_service_{tag}_default_web", "vip-1",
                                        network, f"{svc} from cluster {tag}")
    for port in (_port("vip-1", "octavia-lb-lb-1", network, "lb-lb-1", "Octavia"),
                 _port("port-b", "prod-bastion", network, "server-b", "compute:nova",
                       ["coe-cluster=prod"]),
                 _port("port-m0", "prod-master-0", network, tags=["coe-cluster=prod"])):
        cloud.ports[port["id"]] = port
    cloud.floating_ips["fip-1"] = _fip("fip-1", "203.0.113.9",
                                       f"Floating IP for {svc} from cluster {tag}", "vip-1")
    cloud.volumes["vol-1"] = _volume("vol-1", "pvc-1", {"cinder.csi.openstack.org/cluster": tag})
    cloud.servers["server-b"] = {"id": "server-b", "name": "prod-bastion"}
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with FakeOpenStack(cloud) as fake:
        yield fake


def test_a_stack_destroyed_before_that_update_still_cleans_up(
        recorded_cloud: FakeOpenStack) -> None:
    command = _resource(_recorded(), COMMAND)["inputs"]
    # The state holds the provider settings 0.1.0 encoded (``default_domain`` included, which
    # the password plugin refused); the plan shows them redacted, so put the stored value back.
    stored = {"auth": {"auth_url": recorded_cloud.auth_url, "username": "operator",
                       "password": PASSWORD, "project_name": "demo",
                       "user_domain_name": "Default", "default_domain": "default"}}
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OS_")}
    environment.update(command["environment"])
    assert environment["COE_CLEANUP_PROVIDER_SETTINGS"] == REDACTED
    environment["COE_CLEANUP_PROVIDER_SETTINGS"] = json.dumps(stored)
    # As 0.1.0 required: this package's python3 first on PATH (no COE_PYTHON).
    environment.pop("COE_PYTHON", None)
    environment["PATH"] = f"{Path(sys.executable).parent}:{os.defpath}"
    done = subprocess.run(["/bin/sh", "-c", command["delete"]], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    cloud = recorded_cloud.cloud
    assert cloud.balancers == {} and cloud.floating_ips == {} and cloud.volumes == {}
    assert sorted(cloud.ports) == ["port-b", "port-m0"]
    assert not [r for r in cloud.requests if "port-b" in r[1] or "server-b" in r[1]]
