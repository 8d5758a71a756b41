"""One compliance test per registered driver (like Cinder's driver compliance tests).

Every driver found through the ``coe_provider.drivers`` entry points must meet the contract and
build a valid cluster from the same minimal spec.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

from coe_provider.cluster.base import CoeCluster
from coe_provider.cluster.registry import driver_directory, registered_drivers
from coe_provider.plan.secrets import is_secret
from tests.conftest import Recorded, cluster_settings
from tests.validators import cloud_init_schema

DRIVERS = sorted(registered_drivers())
KEYSTONE = {"openstack:authUrl": "https://keystone.test:5000/v3"}
LIST_DETAILED = {"apiAddress", "masterAddresses", "nodeAddresses", "coe", "coeVersion",
                 "nodeGroups"}


@pytest.fixture(scope="module")
def built() -> dict[str, Recorded]:
    """Each driver's cluster from one minimal spec: 1 master, 2 workers."""
    from coe_provider.plan.runner import config_from_stack_file, run_program_directory
    from tests.conftest import REPO

    results = {}
    for name in DRIVERS:
        settings = cluster_settings(name)
        config, secret_keys = config_from_stack_file({"config": {
            "coe:clusters": settings["clusters"], **KEYSTONE}})
        results[name] = Recorded(run_program_directory(REPO, "compliance", config, secret_keys))
    return results


def test_at_least_the_in_tree_drivers_are_registered() -> None:
    assert "k8s_ubuntu" in DRIVERS


@pytest.mark.parametrize("name", DRIVERS)
def test_driver_meets_the_contract(name: str) -> None:
    cls = registered_drivers()[name].cls
    assert issubclass(cls, CoeCluster)
    assert not inspect.isabstract(cls)
    assert driver_directory(cls) == name
    assert cls.type_token().startswith("coe:index:")
    assert issubclass(cls.label_model, BaseModel)
    assert cls.label_model.model_config.get("extra") == "forbid"
    assert cls.provides.server_type in {"vm", "bm"}
    assert isinstance(cls.api_port, int) and 0 < cls.api_port < 65536
    assert cls.driver_version
    assert cls.coe_version(cls.label_model())


@pytest.mark.parametrize("name", DRIVERS)
def test_driver_builds_the_minimal_cluster(name: str, built: dict[str, Recorded]) -> None:
    run = built[name]
    components = [r for r in run.resources if not r.custom]
    assert [c.name for c in components] == ["c1"]
    cluster = components[0]
    # Every OpenStack, tls and random resource is a child of the cluster component.
    for resource in run.resources:
        if resource.custom:
            assert resource.parent == cluster.urn, resource.urn
    assert set(cluster.outputs) >= LIST_DETAILED
    servers = run.of_type("compute/instance:Instance")
    assert sorted(s.name for s in servers) == [
        "c1-default-worker-0", "c1-default-worker-1", "c1-master-0"]
    for server in servers:
        metadata = server.inputs["metadata"]
        group, index = server.name.removeprefix("c1-").rsplit("-", 1)
        assert metadata == {"coe_cluster": "c1", "coe_role": "master" if group == "master"
                            else "worker", "coe_group": group, "coe_index": index}
        assert is_secret(server.inputs["userData"]), "user_data carries credentials"
    detail = run.output("cluster:c1")
    assert detail["coe"] == registered_drivers()[name].coe
    assert [g["name"] for g in detail["nodeGroups"]] == ["master", "default-worker"]
    assert set(detail["nodeAddresses"]) == {"default-worker"}
    assert run.output("clusters")["c1"]["driver"] == name


@pytest.mark.parametrize("name", DRIVERS)
def test_every_rendered_payload_is_valid_cloud_config(name: str,
                                                      built: dict[str, Recorded]) -> None:
    run = built[name]
    for server in run.of_type("compute/instance:Instance"):
        ok, output = cloud_init_schema(Recorded.inputs(server)["userData"])
        assert ok, f"{server.name}: {output}"


def test_a_driver_missing_a_hook_fails_at_import() -> None:
    with pytest.raises(TypeError) as caught:
        class Incomplete(CoeCluster):
            label_model = BaseModel
            api_port = 1
            driver_version = "0"

            def security_rules(self) -> list[Any]:
                return []

    message = str(caught.value)
    for hook in ("bootstrap", "extension_outputs", "coe_version", "provides"):
        assert hook in message
    assert "security_rules" not in message


def test_unknown_driver_lists_the_available_ones(
        run_root_program: Callable[..., Recorded]) -> None:
    from coe_provider.spec.errors import SpecError

    with pytest.raises(SpecError) as caught:
        run_root_program(cluster_settings("mesos_centos"))
    assert "available: " in str(caught.value)
    for name in DRIVERS:
        assert name in str(caught.value)
