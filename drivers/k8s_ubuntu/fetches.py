"""Everything a k8s_ubuntu cluster fetches from outside the cloud (``coe images``): named from
the same labels and tables the nodes and releases are built from, so the list cannot drift
from what the cluster does."""

from __future__ import annotations

from dataclasses import replace

from coe_provider.cluster.artifacts import Artifacts, Chart, PackageRepository

from .addon_resources import chart_location, release_specs
from .bootpath import boot_manifest_urls
from .labels import KubernetesLabels

CLUSTER_TAG_PLACEHOLDER = "cluster"
"""The cloud resource tag the releases' values carry; it changes no chart or image."""


def charts(labels: KubernetesLabels) -> tuple[Chart, ...]:
    """The charts of the add-on releases, from the chart repository when one is set."""
    found = []
    for spec in release_specs(CLUSTER_TAG_PLACEHOLDER, labels, None, CLUSTER_TAG_PLACEHOLDER):
        chart, repository = chart_location(spec, labels.chart_repository)
        found.append(Chart(spec.chart, spec.version,
                           repository or chart.rsplit("/", 1)[0], spec.repository))
    return tuple(found)


def files(labels: KubernetesLabels) -> tuple[str, ...]:
    """containerd's tarball (and its checksum file when no checksum label is given), and on
    the boot-time path the manifests the first master applies."""
    found: list[str] = []
    if labels.containerd_from_release:
        url = labels.resolved_containerd_tarball_url
        found.append(url)
        if not labels.containerd_tarball_sha256:
            found.append(f"{url}.sha256sum")
    if not labels.addons_from_program:
        urls = boot_manifest_urls(labels)
        found.append(urls["CNI_MANIFEST_URL"])
        if "CLOUD_PROVIDER_MANIFESTS_URL" in urls:
            base = urls["CLOUD_PROVIDER_MANIFESTS_URL"]
            found += [f"{base}/controller-manager/", f"{base}/cinder-csi-plugin/"]
    return tuple(found)


def fetched_artifacts(labels: KubernetesLabels, base: Artifacts) -> Artifacts:
    """``base`` (the distribution's archives) with pkgs.k8s.io's repository, the files, the
    charts and the images."""
    upstream_labels = labels.model_copy(update={"kube_apt_repository": None})
    kubernetes = PackageRepository(
        labels.kube_apt_source, upstream_labels.kube_apt_source,
        f"kubeadm, kubelet and kubectl {labels.kube_version}")
    return replace(
        base,
        package_repositories=(*base.package_repositories, kubernetes),
        charts=charts(labels) if labels.addons_from_program else (),
        files=files(labels))


__all__ = ["charts", "fetched_artifacts", "files"]
