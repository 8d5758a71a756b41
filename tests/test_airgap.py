"""The air-gap proof: every example, planned with every mirror label and the CA bundle set,
names no public registry, code host, package archive or chart repository in any rendered
document, user data (gzip-packed scripts decoded) or release value; and each mirror is where
it should be."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from coe_provider.plan.secrets import reveal
from coe_provider.plan.stackfile import run_stack_file
from tests.conftest import EXAMPLES
from tests.test_mirrors import test_ca_pem
from tests.validators import files_in

PUBLIC_HOSTS = (
    "registry.k8s.io", "quay.io", "docker.io", "ghcr.io", "gcr.io",
    "github.com", "raw.githubusercontent.com", "pkgs.k8s.io",
    "archive.ubuntu.com", "security.ubuntu.com", "deb.debian.org", "security.debian.org",
    # The add-on charts' upstream repositories.
    "docs.tigera.io", "kubernetes.github.io", "flannel-io.github.io",
)
"""Hosts a node or release of an air-gapped cluster must never be told to fetch from."""

FETCH_OF_PUBLIC_HOST = re.compile(
    r"(?<![\w.-])(?<!certs\.d/)(?:[\w-]+\.)*(" + "|".join(map(re.escape, PUBLIC_HOSTS)) +
    r")(?=[/:])")
"""A public host used as a source: followed by a path or a port (a URL, an image reference),
not as a word (the ``docker.io`` package) and not as the name of containerd's mirror directory
of that registry (``certs.d/docker.io/``), which says what is mirrored, not where from."""

PREFIX = "registry.cloud.internal/mirror"
APT = "http://apt.cloud.internal/ubuntu"
K8S_APT = "https://k8s-apt.cloud.internal"
CHARTS = "oci://registry.cloud.internal/charts"
FILES = "https://files.cloud.internal/containerd/containerd-{version}-linux-{arch}.tar.gz"
CA = test_ca_pem("Cloud Internal CA")

SHARED_LABELS: dict[str, Any] = {
    "apt_mirror": APT,
    "registry_mirrors": {"docker.io": "https://registry.cloud.internal/v2/hub"},
    "insecure_registry": "registry.cloud.internal:5000",
    "mirrors_bypass_proxy": True,
}
KUBERNETES_LABELS: dict[str, Any] = {
    "container_infra_prefix": PREFIX,
    "chart_repository": CHARTS,
    "kube_apt_repository": K8S_APT,
    "containerd_tarball_url": FILES,
}
PROXY = "http://proxy.cloud.internal:3128"
TEMPLATE_FIELDS: dict[str, Any] = {"trustedCaBundle": CA, "httpProxy": PROXY, "httpsProxy": PROXY}


def _kubernetes(cluster: dict[str, Any]) -> bool:
    return cluster.get("driver") == "k8s_ubuntu" or cluster.get("coe") == "kubernetes"


def _air_gap(template: dict[str, Any], kubernetes: bool) -> None:
    template.update(TEMPLATE_FIELDS)
    template["labels"] = {**template.get("labels", {}), **SHARED_LABELS,
                          **(KUBERNETES_LABELS if kubernetes else {})}


def air_gapped_stack(example: str, target: Path) -> Path:
    """The example copied under ``target`` with every cluster's template air-gapped."""
    directory = target / example
    shutil.copytree(EXAMPLES / example, directory)
    if example == "k8s-python":  # a spec built in Python: its labels and template there
        program = directory / "__main__.py"
        labels = {**SHARED_LABELS, **KUBERNETES_LABELS}
        text = program.read_text().replace(
            "labels={", f"trusted_ca_bundle={CA!r}, http_proxy={PROXY!r}, "
                        f"https_proxy={PROXY!r}, labels={{**{labels!r}, ")
        assert text != program.read_text()
        program.write_text(text)
        return next(directory.glob("Pulumi.*.yaml"))
    stack_file = next(p for p in directory.glob("Pulumi.*.yaml") if p.name != "Pulumi.yaml")
    document = yaml.safe_load(stack_file.read_text())
    for cluster in document["config"]["coe:clusters"].values():
        if "templateFile" in cluster:
            path = directory / cluster["templateFile"]
            template = yaml.safe_load(path.read_text())
            _air_gap(template, _kubernetes(cluster))
            path.write_text(yaml.safe_dump(template))
        else:
            _air_gap(cluster["template"], _kubernetes(cluster))
    stack_file.write_text(yaml.safe_dump(document))
    return stack_file


def examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.iterdir()
                  if any(p.glob("Pulumi.*.yaml")) and (p / "Pulumi.yaml").exists())


def documents(resource: Any) -> list[tuple[str, str]]:
    """Every string a resource's inputs hold, with where; a cloud-config's files decoded."""
    found: list[tuple[str, str]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")
        elif isinstance(value, str):
            found.append((where, value))
            if value.startswith("#cloud-config"):
                found.extend((f"{where} {path}", text)
                             for path, text in files_in(value).items())

    walk(reveal(resource.inputs), resource.name)
    return found


@pytest.mark.parametrize("example", examples())
def test_an_air_gapped_example_names_no_public_source(tmp_path: Path, example: str) -> None:
    run = run_stack_file(air_gapped_stack(example, tmp_path))
    offenders = [f"{where}: {match.group(0)!r} in {text[max(match.start() - 60, 0):][:140]!r}"
                 for resource in run.resources for where, text in documents(resource)
                 for match in FETCH_OF_PUBLIC_HOST.finditer(text)]
    assert not offenders, "\n".join(offenders[:20])


def _env(text: str) -> dict[str, str]:
    """An env file's ``KEY=value`` lines, shell quoting undone."""
    return {key: shlex.split(value)[0] if value else ""
            for key, _, value in (line.partition("=") for line in text.splitlines())}


@pytest.mark.parametrize("example", examples())
def test_every_mirror_is_where_it_belongs(tmp_path: Path, example: str) -> None:
    run = run_stack_file(air_gapped_stack(example, tmp_path))
    servers = [r for r in run.resources
               if r.type == "openstack:compute/instance:Instance" and "bastion" not in r.name]
    assert servers
    first_masters = 0
    for server in servers:
        user_data = str(reveal(server.inputs["userData"]))
        document = yaml.safe_load(user_data)
        files = files_in(user_data)
        assert document["apt"]["primary"] == [{"arches": ["default"], "uri": APT}], server.name
        assert document["apt"]["security"] == [{"arches": ["default"], "uri": APT}]
        assert document["ca_certs"] == {"trusted": [CA]}
        node_env = _env(files["/etc/coe/node.env"])
        assert "apt.cloud.internal" in node_env["NO_PROXY"].split(",")
        if "/etc/coe/kubeadm.yaml" in files:
            env = _env(files["/etc/coe/driver.env"])
            assert env["KUBE_APT_REPOSITORY"].startswith(f"{K8S_APT}/core:/stable:/v1.")
            assert env["CONTAINERD_TARBALL_URL"].startswith("https://files.cloud.internal/")
            assert env["SANDBOX_IMAGE"].startswith(f"{PREFIX}/pause:")
            if "kind: ClusterConfiguration" in files["/etc/coe/kubeadm.yaml"]:
                # The first master's; the others read it from the cluster (kubeadm-config).
                assert f"imageRepository: {PREFIX}\n" in files["/etc/coe/kubeadm.yaml"]
                first_masters += 1
            assert "/etc/containerd/certs.d/docker.io/hosts.toml" in files
            assert "/etc/containerd/certs.d/registry.cloud.internal:5000/hosts.toml" in files
        else:
            daemons = [yaml.safe_load(text) for path, text in files.items()
                       if path.endswith(".json") and "daemon" in path]
            assert daemons and all(d["registry-mirrors"] == [
                "https://registry.cloud.internal/v2/hub"] for d in daemons)
    kubernetes = sum(1 for r in run.resources if r.type == "pulumi:providers:kubernetes")
    assert first_masters == kubernetes
    for release in (r for r in run.resources if r.type == "kubernetes:helm.sh/v3:Release"):
        inputs = reveal(release.inputs)
        assert inputs["chart"] == f"{CHARTS}/{inputs['name']}"
        images = [value for where, value in documents(release)
                  if re.search(r"\.(repository|image|registry)$", where)]
        assert images, f"{release.name} sets no image"
        assert all(value.startswith(PREFIX.split("/")[0]) or "/" not in value
                   for value in images), images
