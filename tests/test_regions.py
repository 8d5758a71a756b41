"""Clusters in other clouds or regions: ``clusters.<name>.openstack`` makes the cluster's own
OpenStack provider, and its readiness gate, cleanup and cloud controller use the same settings;
an OpenStack provider passed in ``opts`` that the component cannot read is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_openstack as openstack
import pytest
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.openstack.provider import ClusterProvider
from coe_provider.plan.secrets import reveal
from coe_provider.spec.errors import SpecError
from coe_provider.spec.models import ClusterOpenStack, ClusterSpec
from tests.conftest import EXAMPLES, MINIMAL_TEMPLATE, Recorded


def _provider_of(recorded: Recorded, resource: Any) -> str:
    return str(resource.options.get("provider", "")).rsplit("::", 1)[-1]


def test_two_regions_each_cluster_uses_its_own_provider_everywhere(
        run_example: Callable[[str], Recorded]) -> None:
    recorded = run_example("two-regions")
    providers = {r.name: reveal(r.inputs) for r in recorded.of_type("pulumi:providers:openstack")}
    assert providers == {"east-openstack": {"cloud": "mycloud", "region": "RegionEast"},
                         "west-openstack": {"cloud": "mycloud", "region": "RegionWest"}}
    for cluster, region in (("east", "RegionEast"), ("west", "RegionWest")):
        custom = [r for r in recorded.resources
                  if r.type.startswith("openstack:") and r.name.startswith(f"{cluster}-")]
        assert custom and {_provider_of(recorded, r) for r in custom} == {f"{cluster}-openstack"}
        gate = recorded.named("dynamic:Resource", f"{cluster}-ready")
        cleanup = recorded.named("dynamic:Resource", f"{cluster}-cleanup")
        expected = {"cloud": "mycloud", "region": region, "arguments": None}
        assert recorded.inputs(gate)["openstack"] == expected
        assert recorded.inputs(cleanup)["cloudSettings"] == expected
        assert recorded.output(f"cluster:{cluster}")["cloudCleanup"]["region"] == region
        # The cloud controller manager in the cluster talks to the same region (its
        # cloud-config Secret, made by the program through the cluster's own provider).
        secret = recorded.named("core/v1:Secret", f"{cluster}-cloud-config")
        assert f"region={region}" in recorded.inputs(secret)["stringData"]["cloud.conf"]
        assert secret.options["provider"].startswith(
            recorded.named("providers:kubernetes", f"{cluster}-kubernetes").urn)


def test_coe_plan_shows_each_clusters_provider() -> None:
    result = CliRunner().invoke(app, ["plan", str(EXAMPLES / "two-regions/Pulumi.prod.yaml"),
                                      "--tree-limit", "0"])
    assert result.exit_code == 0, result.output
    assert "east  coe.KubernetesUbuntuCluster  [openstack: east-openstack]" in result.output
    assert "west-openstack  pulumi.providers.openstack  (cloud mycloud, region RegionWest)" \
        in result.output


def test_stacks_without_the_field_use_the_default_provider(
        run_example: Callable[[str], Recorded]) -> None:
    recorded = run_example("k8s-ha")
    assert recorded.of_type("pulumi:providers:openstack") == []
    # Only the add-ons name a provider: the cluster's own Kubernetes provider.
    assert not [r for r in recorded.resources if not r.type.startswith("kubernetes:")
                and ("provider" in r.options or "providers" in r.options)]
    kubernetes = recorded.named("providers:kubernetes", "prod-kubernetes").urn
    plan = recorded.plan.as_json()
    named_providers = [str(r["options"]["provider"]) for r in plan["resources"]
                       if "provider" in r["options"]]
    assert named_providers
    assert all(reference == kubernetes or reference.startswith(f"{kubernetes}::")
               for reference in named_providers)
    assert '"providers"' not in json.dumps(plan)


def _cluster(spec: ClusterSpec | dict[str, Any], opts: pulumi.ResourceOptions | None) -> Any:
    from coe_provider_drivers.k8s_ubuntu import KubernetesUbuntuCluster

    return KubernetesUbuntuCluster("c", spec, opts)


SPEC: dict[str, Any] = {"driver": "k8s_ubuntu", "template": {
    **MINIMAL_TEMPLATE, "labels": {"openstack_auth_url": "https://keystone.example:5000/v3"}},
    "nodeGroups": [{"name": "a", "count": 1}], "waitForReady": False}


def test_the_spec_field_works_from_python(
        run_program: Callable[[Callable[[], Any]], Recorded]) -> None:
    spec = ClusterSpec.model_validate(SPEC).model_copy(
        update={"openstack": ClusterOpenStack(cloud="other", region="RegionTwo")})
    recorded = run_program(lambda: _cluster(spec, None))
    [provider] = recorded.of_type("pulumi:providers:openstack")
    assert provider.name == "c-openstack"
    assert reveal(provider.inputs) == {"cloud": "other", "region": "RegionTwo"}
    cleanup = recorded.named("dynamic:Resource", "c-cleanup")
    assert recorded.inputs(cleanup)["cloudSettings"]["region"] == "RegionTwo"


def test_a_readable_provider_in_opts_is_used(
        run_program: Callable[[Callable[[], Any]], Recorded]) -> None:
    def program() -> None:
        provider = ClusterProvider("mine", ClusterOpenStack(region="RegionThree"))
        _cluster(SPEC, pulumi.ResourceOptions(providers=[provider]))

    recorded = run_program(program)
    cleanup = recorded.named("dynamic:Resource", "c-cleanup")
    assert recorded.inputs(cleanup)["cloudSettings"] == {
        "cloud": None, "region": "RegionThree", "arguments": None}
    network = recorded.named("networking/network:Network", "c")
    assert _provider_of(recorded, network) == "mine"


@pytest.mark.parametrize("how", ["provider", "providers-list", "providers-map"])
def test_an_unreadable_provider_in_opts_is_refused_in_one_line(
        run_program: Callable[[Callable[[], Any]], Recorded], how: str) -> None:
    registered: list[str] = []

    def program() -> None:
        provider = openstack.Provider("other", region="RegionTwo")
        opts = {"provider": pulumi.ResourceOptions(provider=provider),
                "providers-list": pulumi.ResourceOptions(providers=[provider]),
                "providers-map": pulumi.ResourceOptions(providers={"openstack": provider})}[how]
        try:
            _cluster(SPEC, opts)
        except SpecError as error:
            registered.append(str(error))

    recorded = run_program(program)
    [message] = registered
    assert len(message.strip().splitlines()) == 1
    assert message.strip().startswith("c.openstack: an OpenStack provider passed in opts "
                                      "cannot be read")
    # Nothing of the cluster was registered.
    assert not [r for r in recorded.resources if r.name.startswith("c")]
