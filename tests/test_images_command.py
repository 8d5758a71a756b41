"""``coe images``: what each cluster fetches, upstream and through the mirrors, as JSON and
as tables, computed from the same labels and tables the cluster is built from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from coe_provider.cli import app
from tests.conftest import EXAMPLES
from tests.test_k8s_addons import ha_stack, run_stack_file

RELEASE = "kubernetes:helm.sh/v3:Release"


def images_json(stack_file: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["images", str(stack_file), "--json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def test_swarm_fetches_only_the_distribution_archives() -> None:
    found = images_json(EXAMPLES / "swarm" / "Pulumi.prod.yaml")["clusters"]["swarm"]
    assert found["images"] == [] and found["charts"] == [] and found["files"] == []
    assert [repo["url"] for repo in found["packageRepositories"]] == [
        "http://archive.ubuntu.com/ubuntu", "http://security.ubuntu.com/ubuntu"]


def test_kubernetes_lists_the_charts_the_plan_installs(tmp_path: Path) -> None:
    stack_file = ha_stack(tmp_path)
    found = images_json(stack_file)["clusters"]["prod"]
    planned = {(release.inputs["chart"], release.inputs["version"],
                release.inputs["repositoryOpts"]["repo"])
               for release in run_stack_file(stack_file).resources if release.type == RELEASE}
    assert {(chart["name"], chart["version"], chart["repository"])
            for chart in found["charts"]} == planned
    repositories = [repo["url"] for repo in found["packageRepositories"]]
    assert repositories[2].startswith("https://pkgs.k8s.io/core:/stable:/v1.")
    assert found["files"][0].startswith(
        "https://github.com/containerd/containerd/releases/download/v")
    assert found["files"][1] == found["files"][0] + ".sha256sum"


def test_mirrors_replace_every_source_and_name_the_upstream(tmp_path: Path) -> None:
    stack_file = ha_stack(tmp_path, labels={
        "apt_mirror": "http://apt.internal/ubuntu",
        "kube_apt_repository": "https://k8s-apt.internal",
        "chart_repository": "oci://registry.internal/charts",
        "containerd_tarball_url": "https://files.internal/containerd-{version}-{arch}.tgz",
        "containerd_tarball_sha256": "0" * 64})
    found = images_json(stack_file)["clusters"]["prod"]
    assert [(repo["url"], repo["upstream"]) for repo in found["packageRepositories"]][:2] == [
        ("http://apt.internal/ubuntu", "http://archive.ubuntu.com/ubuntu"),
        ("http://apt.internal/ubuntu", "http://security.ubuntu.com/ubuntu")]
    kubernetes = found["packageRepositories"][2]
    assert kubernetes["url"].startswith("https://k8s-apt.internal/core:/stable:/v1.")
    assert kubernetes["upstream"].startswith("https://pkgs.k8s.io/core:/stable:/v1.")
    for chart in found["charts"]:
        assert chart["repository"] == "oci://registry.internal/charts"
        assert chart["upstream"].startswith("https://")
    assert len(found["files"]) == 1 and found["files"][0].startswith(
        "https://files.internal/containerd-2.")
    table = CliRunner().invoke(app, ["images", str(stack_file)])
    assert table.exit_code == 0
    assert "upstream" in table.output and "http://archive.ubuntu.com/ubuntu" in table.output


def test_the_boot_path_is_an_error_naming_the_label(tmp_path: Path) -> None:
    """Its manifests name images the driver does not: an error, never an omission."""
    result = CliRunner().invoke(app, ["images", str(ha_stack(tmp_path, labels={
        "addons_path": "boot"}))])
    assert result.exit_code == 1
    assert result.output.startswith("error: clusters.prod.labels.addons_path: boot: the first "
                                    "master applies the add-ons' upstream manifests")


def test_an_invalid_stack_exits_1_naming_the_field(tmp_path: Path) -> None:
    stack_file = ha_stack(tmp_path, labels={"apt_mirror": "mirror"})
    result = CliRunner().invoke(app, ["images", str(stack_file)])
    assert result.exit_code == 1
    assert "clusters.prod.labels.apt_mirror: must be an http(s) URL" in result.output


def test_images_are_pulled_under_the_prefix_in_the_flat_layout(tmp_path: Path) -> None:
    found = images_json(ha_stack(tmp_path, labels={
        "container_infra_prefix": "harbor.internal/k8s/"}))["clusters"]["prod"]
    images = found["images"]
    assert len(images) > 10
    for image in images:
        name_and_tag = image["upstream"].rsplit("/", 1)[1]
        assert image["reference"] == f"harbor.internal/k8s/{name_and_tag}", image
    upstream = {image["upstream"] for image in images}
    assert "registry.k8s.io/kube-apiserver:v1.36.4" in upstream
    assert any(ref.startswith("quay.io/tigera/operator:") for ref in upstream)
    assert len({image["reference"] for image in images}) == len(images), "no two collide"
