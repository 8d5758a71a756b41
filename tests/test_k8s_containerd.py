"""k8s_ubuntu's containerd: the configuration it writes from containerd's own defaults (1.7,
2.0, 2.1 and 2.2; tests/containerd/README.md cites the source of each), the release per
Kubernetes minor, the sandbox image kubeadm pins, and the support-matrix warning."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from coe_provider_drivers.k8s_ubuntu.labels import (
    CONTAINERD_MATRIX,
    CONTAINERD_RELEASES,
    PAUSE_IMAGES,
    SUPPORTED_KUBE_MINORS,
    KubernetesLabels,
    containerd_matrix_warning,
)
from coe_provider_drivers.k8s_ubuntu.registries import CERTS_DIR
from typer.testing import CliRunner

from coe_provider.cli import app
from tests.conftest import EXAMPLES, REPO, shell_functions
from tests.validators import files_in

BOOTSTRAP = REPO / "drivers" / "k8s_ubuntu" / "templates" / "bootstrap.sh"
DEFAULTS = REPO / "tests" / "containerd"
IMAGE = "registry.k8s.io/pause:3.10.2"
RUNC_V2 = ("plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes", "runc")
RUNC_V3 = ("plugins", "io.containerd.cri.v1.runtime", "containerd", "runtimes", "runc")


def edited(default: str, image: str = IMAGE) -> subprocess.CompletedProcess[str]:
    """containerd_config_edit (the bootstrap's own function) run on a default config."""
    program = shell_functions(BOOTSTRAP, "containerd_config_edit") + \
        f'containerd_config_edit "{image}" "{CERTS_DIR}"'
    return subprocess.run(["bash", "-c", program], input=default, capture_output=True,
                          text=True, timeout=30, check=False)


def table(document: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for key in path:
        document = document[key]
    return document


@pytest.mark.parametrize(("version", "runc", "pause"), [
    ("1.7", RUNC_V2, ("plugins", "io.containerd.grpc.v1.cri", "sandbox_image")),
    ("2.0", RUNC_V3, ("plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")),
    ("2.1", RUNC_V3, ("plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")),
    ("2.2", RUNC_V3, ("plugins", "io.containerd.cri.v1.images", "pinned_images", "sandbox")),
])
def test_the_default_config_of_each_containerd_gets_systemd_cgroups_and_the_pause_image(
        version: str, runc: tuple[str, ...], pause: tuple[str, ...]) -> None:
    default = (DEFAULTS / f"default-{version}.toml").read_text()
    result = edited(default)
    assert result.returncode == 0, result.stderr
    before, after = tomllib.loads(default), tomllib.loads(result.stdout)
    options = table(after, (*runc, "options"))
    assert options["SystemdCgroup"] is True
    assert result.stdout.count("SystemdCgroup") == 1
    assert table(after, pause[:-1])[pause[-1]] == IMAGE
    registry = (*pause[:2], "registry")
    assert table(after, registry)["config_path"] == CERTS_DIR
    assert result.stdout.count("config_path") == 1
    # Everything else is containerd's default, untouched.
    assert {k: v for k, v in options.items() if k != "SystemdCgroup"} == {
        k: v for k, v in table(before, (*runc, "options")).items() if k != "SystemdCgroup"}
    assert table(after, runc)["runtime_type"] == "io.containerd.runc.v2"
    if version == "1.7":  # the CRI plugin's own systemd_cgroup is the cgroup v1 shim option
        assert table(after, RUNC_V2[:2])["systemd_cgroup"] is False


@pytest.mark.parametrize("version", ["1.7", "2.1"])
def test_a_default_without_the_runc_options_table_gets_one(version: str) -> None:
    default = (DEFAULTS / f"default-{version}.toml").read_text()
    lines = default.splitlines()
    start = next(i for i, line in enumerate(lines) if "runtimes.runc.options]" in line)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() == ""), len(lines))
    result = edited("\n".join(lines[:start] + lines[end:]) + "\n")
    assert result.returncode == 0, result.stderr
    runc = RUNC_V2 if version == "1.7" else RUNC_V3
    assert table(tomllib.loads(result.stdout), (*runc, "options")) == {"SystemdCgroup": True}


def test_a_config_version_other_than_2_or_3_stops_the_bootstrap() -> None:
    result = edited("root = '/var/lib/containerd'\n[plugins]\n")
    assert result.returncode != 0
    assert "containerd config version  is not 2 or 3" in result.stderr  # none given


def test_each_supported_minor_has_a_release_inside_the_matrix_and_a_pause_image() -> None:
    for minor in SUPPORTED_KUBE_MINORS:
        labels = KubernetesLabels(kube_tag=f"v{minor}.0", cloud_provider_enabled=False)
        assert labels.resolved_containerd_version == CONTAINERD_RELEASES[minor]
        assert labels.containerd_from_release
        assert labels.sandbox_image == PAUSE_IMAGES[minor]
        assert containerd_matrix_warning(minor, labels.resolved_containerd_version) is None


@pytest.mark.parametrize(("minor", "version", "warned"), [
    ("1.35", "1.7.28", False), ("1.35", "1.7.27", True), ("1.35", "1.7.12-0ubuntu4", True),
    ("1.35", "2.1.5", False), ("1.35", "2.1.4", True), ("1.35", "2.0.9", True),
    ("1.35", "2.3.4", False),  # a newer line than the row lists
    ("1.36", "2.2.0", False), ("1.36", "1.7.34", True), ("1.36", "2.1.9", True),
    ("1.37", "2.2.7", False), ("1.37", "1.7.30", True),  # no row yet: the newest row
    ("1.36", "distribution", True),
])
def test_the_matrix_warning(minor: str, version: str, warned: bool) -> None:
    warning = containerd_matrix_warning(minor, version)
    assert (warning is not None) is warned, warning
    if warned and version != "distribution":
        assert f"outside containerd's support matrix for Kubernetes {minor}" in str(warning)
        assert ", ".join(f"{f}+" for f in CONTAINERD_MATRIX.get(minor, CONTAINERD_MATRIX[
            "1.36"])) in str(warning)


def test_coe_validate_warns_on_a_pin_outside_the_matrix(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(
        "config:\n  coe:clusters:\n    c1:\n      driver: k8s_ubuntu\n      waitForReady: false\n"
        "      template:\n"
        "        image: ubuntu-24.04\n        flavor: m1.medium\n        externalNetwork: public\n"
        "        labels: {kube_tag: v1.36.4, cloud_provider_enabled: false,\n"
        "                 containerd_version: 1.7.12-0ubuntu4}\n")
    result = CliRunner().invoke(app, ["validate", str(stack)])
    assert result.exit_code == 0, result.output
    assert ("warning: clusters.c1.labels.containerd_version: containerd 1.7.12 is outside "
            "containerd's support matrix for Kubernetes 1.36 (2.3.0+, 2.2.0+") in result.output
    example = CliRunner().invoke(app, ["validate", str(EXAMPLES / "k8s-ha" / "Pulumi.prod.yaml")])
    assert example.exit_code == 0 and "warning" not in example.output, example.output


def test_the_bootstrap_gets_the_release_the_tarball_and_the_pause_image(
        run_root_program: Any) -> None:
    from tests.conftest import cluster_settings

    def driver_env(labels: dict[str, Any]) -> str:
        recorded = run_root_program(cluster_settings(
            "k8s_ubuntu", {"cloud_provider_enabled": False, **labels}))
        server = recorded.named("compute/instance:Instance", "c1-master-0")
        return files_in(str(recorded.inputs(server)["userData"]))["/etc/coe/driver.env"]

    default = driver_env({"kube_tag": "v1.35.8"})
    assert f"CONTAINERD_VERSION={CONTAINERD_RELEASES['1.35']}\n" in default
    assert f"SANDBOX_IMAGE={PAUSE_IMAGES['1.35']}\n" in default
    assert ("CONTAINERD_TARBALL_URL='https://github.com/containerd/containerd/releases/download/"
            f"v{CONTAINERD_RELEASES['1.35']}/containerd-{CONTAINERD_RELEASES['1.35']}-linux-"
            "{arch}.tar.gz'\n") in default
    templated = driver_env({"containerd_tarball_url":
                            "https://files.example/containerd-{version}-linux-{arch}.tar.gz"})
    assert ("CONTAINERD_TARBALL_URL='https://files.example/containerd-"
            f"{CONTAINERD_RELEASES['1.36']}-linux-{{arch}}.tar.gz'\n") in templated
    mirrored = driver_env({
        "containerd_version": "2.2.7",
        "containerd_tarball_url": "https://mirror.example/containerd-2.2.7-linux-amd64.tar.gz",
        "containerd_tarball_sha256": "a" * 64})
    assert "CONTAINERD_VERSION=2.2.7\n" in mirrored
    assert ("CONTAINERD_TARBALL_URL=https://mirror.example/containerd-2.2.7-linux-amd64.tar.gz"
            in mirrored)
    assert f"CONTAINERD_TARBALL_SHA256={'a' * 64}\n" in mirrored
    assert "CONTAINERD_VERSION=''\n" in driver_env({"containerd_version": "distribution"})


@pytest.mark.parametrize(("labels", "problem"), [
    ({"containerd_tarball_sha256": "ABC"}, "must be 64 lowercase hex digits"),
    ({"containerd_tarball_url": "ftp://mirror/containerd.tgz"}, "must be an http(s) URL"),
    ({"containerd_version": "latest"}, "must be an APT version string"),
])
def test_bad_containerd_labels_are_refused(labels: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        KubernetesLabels(**labels)


def test_the_node_fills_in_its_architecture() -> None:
    line = next(line.strip() for line in BOOTSTRAP.read_text().splitlines()
                if line.strip().startswith('url="${CONTAINERD_TARBALL_URL'))
    result = subprocess.run(
        ["bash", "-c", f'arch=arm64; {line}; printf %s "$url"'], capture_output=True, text=True,
        env={"CONTAINERD_TARBALL_URL": "https://files.example/containerd-2.3.4-linux-{arch}.tgz"})
    assert result.stdout == "https://files.example/containerd-2.3.4-linux-arm64.tgz"
