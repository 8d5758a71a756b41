"""The boot-time add-on path's downloads: where the first master fetches the manifests it
applies when the add-ons are not releases of the program."""

from __future__ import annotations

from .labels import KubernetesLabels


def boot_manifest_urls(labels: KubernetesLabels) -> dict[str, str]:
    """Where the first master fetches the add-ons' manifests on the boot-time path
    (``addons_path: boot``, clusters made before the add-ons became releases, and clusters the
    program cannot reach): the CNI's release manifest and cloud-provider-openstack's
    ``manifests`` directory at the release tag."""
    cni = (f"https://raw.githubusercontent.com/projectcalico/calico/"
           f"{labels.resolved_cni_version}/manifests/calico.yaml" if labels.cni == "calico"
           else f"https://github.com/flannel-io/flannel/releases/download/"
                f"{labels.resolved_cni_version}/kube-flannel.yml")
    urls = {"CNI_MANIFEST_URL": cni}
    if labels.cloud_provider_enabled:
        urls["CLOUD_PROVIDER_MANIFESTS_URL"] = (
            f"https://raw.githubusercontent.com/kubernetes/cloud-provider-openstack/"
            f"{labels.resolved_cloud_provider_tag}/manifests")
    return urls


__all__ = ["boot_manifest_urls"]
