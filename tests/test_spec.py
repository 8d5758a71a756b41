"""Spec validation: each bad input names its path and rule, and registers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from coe_provider.cluster.registry import DriverNotFound, find_driver
from coe_provider.spec.errors import SpecError
from coe_provider.spec.models import ClusterSpec, NodeGroupSpec
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import REPO, Recorded, cluster_settings

K8S = {"cloud_provider_enabled": False}


def errors_of(settings: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        resolve_clusters(settings, REPO)
    return [str(issue) for issue in caught.value.issues]


BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    ("even masters", cluster_settings("k8s_ubuntu", K8S, masterCount=2,
                                      template={"masterLbEnabled": True}),
     "clusters.c1.masterCount: must be odd for etcd quorum (got 2)"),
    ("zero masters", cluster_settings("k8s_ubuntu", K8S, masterCount=0),
     "clusters.c1.masterCount: must be at least 1 (got 0)"),
    ("three masters without LB", cluster_settings("k8s_ubuntu", K8S, masterCount=3),
     "clusters.c1.template.masterLbEnabled: must be true when masterCount > 1"),
    ("count above max", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 5, "maxCount": 3}]),
     "clusters.c1.nodeGroups[0].count: must be <= maxCount 3 (got 5)"),
    ("count below min", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 1, "minCount": 2}]),
     "clusters.c1.nodeGroups[0].count: must be >= minCount 2 (got 1)"),
    ("count beyond Kubernetes' limit", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 6000}]),
     "clusters.c1.nodeGroups[0].count: Input should be less than or equal to 5000"),
    ("duplicate groups", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 1}, {"name": "w", "count": 1}]),
     "clusters.c1.nodeGroups[1].name: duplicate node group name 'w'"),
    ("bad group name", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "Bad_Name", "count": 1}]),
     "clusters.c1.nodeGroups[0].name: node group name must be lowercase"),
    ("bad cidr", cluster_settings("k8s_ubuntu", K8S, template={"subnetCidr": "10.0.0.1/24"}),
     "clusters.c1.template.subnetCidr: must be a network in CIDR notation"),
    ("bad api cidr", cluster_settings("k8s_ubuntu", K8S, template={"apiAllowedCidrs": ["x"]}),
     "clusters.c1.template.apiAllowedCidrs: item [0] must be a network in CIDR notation"),
    ("bad dns", cluster_settings("k8s_ubuntu", K8S, template={"dnsNameservers": ["1.1.1"]}),
     "clusters.c1.template.dnsNameservers: item [0] must be an IP address"),
    ("bad proxy", cluster_settings("k8s_ubuntu", K8S, template={"httpProxy": "proxy:3128"}),
     "clusters.c1.template.httpProxy: must be a proxy URL"),
    ("fixed subnet alone", cluster_settings("k8s_ubuntu", K8S, template={"fixedSubnet": "s"}),
     "clusters.c1.template.fixedSubnet: requires fixedNetwork"),
    ("unknown field", cluster_settings("k8s_ubuntu", K8S, masterCont=3),
     "clusters.c1.masterCont: unknown field"),
    ("unknown label", cluster_settings("k8s_ubuntu", {**K8S, "kube_tga": "v1.36.4"}),
     "clusters.c1.labels.kube_tga: unknown label for driver k8s_ubuntu (known labels: "),
    ("label wrong kind", cluster_settings("k8s_ubuntu", {**K8S, "cni": "weave"}),
     "clusters.c1.labels.cni: Input should be 'calico' or 'flannel'"),
    ("overlapping pod cidr", cluster_settings("k8s_ubuntu", {**K8S, "pod_cidr": "10.0.0.0/8"}),
     "clusters.c1.labels.pod_cidr: overlaps the node subnet 10.0.0.0/24"),
    ("unknown driver", cluster_settings("k8s_nope", K8S),
     "clusters.c1.driver: unknown driver 'k8s_nope'; available: k8s_ubuntu"),
    ("text master count", cluster_settings("k8s_ubuntu", K8S, masterCount="three"),
     "clusters.c1.masterCount: input should be a valid integer"),
    ("negative remove", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 1, "remove": [-1]}]),
     "clusters.c1.nodeGroups[0].remove: node indices must be >= 0 (got -1)"),
    ("subnet too small", cluster_settings(
        "k8s_ubuntu", K8S, nodeGroups=[{"name": "w", "count": 300}]),
     "clusters.c1.template.subnetCidr: too small for 301 nodes"),
    ("no clusters", {}, "clusters: no clusters configured"),
    ("node groups not a list", cluster_settings("k8s_ubuntu", K8S, nodeGroups={"name": "w"}),
     "clusters.c1.nodeGroups: must be a list of node groups"),
]


@pytest.mark.parametrize(("case", "settings", "expected"), BAD_INPUTS,
                         ids=[case for case, _, _ in BAD_INPUTS])
def test_bad_input_names_path_and_rule(case: str, settings: dict[str, Any],
                                       expected: str) -> None:
    messages = errors_of(settings)
    assert any(message.startswith(expected) for message in messages), messages


@pytest.mark.parametrize(("case", "settings", "expected"), BAD_INPUTS[:6],
                         ids=[case for case, _, _ in BAD_INPUTS[:6]])
def test_bad_input_registers_nothing(case: str, settings: dict[str, Any], expected: str,
                                     run_root_program: Callable[..., Recorded]) -> None:
    with pytest.raises(SpecError) as caught:
        run_root_program(settings)
    assert any(str(i).startswith(expected) for i in caught.value.issues)
    from pulumi.runtime import settings as runtime_settings

    from coe_provider.plan.recorder import RecordingMonitor

    monitor = runtime_settings.SETTINGS.monitor
    assert isinstance(monitor, RecordingMonitor)
    assert monitor.recorded == {}, "a bad spec must not register any resource"


def test_every_problem_is_reported_at_once() -> None:
    settings = cluster_settings("k8s_ubuntu", K8S, masterCount=2,
                                nodeGroups=[{"name": "W", "count": 1}],
                                template={"subnetCidr": "nope"})
    messages = errors_of(settings)
    assert len(messages) == 3, messages
    assert {m.split(":")[0] for m in messages} == {
        "clusters.c1.masterCount", "clusters.c1.nodeGroups[0].name",
        "clusters.c1.template.subnetCidr"}


def test_template_file_is_merged_and_cluster_wins(tmp_path: Any) -> None:
    (tmp_path / "t.yaml").write_text(
        "image: ubuntu-22.04\nflavor: m1.small\nexternalNetwork: public\n"
        "labels: {cni: flannel, kube_tag: v1.35.9, cloud_provider_enabled: false}\n")
    settings = {"clusters": {"c1": {
        "driver": "k8s_ubuntu", "templateFile": "t.yaml",
        "template": {"flavor": "m1.large", "labels": {"kube_tag": "v1.36.4"}},
        "waitForReady": False,
    }}}
    resolved = resolve_clusters(settings, tmp_path)["c1"]
    assert resolved.spec.template.image == "ubuntu-22.04"
    assert resolved.spec.template.flavor == "m1.large"
    assert resolved.labels.model_dump()["cni"] == "flannel"
    assert resolved.labels.model_dump()["kube_tag"] == "v1.36.4"


def test_labels_merge_cluster_over_template() -> None:
    settings = cluster_settings("k8s_ubuntu", {**K8S, "cni": "flannel"})
    settings["clusters"]["c1"]["labels"] = {"cni": "calico"}
    resolved = resolve_clusters(settings, REPO)["c1"]
    assert resolved.labels.model_dump()["cni"] == "calico"


def test_lookup_by_coe_and_os() -> None:
    settings = cluster_settings("k8s_ubuntu", K8S)
    cluster = settings["clusters"]["c1"]
    del cluster["driver"]
    cluster.update({"coe": "kubernetes", "os": "ubuntu"})
    assert resolve_clusters(settings, REPO)["c1"].driver.name == "k8s_ubuntu"


def test_swarm_driver_also_takes_debian_images() -> None:
    """swarm_ubuntu's bootstrap only needs docker.io, which Debian ships too."""
    assert find_driver("swarm", "debian").name == "swarm_ubuntu"
    assert find_driver("swarm", "ubuntu").name == "swarm_ubuntu"
    with pytest.raises(DriverNotFound, match="os='debian'"):
        find_driver("kubernetes", "debian")


def test_python_models_use_snake_case() -> None:
    group = NodeGroupSpec(name="w", count=2, min_count=1, max_count=4)
    assert group.model_dump(by_alias=True)["minCount"] == 1
    spec = ClusterSpec.model_validate({"template": {"image": "i", "flavor": "f"},
                                       "masterCount": 3})
    assert spec.master_count == 3


def test_one_cluster_shorthand() -> None:
    settings = cluster_settings("k8s_ubuntu", K8S)
    single = {"cluster": {"name": "solo", **settings["clusters"]["c1"]}}
    assert list(resolve_clusters(single, REPO)) == ["solo"]
