"""The Kubernetes driver on a mirrored cloud: containerd's hosts.toml per registry, the
Kubernetes APT mirror, the chart repository of every release, and the boot-time path's
manifests named by the program (the bootstrap script names no host of its own)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from coe_provider_drivers.k8s_ubuntu.labels import KubernetesLabels
from coe_provider_drivers.k8s_ubuntu.registries import CERTS_DIR, hosts_files

from coe_provider.plan.secrets import reveal
from coe_provider.spec.errors import SpecError
from tests.test_k8s_addons import INSTANCE, RELEASE, ha_stack, run_stack_file
from tests.validators import files_in

BOOTSTRAP = Path(__file__).parents[1] / "drivers" / "k8s_ubuntu" / "templates" / "bootstrap.sh"


def _of_type(run: Any, token: str) -> list[Any]:
    return [r for r in run.resources if r.type == token]


def _inputs(resource: Any) -> dict[str, Any]:
    value: dict[str, Any] = reveal(resource.inputs)
    return value


def _driver_env(run: Any, name: str) -> str:
    server = next(r for r in _of_type(run, INSTANCE) if r.name == name)
    return files_in(str(_inputs(server)["userData"]))["/etc/coe/driver.env"]


def test_hosts_toml_per_registry() -> None:
    labels = KubernetesLabels(
        registry_mirrors={"docker.io": "https://hub.internal",
                          "quay.io": "https://harbor.internal/v2/quay-proxy",
                          "_default": "https://all.internal:8443"},
        insecure_registry=["registry.internal:5000", "all.internal"])
    files = hosts_files(labels)
    assert sorted(files) == [f"{CERTS_DIR}/{name}/hosts.toml" for name in (
        "_default", "all.internal", "docker.io", "quay.io", "registry.internal:5000")]
    parsed = {path.split("/")[-2]: tomllib.loads(text) for path, text in files.items()}
    assert parsed["docker.io"] == {"host": {"https://hub.internal": {
        "capabilities": ["pull", "resolve"]}}}
    # A path names the registry API's root itself.
    assert parsed["quay.io"]["host"]["https://harbor.internal/v2/quay-proxy"][
        "override_path"] is True
    # A mirror on an insecure host is reached without verifying TLS.
    assert parsed["_default"]["host"]["https://all.internal:8443"]["skip_verify"] is True
    insecure = parsed["registry.internal:5000"]["host"]
    assert list(insecure) == ["https://registry.internal:5000", "http://registry.internal:5000"]
    assert insecure["https://registry.internal:5000"]["skip_verify"] is True
    assert "server" not in parsed["docker.io"], "no upstream is named: containerd knows it"
    assert hosts_files(KubernetesLabels()) == {}


@pytest.fixture(scope="module")
def mirrored_plan(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return run_stack_file(ha_stack(tmp_path_factory.mktemp("mirrored"), labels={
        "registry_mirrors": {"docker.io": "https://hub.internal"},
        "insecure_registry": "registry.internal:5000",
        "kube_apt_repository": "https://k8s-apt.internal/",
        "chart_repository": "oci://registry.internal/charts/",
        "containerd_tarball_url":
            "https://files.internal/containerd-{version}-linux-{arch}.tar.gz"}))


def test_every_node_gets_the_hosts_and_the_kubernetes_mirror(
        mirrored_plan: Any) -> None:
    servers = [r for r in _of_type(mirrored_plan, INSTANCE) if "bastion" not in r.name]
    assert len(servers) > 3
    for server in servers:
        files = files_in(str(_inputs(server)["userData"]))
        assert f"{CERTS_DIR}/docker.io/hosts.toml" in files, server.name
        assert f"{CERTS_DIR}/registry.internal:5000/hosts.toml" in files
        env = files["/etc/coe/driver.env"]
        assert re.search(r"^KUBE_APT_REPOSITORY=https://k8s-apt.internal/core:/stable:/v1\.\d+/"
                         r"deb/$", env, re.M), env
        assert "CONTAINERD_TARBALL_URL='https://files.internal/containerd-2." in env
        assert f"CONTAINERD_CERTS_DIR={CERTS_DIR}\n" in env


def test_every_release_comes_from_the_oci_repository(mirrored_plan: Any) -> None:
    releases = _of_type(mirrored_plan, RELEASE)
    assert releases
    for release in releases:
        inputs = _inputs(release)
        assert inputs["chart"] == f"oci://registry.internal/charts/{inputs['name']}"
        assert not inputs.get("repositoryOpts"), "an OCI chart has no repository index"


def test_an_https_chart_repository_replaces_every_upstream_one(tmp_path: Path) -> None:
    run = run_stack_file(ha_stack(tmp_path, labels={"chart_repository": "https://charts.internal"}))
    for release in _of_type(run, RELEASE):
        inputs = _inputs(release)
        assert inputs["chart"] == inputs["name"]
        assert inputs["repositoryOpts"] == {"repo": "https://charts.internal"}


def test_the_boot_path_refuses_a_chart_repository(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        run_stack_file(ha_stack(tmp_path, labels={"chart_repository": "https://charts.internal",
                                           "addons_path": "boot"}))
    assert any(str(issue).startswith(
        "clusters.prod.labels.chart_repository: needs the add-ons from the program")
        for issue in caught.value.issues), caught.value.issues


@pytest.mark.parametrize(("cni", "manifest"), [
    ("calico", "https://raw.githubusercontent.com/projectcalico/calico/v3.28.2/manifests/"
               "calico.yaml"),
    ("flannel", "https://github.com/flannel-io/flannel/releases/download/v0.25.7/"
                "kube-flannel.yml")])
def test_the_boot_path_gets_its_manifest_urls_from_the_program(
        tmp_path: Path, cni: str, manifest: str) -> None:
    versions = {"calico": "v3.28.2", "flannel": "v0.25.7"}
    env = _driver_env(run_stack_file(ha_stack(tmp_path, labels={
        "addons_path": "boot", "cni": cni, "cni_version": versions[cni],
        "cloud_provider_tag": "v1.31.1"})), "prod-master-0")
    assert f"CNI_MANIFEST_URL={manifest}\n" in env
    assert ("CLOUD_PROVIDER_MANIFESTS_URL=https://raw.githubusercontent.com/kubernetes/"
            "cloud-provider-openstack/v1.31.1/manifests\n") in env


def test_the_bootstrap_script_names_no_host() -> None:
    """Every URL a node fetches comes from the program, where mirrors replace it."""
    assert not re.findall(r"https?://[A-Za-z]", BOOTSTRAP.read_text())


@pytest.mark.parametrize(("labels", "expected"), [
    ({"kube_apt_repository": "pkgs.internal"},
     "clusters.c1.labels.kube_apt_repository: must be an http(s) URL without credentials"),
    ({"chart_repository": "s3://charts"},
     "clusters.c1.labels.chart_repository: must be an http(s) URL without credentials, such "
     "as https://charts.example.com or oci://registry.example.com/charts"),
])
def test_bad_labels_name_the_label_and_the_rule(labels: dict[str, Any], expected: str) -> None:
    from coe_provider.spec.validation import resolve_clusters
    from tests.conftest import REPO, cluster_settings

    with pytest.raises(SpecError) as caught:
        resolve_clusters(cluster_settings("k8s_ubuntu", {
            "cloud_provider_enabled": False, **labels}), REPO)
    assert any(str(issue).startswith(expected) for issue in caught.value.issues), \
        caught.value.issues
