"""k8s_ubuntu versions: the default is in upstream support, every supported minor renders with
its own package repository and matching cloud provider, and other minors are refused with the
supported range and the nearest supported release."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.kubeadm import API_VERSION
from coe_provider_drivers.k8s_ubuntu.labels import (
    CLOUD_PROVIDER_TAGS,
    DEFAULT_KUBE_TAG,
    INSTALLABLE_KUBE_MINORS,
    KUBE_RELEASES,
    SUPPORTED_KUBE_MINORS,
    KubernetesLabels,
    Support,
    kube_tag_problem,
    minor_support,
    version_range,
)
from jsonschema import Draft202012Validator

from coe_provider.bootstrap.cloudconfig import common_library
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from coe_provider.spec.errors import SpecError
from coe_provider.spec.schema import build_schema, label_def_name
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import EXAMPLES, MINIMAL_TEMPLATE, REPO, Recorded, shell_functions

KEYSTONE = "https://keystone.test:5000/v3"


def minor_of(tag: str) -> str:
    return ".".join(tag.removeprefix("v").split(".")[:2])


def test_supported_minors_are_three_consecutive_with_a_known_release() -> None:
    numbers = [int(minor.split(".")[1]) for minor in SUPPORTED_KUBE_MINORS]
    assert len(numbers) == 3
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert tuple(KUBE_RELEASES) == INSTALLABLE_KUBE_MINORS
    assert INSTALLABLE_KUBE_MINORS[-3:] == SUPPORTED_KUBE_MINORS
    assert INSTALLABLE_KUBE_MINORS[0] == "1.31"  # kubeadm v1beta4 and pkgs.k8s.io from 1.31
    assert all(minor_of(tag) == minor for minor, tag in KUBE_RELEASES.items())


def test_defaults_are_supported_and_match_each_other() -> None:
    labels = KubernetesLabels()
    assert labels.kube_tag == DEFAULT_KUBE_TAG
    assert labels.kube_minor in SUPPORTED_KUBE_MINORS
    assert minor_of(labels.resolved_cloud_provider_tag) == labels.kube_minor
    assert all(minor_of(tag) == minor for minor, tag in CLOUD_PROVIDER_TAGS.items())


def cluster_with(labels: dict[str, Any]) -> dict[str, Any]:
    return {"driver": "k8s_ubuntu", "waitForReady": False, "template": {
        **MINIMAL_TEMPLATE, "labels": {"openstack_auth_url": KEYSTONE, **labels}}}


def master_user_data(labels: dict[str, Any]) -> str:
    config, secret_keys = config_from_stack_file(
        {"config": {"coe:clusters": {"c1": cluster_with(labels)}}})
    run = Recorded(run_program_directory(REPO, "versions", config, secret_keys))
    return str(Recorded.inputs(run.named("compute/instance:Instance", "c1-master-0"))["userData"])


def setting(user_data: str, name: str) -> str:
    found = re.findall(rf"^\s*{name}=(\S+)$", user_data, flags=re.MULTILINE)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


@pytest.mark.parametrize("minor", INSTALLABLE_KUBE_MINORS)
def test_every_installable_minor_renders_its_repository_and_cloud_provider(minor: str) -> None:
    tag = KUBE_RELEASES[minor]
    user_data = master_user_data({"kube_tag": tag})
    assert setting(user_data, "KUBE_MINOR") == minor
    assert setting(user_data, "KUBE_VERSION") == tag.removeprefix("v")
    expected_provider = CLOUD_PROVIDER_TAGS.get(minor, max(
        CLOUD_PROVIDER_TAGS.values(), key=lambda t: [int(p) for p in t[1:].split(".")]))
    assert setting(user_data, "CLOUD_PROVIDER_VERSION") == expected_provider
    kubeadm = [doc for doc in yaml.safe_load_all(user_data_file(user_data, "kubeadm.yaml"))
               if doc]
    assert {doc["apiVersion"] for doc in kubeadm if doc["kind"] != "KubeletConfiguration"} \
        == {API_VERSION}
    assert [doc["kubernetesVersion"] for doc in kubeadm
            if doc["kind"] == "ClusterConfiguration"] == [tag]


def user_data_file(user_data: str, suffix: str) -> str:
    """The content of the cloud-config ``write_files`` entry whose path ends in ``suffix``."""
    document = yaml.safe_load(user_data)
    (entry,) = [f for f in document["write_files"] if f["path"].endswith(suffix)]
    return str(entry["content"])


def test_an_explicit_cloud_provider_tag_wins() -> None:
    user_data = master_user_data({"cloud_provider_tag": "v1.35.0"})
    assert setting(user_data, "CLOUD_PROVIDER_VERSION") == "v1.35.0"


@pytest.mark.parametrize(("tag", "why"), [
    ("v1.30.5", "predates kubeadm's v1beta4 configuration"),
    ("v1.27.3", "predates kubeadm's v1beta4 configuration"),
    ("v1.38.0", "is newer than this driver knows"),
    ("v1.99.0", "is newer than this driver knows"),
    ("1.36.4", "must look like"),
])
def test_a_minor_the_driver_cannot_install_is_refused_naming_the_range(
        tag: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        resolve_clusters({"clusters": {"c1": cluster_with({"kube_tag": tag})}}, tmp_path)
    messages = [str(issue) for issue in caught.value.issues]
    assert len(messages) == 1, messages
    message = messages[0]
    assert message.startswith("clusters.c1.labels.kube_tag: "), message
    assert why in message
    assert version_range() in message
    assert all(release in message for release in KUBE_RELEASES.values())
    assert_advises_only_accepted_tags(message)


@pytest.mark.parametrize("minor", [m for m in INSTALLABLE_KUBE_MINORS
                                   if m not in SUPPORTED_KUBE_MINORS])
def test_a_minor_out_of_upstream_support_is_accepted_with_a_warning(
        minor: str, tmp_path: Path) -> None:
    tag = f"v{minor}.3"
    resolved = resolve_clusters({"clusters": {"c1": cluster_with({"kube_tag": tag})}},
                                tmp_path)["c1"]
    assert minor_support(minor) is Support.OUT_OF_SUPPORT
    (warning,) = resolved.warnings
    assert warning.path == "clusters.c1.labels.kube_tag"
    assert f"Kubernetes {minor} is out of upstream support" in warning.rule
    assert all(release in warning.rule for release in KUBE_RELEASES.values())
    assert_advises_only_accepted_tags(warning.rule)


def test_a_supported_minor_earns_no_warning(tmp_path: Path) -> None:
    resolved = resolve_clusters({"clusters": {"c1": cluster_with({})}}, tmp_path)["c1"]
    assert resolved.warnings == ()


def assert_advises_only_accepted_tags(message: str) -> None:
    """Every release a message names (beyond the one it quotes) is one validation accepts."""
    named = re.findall(r"\bv1\.\d+\.\d+\b", message.split("(got ", 1)[-1].split(";", 1)[-1])
    assert named
    assert all(kube_tag_problem(tag) is None for tag in named), named


def test_schema_follows_the_supported_minors() -> None:
    schema = build_schema()
    kube_tag = schema["$defs"][label_def_name("k8s_ubuntu")]["properties"]["kube_tag"]
    check = Draft202012Validator({**kube_tag, "$schema": schema["$schema"]})
    for tag in KUBE_RELEASES.values():
        assert check.is_valid(tag), tag
    assert not check.is_valid("v1.30.9")
    assert not check.is_valid("v1.38.0")


def test_examples_pin_supported_releases() -> None:
    pinned = re.findall(r"kube_tag\W+(v[\d.]+)", "\n".join(
        path.read_text() for path in EXAMPLES.rglob("*") if path.suffix in (".yaml", ".py")))
    assert pinned, "no example pins kube_tag"
    assert all(minor_of(tag) in SUPPORTED_KUBE_MINORS for tag in pinned), pinned


# A joining node and the control plane's version (bootstrap.sh check_version_skew).

BOOTSTRAP = REPO / "drivers" / "k8s_ubuntu" / "templates" / "bootstrap.sh"
"""The Kubernetes driver's bootstrap script."""

VERSION_REPLY = """{
  "major": "1",
  "minor": "%s",
  "gitVersion": "v1.%s.4",
  "platform": "linux/amd64"
}"""
"""The shape of the API's /version document (pretty-printed, as the API serves it)."""


def join_check(tmp_path: Path, node_minor: str,
               reply: str | None) -> subprocess.CompletedProcess[str]:
    """Run the driver's check_version_skew with a ``curl`` that answers ``reply`` (None: the
    API cannot be read)."""
    functions = shell_functions(BOOTSTRAP, "served_minor", "check_version_skew")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_curl = bin_dir / "curl"
    fake_curl.write_text("#!/bin/sh\nexit 22\n" if reply is None
                         else f"#!/bin/sh\ncat <<'REPLY'\n{reply}\nREPLY\n")
    fake_curl.chmod(0o755)
    library = tmp_path / "common.sh"
    library.write_text(common_library())
    program = f'set -Eeuo pipefail\nsource "{library}"\n{functions}\ncheck_version_skew'
    environment = {"PATH": f"{bin_dir}:{os.defpath}", "COE_API_HOST": "10.0.0.5",
                   "COE_API_PORT": "6443", "KUBE_MINOR": f"1.{node_minor}",
                   "KUBE_VERSION": f"1.{node_minor}.4", "COE_LOG_FILE": str(tmp_path / "log")}
    return subprocess.run(["bash", "-c", program], env=environment, capture_output=True,
                          text=True, timeout=30, check=False)


@pytest.mark.parametrize(("node", "served", "joins"), [
    ("36", "36", True), ("35", "36", True), ("37", "36", False), ("36", "35", False),
])
def test_a_node_never_joins_an_older_control_plane(
        tmp_path: Path, node: str, served: str, joins: bool) -> None:
    result = join_check(tmp_path, node, VERSION_REPLY % (served, served))
    assert (result.returncode == 0) is joins, result.stderr
    if not joins:
        assert (f"ERROR: this node is kubernetes 1.{node}.4 but the control plane serves "
                f"1.{served}: a kubelet newer than its API servers is not supported") \
            in result.stderr


def test_an_unreadable_version_does_not_block_the_join(tmp_path: Path) -> None:
    result = join_check(tmp_path, "37", None)
    assert result.returncode == 0, result.stderr
    assert "control plane version not readable; joining as kubernetes 1.37.4" in result.stderr
