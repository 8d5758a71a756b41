"""Every image a Kubernetes cluster runs (issue 27): the driver's list per minor and CNI, the
flat mirror layout of ``container_infra_prefix`` and its refusals, and the prefix reaching
kubeadm's configuration, containerd's sandbox image and every Helm release's values.

Facts behind the tables are cited in :mod:`coe_provider_drivers.k8s_ubuntu.images`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.images import (
    CALICO_IMAGES,
    CINDER_CSI_SIDECARS,
    FLANNEL_IMAGES,
    KUBEADM_IMAGES,
    Image,
    ImageError,
    calico_images,
    cinder_csi_images,
    cluster_images,
    flannel_images,
    kubeadm_images,
    mirrored_reference,
)
from coe_provider_drivers.k8s_ubuntu.labels import (
    INSTALLABLE_KUBE_MINORS,
    KUBE_RELEASES,
    PAUSE_IMAGES,
    KubernetesLabels,
)
from coe_provider_drivers.k8s_ubuntu.prefix import parse_prefix
from pydantic import ValidationError

from coe_provider.plan.diff import diff_plans
from coe_provider.plan.secrets import reveal
from coe_provider.spec.errors import SpecError
from tests.test_k8s_addons import RELEASE, ha_stack, named, of_type, plan_of, run_stack_file
from tests.validators import files_in

PREFIX = "registry.example.com:5000/mycloud/"
"""A mirror with a port and a trailing slash (both allowed)."""

BASE = "registry.example.com:5000/mycloud"

DEFAULT_IMAGES = [
    "registry.k8s.io/kube-apiserver:v1.36.4",
    "registry.k8s.io/kube-controller-manager:v1.36.4",
    "registry.k8s.io/kube-scheduler:v1.36.4",
    "registry.k8s.io/kube-proxy:v1.36.4",
    "registry.k8s.io/etcd:3.6.8-0",
    "registry.k8s.io/coredns/coredns:v1.14.2",
    "registry.k8s.io/pause:3.10.2",
    "quay.io/tigera/operator:v1.42.3",
    "quay.io/calico/node:v3.32.1",
    "quay.io/calico/cni:v3.32.1",
    "quay.io/calico/pod2daemon-flexvol:v3.32.1",
    "quay.io/calico/kube-controllers:v3.32.1",
    "quay.io/calico/typha:v3.32.1",
    "quay.io/calico/apiserver:v3.32.1",
    "quay.io/calico/goldmane:v3.32.1",
    "quay.io/calico/whisker:v3.32.1",
    "quay.io/calico/whisker-backend:v3.32.1",
    "registry.k8s.io/provider-os/openstack-cloud-controller-manager:v1.36.0",
    "registry.k8s.io/provider-os/cinder-csi-plugin:v1.36.0",
    "registry.k8s.io/sig-storage/csi-attacher:v4.10.0",
    "registry.k8s.io/sig-storage/csi-provisioner:v5.3.0",
    "registry.k8s.io/sig-storage/csi-snapshotter:v8.4.0",
    "registry.k8s.io/sig-storage/csi-resizer:v1.14.0",
    "registry.k8s.io/sig-storage/livenessprobe:v2.17.0",
    "registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0",
]
"""The default cluster (1.36, Calico, cloud provider), read from the charts and kubeadm."""


def test_the_default_cluster_runs_exactly_these_images() -> None:
    images = cluster_images(KubernetesLabels())
    assert [image.reference for image in images] == DEFAULT_IMAGES
    assert all(image.mirrored is None and image.pulled == image.reference for image in images)


@pytest.mark.parametrize("cni", ["calico", "flannel"])
@pytest.mark.parametrize("minor", sorted(KUBEADM_IMAGES))
def test_every_minor_and_cni_names_its_images(minor: str, cni: str) -> None:
    labels = KubernetesLabels(kube_tag=KUBE_RELEASES[minor], cni=cni)
    images = cluster_images(labels)
    references = [image.reference for image in images]
    assert len(references) == len(set(references))
    kube = {image.name: image.tag for image in images if image.used_by == "kubeadm"}
    assert {kube[c] for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                              "kube-proxy")} == {labels.kube_tag}
    assert kube["etcd"] == KUBEADM_IMAGES[minor].etcd
    assert kube["coredns"] == KUBEADM_IMAGES[minor].coredns
    assert PAUSE_IMAGES[minor] in references
    cni_chart = labels.resolved_cni_chart_version
    assert cni_chart is not None
    expected = calico_images(cni_chart) if cni == "calico" else flannel_images(cni_chart)
    assert [i for i in images if i.used_by in ("tigera-operator", "flannel")] == expected
    csi = [i for i in images if i.used_by == "openstack-cinder-csi"]
    assert len(csi) == 7 and csi[0].tag == labels.resolved_cinder_csi_plugin_tag


def test_without_the_cloud_provider_only_kubeadm_and_the_cni_remain() -> None:
    images = cluster_images(KubernetesLabels(cloud_provider_enabled=False))
    assert {image.used_by for image in images} == {"kubeadm", "containerd", "tigera-operator"}


def test_flannel_images_follow_the_chart_not_the_release_name() -> None:
    # The chart's own values: flannel-cni-plugin moves in its own steps.
    assert [i.reference for i in flannel_images("v0.28.9")] == [
        "ghcr.io/flannel-io/flannel:v0.28.9",
        "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"]
    assert flannel_images("v0.28.5")[1].tag == "v1.9.1-flannel1"


def test_an_image_the_driver_cannot_name_is_an_error_naming_the_label() -> None:
    with pytest.raises(ImageError, match=r"^kube_tag: kubeadm 1\.37's etcd and CoreDNS "
                                         r"versions are not in the driver's image table"):
        cluster_images(KubernetesLabels(kube_tag=KUBE_RELEASES["1.37"]))
    with pytest.raises(ImageError, match=r"^cni_version: tigera-operator chart v3\.30\.0 is "
                                         r"not in the driver's image table"):
        cluster_images(KubernetesLabels(cni_version="v3.30.0"))
    with pytest.raises(ImageError, match=r"^cni_chart_version: tigera-operator chart "
                                         r"v3\.29\.0 is not.*set cni_chart_version"):
        cluster_images(KubernetesLabels(cni_version="v3.32.1", cni_chart_version="v3.29.0"))
    with pytest.raises(ImageError, match=r"^cni_version: flannel chart v0\.27\.4 is not"):
        cluster_images(KubernetesLabels(cni="flannel", cni_version="v0.27.4"))
    with pytest.raises(ImageError, match=r"^cinder_csi_chart_version: openstack-cinder-csi "
                                         r"chart 2\.30\.0 is not"):
        cluster_images(KubernetesLabels(cloud_provider_tag="v1.36.0",
                                        cinder_csi_chart_version="2.30.0"))
    with pytest.raises(ImageError, match=r"^addons_path: boot: the first master applies"):
        cluster_images(KubernetesLabels(addons_path="boot"))


def every_table_image() -> list[Image]:
    """Every image any table can name, whatever the labels."""
    images: list[Image] = []
    for minor in KUBEADM_IMAGES:
        images += kubeadm_images(KubernetesLabels(kube_tag=KUBE_RELEASES[minor]))
    for chart in CALICO_IMAGES:
        images += calico_images(chart)
    for chart in FLANNEL_IMAGES:
        images += flannel_images(chart)
    for chart in CINDER_CSI_SIDECARS:
        images += cinder_csi_images(chart, "v1.36.0")
    images += cluster_images(KubernetesLabels())
    return images


def test_no_two_upstream_repositories_share_a_name_in_the_flat_layout() -> None:
    repositories: dict[str, set[str]] = {}
    for image in every_table_image():
        repositories.setdefault(image.name, set()).add(f"{image.registry}/{image.repository}")
    shared = {name: found for name, found in repositories.items() if len(found) > 1}
    assert shared == {}
    # And so no two distinct images collide once mirrored.
    mirrored: dict[str, str] = {}
    for image in every_table_image():
        assert mirrored.setdefault(mirrored_reference(image, PREFIX), image.reference) == \
            image.reference


def test_the_prefix_maps_every_image_flat() -> None:
    images = cluster_images(KubernetesLabels(container_infra_prefix=PREFIX))
    pulled = {image.reference: image.pulled for image in images}
    assert pulled["registry.k8s.io/coredns/coredns:v1.14.2"] == f"{BASE}/coredns:v1.14.2"
    assert pulled["quay.io/calico/cni:v3.32.1"] == f"{BASE}/cni:v3.32.1"
    assert pulled["registry.k8s.io/sig-storage/csi-attacher:v4.10.0"] == \
        f"{BASE}/csi-attacher:v4.10.0"
    assert pulled["quay.io/tigera/operator:v1.42.3"] == f"{BASE}/operator:v1.42.3"
    assert all(image.pulled.startswith(f"{BASE}/") and image.pulled.count("/") == 2
               for image in images)
    assert [image.reference for image in images] == DEFAULT_IMAGES


@pytest.mark.parametrize(("value", "host", "path"), [
    ("registry.example.com/mycloud", "registry.example.com", "mycloud"),
    ("registry.example.com/mycloud/", "registry.example.com", "mycloud"),
    ("10.0.0.5:5000/a/b", "10.0.0.5:5000", "a/b"),
    ("localhost:5000/k8s", "localhost:5000", "k8s"),
])
def test_a_prefix_splits_into_registry_and_path(value: str, host: str, path: str) -> None:
    prefix = parse_prefix(KubernetesLabels(container_infra_prefix=value).container_infra_prefix
                          or "")
    assert (prefix.host, prefix.path, prefix.base) == (host, path, f"{host}/{path}")


@pytest.mark.parametrize("value", [
    "registry.example.com",            # no path: Calico would use calico/
    "registry.example.com/",
    "https://registry.example.com/mycloud",
    "mycloud/images",                   # no registry host: a Docker Hub namespace
    "registry.example.com/MyCloud",
    "registry.example.com//mycloud",
])
def test_a_prefix_that_cannot_work_is_refused_with_the_rule(value: str) -> None:
    with pytest.raises(ValidationError, match=r"must be host\[:port\]/path.*flat layout"):
        KubernetesLabels(container_infra_prefix=value)


# --- The prefix in what the cluster plans -------------------------------------------------


@pytest.fixture(scope="module")
def mirrored_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return plan_of(ha_stack(tmp_path_factory.mktemp("mirror"),
                            labels={"container_infra_prefix": PREFIX}))


def rendered_references(release: str, values: dict[str, Any]) -> set[str]:
    """The images a release's chart renders from ``values`` (its templates, read upstream:
    tigera-operator's ``_helpers.tpl`` and the operator's GetReference, flannel's and
    cloud-provider-openstack's ``<repository>:<tag>``)."""
    if release == "tigera-operator":
        operator = values["tigeraOperator"]
        installation = values["installation"]
        found = {f"{operator['registry'].rstrip('/')}/{operator['image']}:{operator['version']}"}
        return found | {f"{installation['registry']}/{installation['imagePath']}/{name}:"
                        f"{version}" for name, version in operator["calico"]}
    found = set()
    for path in CHART_IMAGE_PATHS[release]:
        image = values
        for key in (*path, "image"):
            image = image[key]
        found.add(f"{image['repository']}:{image['tag']}")
    return found


CHART_IMAGE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "flannel": (("flannel",), ("flannel", "flannel_cni")),
    "openstack-cloud-controller-manager": ((),),
    "openstack-cinder-csi": tuple(("csi", key) for key in (
        "attacher", "provisioner", "snapshotter", "resizer", "livenessprobe",
        "nodeDriverRegistrar", "plugin")),
}
"""Where each chart's templates read ``<repository>:<tag>`` from (flannel-io/flannel
``chart/kube-flannel/templates/daemonset.yaml`` v0.28.9; cloud-provider-openstack
``charts/*/templates`` at chart 2.36.0)."""


@pytest.mark.parametrize("cni", ["calico", "flannel"])
def test_every_release_pulls_every_image_under_the_prefix(tmp_path: Path, cni: str,
                                                          mirrored_plan: dict[str, Any]) -> None:
    plan = mirrored_plan if cni == "calico" else plan_of(ha_stack(
        tmp_path, labels={"container_infra_prefix": PREFIX, "cni": "flannel"}))
    labels = KubernetesLabels(container_infra_prefix=PREFIX, cni=cni)
    expected: dict[str, set[str]] = {}
    for image in cluster_images(labels):
        expected.setdefault(image.used_by, set()).add(image.pulled)
    for release in of_type(plan, RELEASE):
        chart = release["inputs"]["chart"]
        values = reveal(release["inputs"]["values"])
        if chart == "tigera-operator":
            # The Calico images come from the operator, tagged with the chart version.
            values["tigeraOperator"]["calico"] = [
                (image.name, image.tag) for image in cluster_images(labels)
                if image.used_by == chart and image.repository.startswith("calico/")]
        assert rendered_references(chart, values) == expected.pop(chart), chart
    assert set(expected) == {"kubeadm", "containerd"}


def test_kubeadm_and_containerd_pull_under_the_prefix(tmp_path: Path) -> None:
    run = run_stack_file(ha_stack(tmp_path, labels={"container_infra_prefix": PREFIX}))
    master = next(r for r in run.resources if r.name == "prod-master-0" and
                  r.type == "openstack:compute/instance:Instance")
    files = files_in(str(reveal(master.inputs["userData"])))
    cluster = next(d for d in yaml.safe_load_all(files["/etc/coe/kubeadm.yaml"])
                   if d["kind"] == "ClusterConfiguration")
    assert cluster["imageRepository"] == BASE
    assert cluster["etcd"]["local"] == {"dataDir": "/var/lib/etcd", "imageTag": "3.6.8-0"}
    assert cluster["dns"] == {"imageTag": "v1.14.2"}
    assert f"SANDBOX_IMAGE={BASE}/pause:3.10.2" in files["/etc/coe/driver.env"].replace("'", "")


def test_without_a_prefix_kubeadm_keeps_its_repository_and_pins_the_listed_tags(
        tmp_path: Path) -> None:
    run = run_stack_file(ha_stack(tmp_path))
    master = next(r for r in run.resources if r.name == "prod-master-0" and
                  r.type == "openstack:compute/instance:Instance")
    files = files_in(str(reveal(master.inputs["userData"])))
    cluster = next(d for d in yaml.safe_load_all(files["/etc/coe/kubeadm.yaml"])
                   if d["kind"] == "ClusterConfiguration")
    assert "imageRepository" not in cluster
    assert cluster["etcd"]["local"]["imageTag"] == "3.6.8-0"
    assert "SANDBOX_IMAGE=registry.k8s.io/pause:3.10.2" in \
        files["/etc/coe/driver.env"].replace("'", "")


def test_without_a_prefix_release_values_name_no_image(tmp_path: Path) -> None:
    """A running cluster's releases keep identical values: no image key is added unless the
    prefix is set (an explicit image equal to the default would still upgrade the release)."""
    plan = plan_of(ha_stack(tmp_path))
    for release in of_type(plan, RELEASE):
        text = json.dumps(reveal(release["inputs"]["values"]))
        assert "repository" not in text and "registry" not in text
        assert "tigeraOperator" not in text


def test_setting_the_prefix_on_a_running_cluster_upgrades_only_its_releases(
        tmp_path: Path, mirrored_plan: dict[str, Any]) -> None:
    first = plan_of(ha_stack(tmp_path / "a"))
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_of(ha_stack(tmp_path / "b", labels={"container_infra_prefix": PREFIX}),
                     state=state)
    diff = diff_plans(first, second)
    assert not diff.creates and not diff.deletes and not diff.replaces
    assert sorted(change.name for change in diff.updates) == [
        "prod-openstack-cinder-csi", "prod-openstack-cloud-controller-manager",
        "prod-tigera-operator"]
    # Without the label, the same state plans with no change at all.
    assert diff_plans(first, plan_of(ha_stack(tmp_path / "c"), state=state)).is_empty()
    assert named(second, "prod-tigera-operator")["inputs"]["values"] == \
        named(mirrored_plan, "prod-tigera-operator")["inputs"]["values"]


def test_validate_refuses_a_prefix_it_cannot_honour(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"labels\.container_infra_prefix: needs addons_path "
                                        r"program"):
        plan_of(ha_stack(tmp_path / "a", waitForReady=False,
                         labels={"container_infra_prefix": PREFIX}))
    with pytest.raises(SpecError, match=r"labels\.cni_version: container_infra_prefix needs "
                                        r"every image named: tigera-operator chart v3\.30\.0"):
        plan_of(ha_stack(tmp_path / "b", labels={"container_infra_prefix": PREFIX,
                                                 "cni_version": "v3.30.0"}))
    with pytest.raises(SpecError, match=r"labels\.kube_tag: container_infra_prefix needs "
                                        r"every image named: kubeadm 1\.37's etcd"):
        plan_of(ha_stack(tmp_path / "c", labels={"container_infra_prefix": PREFIX,
                                                 "kube_tag": KUBE_RELEASES["1.37"]}))
    with pytest.raises(SpecError, match=r"labels\.container_infra_prefix: must be "
                                        r"host\[:port\]/path"):
        plan_of(ha_stack(tmp_path / "d", labels={"container_infra_prefix": "registry.example"
                                                                           ".com"}))


def test_the_tables_cover_the_installable_minors_but_the_newest() -> None:
    """1.37 has no kubeadm release in the source read (module docstring of images.py)."""
    assert set(KUBEADM_IMAGES) == set(INSTALLABLE_KUBE_MINORS) - {"1.37"}
    assert set(PAUSE_IMAGES) == set(INSTALLABLE_KUBE_MINORS)
