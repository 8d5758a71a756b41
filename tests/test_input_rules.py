"""Input that used to pass and must not: IPv6 subnets, Kubernetes label and taint syntax,
labels a kubelet may not set on itself; and every problem of a file reported in one run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from coe_provider.cli import app
from coe_provider.spec.errors import SpecError
from coe_provider.spec.k8ssyntax import (
    kubelet_label_problem,
    label_key_problem,
    label_value_problem,
    taint_problem,
)
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import REPO, cluster_settings

K8S = {"cloud_provider_enabled": False}


def errors_of(settings: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        resolve_clusters(settings, REPO)
    return [str(issue) for issue in caught.value.issues]


def with_group(driver: str = "k8s_ubuntu", **group: Any) -> dict[str, Any]:
    return cluster_settings(driver, K8S if driver == "k8s_ubuntu" else {},
                            nodeGroups=[{"name": "w", "count": 1, **group}])


def test_ipv6_subnet_is_refused_in_one_line() -> None:
    assert errors_of(cluster_settings("k8s_ubuntu", K8S, template={"subnetCidr": "fd00::/64"})) \
        == ["clusters.c1.template.subnetCidr: must be an IPv4 network such as 10.0.0.0/24; "
            "IPv6 subnets are not supported (got fd00::/64)"]


# Kubernetes' rules: k8s.io/apimachinery IsQualifiedName / IsValidLabelValue.
@pytest.mark.parametrize("key", [
    "gpu", "example.com/gpu", "a.b-c.example/x_y.z", "node.kubernetes.io/pool",
    "x" * 63, ("p" * 253) + "/n"])
def test_valid_label_keys(key: str) -> None:
    assert label_key_problem(key) is None


@pytest.mark.parametrize(("key", "words"), [
    ("", "the name after any prefix/"),
    ("/gpu", "has an empty prefix"),
    ("Example.com/gpu", "prefix 'Example.com' must be a DNS subdomain"),
    ("example.com/", "the name after any prefix/"),
    ("-gpu", "the name after any prefix/"),
    ("gpu card", "the name after any prefix/"),
    ("x" * 64, "the name after any prefix/"),
    (("p" * 254) + "/n", "at most 253"),
])
def test_invalid_label_keys(key: str, words: str) -> None:
    problem = label_key_problem(key)
    assert problem is not None and words in problem


@pytest.mark.parametrize(("value", "ok"), [
    ("", True), ("a", True), ("v1.2_3-x", True), ("x" * 63, True), ("x" * 64, False),
    ("-a", False), ("a,b", False), ("a=b", False), ("ä", False)])
def test_label_values(value: str, ok: bool) -> None:
    assert (label_value_problem(value) is None) is ok


@pytest.mark.parametrize(("key", "allowed"), [
    ("node-role.kubernetes.io/worker", False),
    ("kubernetes.io/role", False),
    ("app.kubernetes.io/name", False),
    ("k8s.io/x", False),
    ("sub.k8s.io/x", False),
    ("node.kubernetes.io/pool", True),
    ("x.node.kubernetes.io/pool", True),
    ("kubelet.kubernetes.io/x", True),
    ("topology.kubernetes.io/zone", True),
    ("kubernetes.io/hostname", True),
    ("example.com/role", True),
    ("notkubernetes.io/x", True),
])
def test_labels_a_kubelet_may_set_on_itself(key: str, allowed: bool) -> None:
    assert (kubelet_label_problem(key) is None) is allowed


@pytest.mark.parametrize(("taint", "ok"), [
    ("gpu=true:NoSchedule", True), ("gpu:NoExecute", True), ("example.com/x=:PreferNoSchedule",
                                                             True),
    ("gpu", False), ("gpu=true:NoRun", False), ("gpu=a b:NoSchedule", False),
    ("Bad.Prefix/x=1:NoSchedule", False), (f"k={'v' * 64}:NoSchedule", False)])
def test_taint_syntax(taint: str, ok: bool) -> None:
    assert (taint_problem(taint) is None) is ok


def test_reserved_node_label_is_refused_with_the_reason() -> None:
    errors = errors_of(with_group(labels={"node-role.kubernetes.io/worker": ""}))
    assert errors == [
        "clusters.c1.nodeGroups[0].labels.node-role.kubernetes.io/worker: label "
        "'node-role.kubernetes.io/worker' is in a namespace reserved for Kubernetes: kubelet "
        "refuses to start with it and the NodeRestriction admission plugin refuses it, so the "
        "node would never join; use your own prefix, node.kubernetes.io/ or "
        "kubelet.kubernetes.io/, or set it with kubectl label once the node has joined"]


def test_bad_label_value_and_taint_are_refused_together() -> None:
    errors = errors_of(with_group(labels={"example.com/team": "a,b"},
                                  taints=["gpu=true:NoRun"]))
    assert errors == [
        "clusters.c1.nodeGroups[0].taints: taint 'gpu=true:NoRun' must look like "
        "key=value:Effect with Effect one of NoSchedule, PreferNoSchedule, NoExecute",
        "clusters.c1.nodeGroups[0].labels.example.com/team: label value 'a,b' must be empty "
        "or at most 63 characters: letters, digits, '-', '_' and '.', starting and ending "
        "with a letter or digit"]


def test_good_node_labels_pass() -> None:
    resolved = resolve_clusters(with_group(
        labels={"node.kubernetes.io/pool": "gpu", "example.com/team": "ml"},
        taints=["gpu=true:NoSchedule"]), REPO)
    assert resolved["c1"].spec.node_groups[0].labels["example.com/team"] == "ml"


def test_swarm_engine_labels_keep_their_free_form() -> None:
    # Docker engine labels are key=value text, not Kubernetes labels.
    resolved = resolve_clusters(with_group("swarm_ubuntu", labels={"Role": "GPU,fast"}), REPO)
    assert resolved["c1"].spec.node_groups[0].labels == {"Role": "GPU,fast"}


def test_every_problem_of_a_file_comes_in_one_run() -> None:
    # Field errors used to stop the model before the cross-field and label rules ran: this
    # file took three runs (4 errors, then 5, then 1).
    settings = cluster_settings(
        "k8s_ubuntu", {**K8S, "cni": "weave", "pod_cidr": "10.0.0.0/16", "kube_versionx": "v1"},
        masterCount=2, drainOnDelete=True,
        template={"externalNetwork": None, "dnsNameservers": ["1.1.1.x"], "bastion": True},
        nodeGroups=[{"name": "w", "count": 2, "minCount": 3, "taints": ["bad"]},
                    {"name": "w", "count": -1}])
    errors = errors_of(settings)
    expected = [
        "clusters.c1.template.dnsNameservers: item [0] must be an IP address (got '1.1.1.x')",
        "clusters.c1.masterCount: must be odd for etcd quorum (got 2)",
        "clusters.c1.nodeGroups[0].taints: taint 'bad' must look like key=value:Effect",
        "clusters.c1.nodeGroups[1].count: Input should be greater than or equal to 0",
        "clusters.c1.template.externalNetwork: required with a managed network",
        "clusters.c1.template.sshAllowedCidrs: required with a bastion",
        "clusters.c1.template.externalNetwork: required with a bastion",
        "clusters.c1.nodeGroups[0].count: must be >= minCount 3 (got 2)",
        "clusters.c1.nodeGroups[1].name: duplicate node group name 'w'",
        "clusters.c1.labels.cni: Input should be 'calico' or 'flannel'",
        "clusters.c1.labels.kube_versionx: unknown label for driver k8s_ubuntu",
        "clusters.c1.labels.pod_cidr: overlaps the node subnet 10.0.0.0/24 (got 10.0.0.0/16)",
    ]
    assert len(errors) == len(expected), errors
    for line, start in zip(errors, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_rules_stay_silent_about_fields_left_at_defaults() -> None:
    # A broken subnetCidr stands in as the default while the other rules run; the size
    # rule must not then judge the default.
    settings = cluster_settings("k8s_ubuntu", K8S, template={"subnetCidr": "10.0.0.0/33"},
                                nodeGroups=[{"name": "w", "count": 400}])
    errors = errors_of(settings)
    assert len(errors) == 1 and errors[0].startswith("clusters.c1.template.subnetCidr: must be "
                                                     "a network in CIDR notation"), errors


def test_missing_required_fields_do_not_hide_the_others() -> None:
    settings = cluster_settings("k8s_ubuntu", K8S, masterCount=3,
                                nodeGroups=[{"count": 1}])
    del settings["clusters"]["c1"]["template"]["image"]
    errors = errors_of(settings)
    assert errors == [
        "clusters.c1.template.image: required field is missing",
        "clusters.c1.nodeGroups[0].name: required field is missing",
        "clusters.c1.template.masterLbEnabled: must be true when masterCount > 1 (masterCount "
        "is 3): the API needs one address in front of all masters"]


# ------------------------------------------------------------------ messages of coe validate


def validate(path: Path) -> Result:
    return CliRunner().invoke(app, ["validate", str(path)])


def test_validate_on_a_template_file_says_so_and_validates_it(tmp_path: Path) -> None:
    template = tmp_path / "k8s-template.yaml"
    template.write_text("image: ubuntu-24.04\nflavor: m1.medium\nexternalNetwork: public\n"
                        "labels:\n  kube_tag: v1.36.4\n  cni: flannel\n"
                        "  cloud_provider_enabled: false\n")
    good = validate(template)
    assert (good.exit_code, good.stdout) == (0, f"{template}: OK: a template file "
                                                "(templateFile:), valid for driver k8s_ubuntu\n")
    template.write_text("image: ubuntu-24.04\nflavor: m1.medium\nexternalNetwork: public\n"
                        "subnetCidr: fd00::/64\nlabels:\n  cni: weave\n"
                        "  cloud_provider_enabled: false\n")
    bad = validate(template)
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        f"{template}: a template file (templateFile:), checked for driver k8s_ubuntu (the one "
        "it fits best):",
        "subnetCidr: must be an IPv4 network such as 10.0.0.0/24; IPv6 subnets are not "
        "supported (got fd00::/64)",
        "labels.cni: Input should be 'calico' or 'flannel'"]
    assert "unknown setting" not in bad.output


@pytest.mark.parametrize("content", [bytes(range(256)), b"config:\n  coe:clusters: \x00\n"])
def test_binary_yaml_names_the_file_and_exits_1(tmp_path: Path, content: bytes) -> None:
    stack = tmp_path / "Pulumi.bin.yaml"
    stack.write_bytes(content)
    for command in ("validate", "plan"):
        result = CliRunner().invoke(app, [command, str(stack)])
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(f"{stack}: not a YAML text file (")
        assert len(result.stderr.splitlines()) == 1


def test_a_value_that_fits_no_member_of_a_union_does_not_stop_the_other_rules() -> None:
    # bastion is bool | BastionSpec: pydantic names the member in the error's location.
    settings = cluster_settings("k8s_ubuntu", K8S, masterCount=3,
                                template={"bastion": {"flavor": 5}})
    errors = errors_of(settings)
    assert any(e.startswith("clusters.c1.template.bastion") for e in errors), errors
    assert any(e.startswith("clusters.c1.template.masterLbEnabled: must be true") for e in errors)
