"""The Kubernetes add-ons as resources of the program: a Kubernetes provider per cluster, the
CNI, the OpenStack cloud controller manager and Cinder CSI as Helm releases, and the
``cloud-config`` Secret and default StorageClass as typed objects.

``helm.v3.Release`` rather than ``helm.v4.Chart``: Chart v4 (and ``yaml.v2``) fail preview while
the kubeconfig is unknown (pulumi/pulumi-kubernetes#3027), as it is on a cluster's first
``pulumi up``; a Release previews without a connection (pulumi-kubernetes PR #1886). Helm runs
the install with its hooks and, unless ``skip_await``, waits until the release's workloads are
ready, so an upgrade ends when the new version runs.

Values follow each chart's own ``values.yaml`` (module docstring of :mod:`.addons`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes

from coe_provider.cluster.contract import ProgramAddons
from coe_provider.health.workloads import Workload

from .addons import (
    CALICO_CHART_REPOSITORY,
    CLOUD_PROVIDER_CHART_REPOSITORY,
    FLANNEL_CHART_REPOSITORY,
)
from .images import (
    CSI_SIDECARS,
    Image,
    calico_images,
    cinder_csi_images,
    cloud_controller_images,
    flannel_images,
)
from .labels import KubernetesLabels
from .prefix import Prefix, parse_prefix

RELEASE_TIMEOUT_SECONDS = 900
"""How long Helm waits for a release's workloads (the CSI controller needs the pod network,
which needs the CNI on a node that has just booted)."""

CLOUD_CONFIG_SECRET = "cloud-config"
"""The Secret (in kube-system) both cloud-provider-openstack charts read ``cloud.conf`` from."""

DEFAULT_STORAGE_CLASS = "csi-cinder"
"""The default StorageClass, backed by Cinder CSI."""

CINDER_PROVISIONER = "cinder.csi.openstack.org"
"""Cinder CSI's driver name."""

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
"""kubeadm's control-plane label and taint."""

CONTROL_PLANE_TOLERATIONS: list[dict[str, str]] = [
    {"key": "node.cloudprovider.kubernetes.io/uninitialized", "value": "true",
     "effect": "NoSchedule"},
    {"key": CONTROL_PLANE, "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"},
]
"""What the cloud controller manager and the CSI controller tolerate on the control plane:
the taint a node has until the cloud controller initialises it, kubeadm's control-plane taint,
and a node that is not ready yet (the controller runs before the nodes are)."""


@dataclass(frozen=True)
class ReleaseSpec:
    """One Helm release: what ``coe plan`` lists and what :func:`helm_release` installs."""

    resource: str
    """The Pulumi resource name (``<cluster>-<chart>``)."""

    chart: str
    """The chart's name."""

    version: str
    """The chart version."""

    repository: str
    """The chart repository."""

    namespace: str
    """Where it installs."""

    values: Any
    """Its values: a mapping, or an Output of one (sized by the network's MTU)."""

    workloads: tuple[Workload, ...]
    """What it runs, which the final readiness gate waits for."""

    create_namespace: bool = False
    """Whether Helm creates the namespace."""


def calico_values(pod_cidr: str, network_mtu: int | None) -> dict[str, Any]:
    """tigera-operator values: one IP-in-IP pool over the pod CIDR (the security groups open
    IP protocol 4 and BGP), pod interfaces sized 20 bytes under the network's MTU."""
    network: dict[str, Any] = {"ipPools": [{
        "cidr": pod_cidr, "encapsulation": "IPIP", "natOutgoing": "Enabled",
        "nodeSelector": "all()"}]}
    if network_mtu:
        network["mtu"] = network_mtu - 20
    return {"installation": {"calicoNetwork": network}}


def flannel_values(pod_cidr: str, network_mtu: int | None) -> dict[str, Any]:
    """flannel chart values: the pod CIDR and the VXLAN backend (UDP 8472 is open between
    nodes); flannel subtracts its header from the given MTU itself."""
    flannel: dict[str, Any] = {"backend": "vxlan"}
    if network_mtu:
        flannel["mtu"] = network_mtu
    return {"podCidr": pod_cidr, "flannel": flannel}


def cloud_controller_values(cluster_tag: pulumi.Input[str], image_tag: str) -> dict[str, Any]:
    """openstack-cloud-controller-manager values: the cloud-config Secret made by the program,
    the cloud resource tag as ``--cluster-name`` (what the cleanup selects balancers by), on
    the control plane."""
    return {
        "image": {"tag": image_tag},
        "secret": {"enabled": True, "create": False, "name": CLOUD_CONFIG_SECRET},
        "cluster": {"name": cluster_tag},
        "nodeSelector": {CONTROL_PLANE: ""},
        "tolerations": CONTROL_PLANE_TOLERATIONS,
    }


def cinder_csi_values(cluster_tag: pulumi.Input[str], plugin_tag: str) -> dict[str, Any]:
    """openstack-cinder-csi values: the same Secret, the cloud resource tag as ``clusterID``
    (the volumes' ``cinder.csi.openstack.org/cluster`` metadata, what the cleanup selects
    volumes by), the controller on the control plane, no chart StorageClass (the program
    makes the default one)."""
    return {
        "secret": {"enabled": True, "hostMount": False, "create": False,
                   "name": CLOUD_CONFIG_SECRET, "filename": "cloud.conf"},
        "clusterID": cluster_tag,
        "storageClass": {"enabled": False},
        "csi": {"plugin": {
            "image": {"tag": plugin_tag},
            "controllerPlugin": {"nodeSelector": {CONTROL_PLANE: ""},
                                 "tolerations": CONTROL_PLANE_TOLERATIONS},
        }},
    }


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, mapping by mapping (``extra`` wins on a leaf)."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _image(image: Image, base: str) -> dict[str, str]:
    """A chart's ``image`` mapping: the image under the mirror ``base``, at its tag."""
    return {"repository": f"{base}/{image.name}", "tag": image.tag}


def calico_image_values(chart: str, prefix: Prefix) -> dict[str, Any]:
    """tigera-operator values pulling the operator and every Calico image under ``prefix``:
    the chart writes ``<registry>/<image>:<version>`` for the operator (its ``_helpers.tpl``),
    the operator ``<registry>/<imagePath>/<name>`` for Calico's (module :mod:`.prefix`)."""
    operator = calico_images(chart)[0]
    return {"tigeraOperator": {"registry": prefix.base, "image": operator.name,
                               "version": operator.tag},
            "installation": {"registry": prefix.host, "imagePath": prefix.path}}


def flannel_image_values(chart: str, prefix: Prefix) -> dict[str, Any]:
    """flannel chart values: both images under ``prefix`` (``flannel.image``,
    ``flannel.flannel_cni.image``)."""
    flannel, plugin = flannel_images(chart)
    return {"flannel": {"image": _image(flannel, prefix.base),
                        "flannel_cni": {"image": _image(plugin, prefix.base)}}}


def cloud_controller_image_values(chart: str, tag: str, prefix: Prefix) -> dict[str, Any]:
    """openstack-cloud-controller-manager values: its image under ``prefix``."""
    return {"image": _image(cloud_controller_images(chart, tag)[0], prefix.base)}


def cinder_csi_image_values(chart: str, plugin_tag: str, prefix: Prefix) -> dict[str, Any]:
    """openstack-cinder-csi values: the plugin and every sidecar under ``prefix``."""
    plugin, *sidecars = cinder_csi_images(chart, plugin_tag)
    csi: dict[str, Any] = {"plugin": {"image": _image(plugin, prefix.base)}}
    for (key, _), image in zip(CSI_SIDECARS, sidecars, strict=True):
        csi[key] = {"image": _image(image, prefix.base)}
    return {"csi": csi}


def _sized(values: Callable[[str, int | None], dict[str, Any]], pod_cidr: str,
           network_mtu: pulumi.Input[int | None], images: dict[str, Any]) -> Any:
    """CNI values for the network's MTU (plain when it is known plainly), with ``images``."""
    if network_mtu is None or isinstance(network_mtu, int):
        return merged(values(pod_cidr, network_mtu), images)
    sized: pulumi.Output[int | None] = pulumi.Output.from_input(network_mtu)
    return sized.apply(lambda mtu: merged(values(pod_cidr, mtu), images))


def release_specs(cluster: str, labels: KubernetesLabels,
                  network_mtu: pulumi.Input[int | None],
                  cluster_tag: pulumi.Input[str] | None) -> list[ReleaseSpec]:
    """The cluster's releases, CNI first (the others need its network).

    Under ``container_infra_prefix``, every image of every release is set in its values
    (repository and tag, from :mod:`.images`). Without it the values name none beyond the
    cloud provider's tags, as before: a release of a running cluster keeps identical values
    (an explicit image equal to the chart's default would still be a Helm upgrade), and the
    chart defaults are the images :func:`.images.cluster_images` lists."""
    cni_chart = labels.resolved_cni_chart_version
    assert cni_chart is not None, "chart_problems refuses a CNI release without a chart"
    prefix = (parse_prefix(labels.container_infra_prefix)
              if labels.container_infra_prefix is not None else None)
    if labels.cni == "calico":
        images = calico_image_values(cni_chart, prefix) if prefix else {}
        releases = [ReleaseSpec(
            f"{cluster}-tigera-operator", "tigera-operator", cni_chart, CALICO_CHART_REPOSITORY,
            "tigera-operator", _sized(calico_values, labels.pod_cidr, network_mtu, images),
            (Workload("Deployment", "tigera-operator", "tigera-operator"),
             Workload("DaemonSet", "calico-system", "calico-node")), create_namespace=True)]
    else:
        images = flannel_image_values(cni_chart, prefix) if prefix else {}
        releases = [ReleaseSpec(
            f"{cluster}-flannel", "flannel", cni_chart, FLANNEL_CHART_REPOSITORY, "kube-flannel",
            _sized(flannel_values, labels.pod_cidr, network_mtu, images),
            (Workload("DaemonSet", "kube-flannel", "kube-flannel-ds"),))]
    if labels.cloud_provider_enabled and cluster_tag is not None:
        controller = labels.resolved_cloud_provider_chart_version
        csi = labels.resolved_cinder_csi_chart_version
        assert controller and csi, "chart_problems refuses a cloud provider without charts"
        controller_values = cloud_controller_values(cluster_tag,
                                                    labels.resolved_cloud_provider_tag)
        csi_values = cinder_csi_values(cluster_tag, labels.resolved_cinder_csi_plugin_tag)
        if prefix:
            controller_values = merged(controller_values, cloud_controller_image_values(
                controller, labels.resolved_cloud_provider_tag, prefix))
            csi_values = merged(csi_values, cinder_csi_image_values(
                csi, labels.resolved_cinder_csi_plugin_tag, prefix))
        releases += [
            ReleaseSpec(f"{cluster}-openstack-cloud-controller-manager",
                        "openstack-cloud-controller-manager", controller,
                        CLOUD_PROVIDER_CHART_REPOSITORY, "kube-system", controller_values,
                        (Workload("DaemonSet", "kube-system",
                                  "openstack-cloud-controller-manager"),)),
            ReleaseSpec(f"{cluster}-openstack-cinder-csi", "openstack-cinder-csi", csi,
                        CLOUD_PROVIDER_CHART_REPOSITORY, "kube-system", csi_values,
                        (Workload("Deployment", "kube-system",
                                  "openstack-cinder-csi-controllerplugin"),
                         Workload("DaemonSet", "kube-system",
                                  "openstack-cinder-csi-nodeplugin"))),
        ]
    return releases


def kubernetes_provider(cluster: str, kubeconfig: pulumi.Input[str],
                        parent: pulumi.Resource) -> kubernetes.Provider:
    """The cluster's own Kubernetes provider, from its admin kubeconfig (a secret).

    ``cluster_identifier``: the kubeconfig is unknown while the cluster is planned, and a
    provider without an identifier is replaced (with everything it manages) when its
    configuration changes (pulumi-kubernetes provider.go, DiffConfig); the cluster's name
    never changes. ``delete_unreachable``: a destroy of a cluster whose API is gone (its
    servers deleted first, or by hand) drops its Kubernetes objects from the state instead of
    hanging; they lived only in that cluster, and the cleanup deletes what its controllers made
    in OpenStack (pulumi-kubernetes PRs #2037, #2489)."""
    return kubernetes.Provider(
        f"{cluster}-kubernetes", kubeconfig=kubeconfig, cluster_identifier=cluster,
        delete_unreachable=True, opts=pulumi.ResourceOptions(parent=parent))


def chart_location(spec: ReleaseSpec, chart_repository: str | None) -> tuple[str, str | None]:
    """Where Helm finds the release's chart: ``(chart, repository)``. Its upstream repository,
    or ``chart_repository`` when set: an ``oci://`` one names the chart by reference (Helm
    has no repository index there), an https one serves an index like the upstream."""
    if chart_repository is None:
        return spec.chart, spec.repository
    if chart_repository.startswith("oci://"):
        return f"{chart_repository.rstrip('/')}/{spec.chart}", None
    return spec.chart, chart_repository


def helm_release(spec: ReleaseSpec, provider: kubernetes.Provider, parent: pulumi.Resource,
                 depends_on: list[pulumi.Resource],
                 chart_repository: str | None = None) -> kubernetes.helm.v3.Release:
    """One release, named as its chart so its workloads have the names the gate waits for."""
    chart, repository = chart_location(spec, chart_repository)
    return kubernetes.helm.v3.Release(
        spec.resource, name=spec.chart, chart=chart, version=spec.version,
        repository_opts=kubernetes.helm.v3.RepositoryOptsArgs(repo=repository)
        if repository else None,
        namespace=spec.namespace, create_namespace=spec.create_namespace, values=spec.values,
        timeout=RELEASE_TIMEOUT_SECONDS,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on))


def install_addons(cluster: str, labels: KubernetesLabels, kubeconfig: pulumi.Input[str],
                   cloud_config: pulumi.Input[str] | None,
                   network_mtu: pulumi.Input[int | None],
                   cluster_tag: pulumi.Input[str] | None, api_ready: pulumi.Resource,
                   parent: pulumi.Resource) -> ProgramAddons:
    """Every add-on, after ``api_ready``: the CNI, then the cloud controller manager (which
    initialises the nodes), then Cinder CSI, with the Secret and StorageClass they need."""
    provider = kubernetes_provider(cluster, kubeconfig, parent)
    options = pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=[api_ready])
    made: list[pulumi.Resource] = []
    workloads: list[Workload] = []
    before: list[pulumi.Resource] = [api_ready]
    if labels.cni == "flannel":
        # flannel's pods need the privileged Pod Security level (its chart's README).
        before.append(kubernetes.core.v1.Namespace(
            f"{cluster}-kube-flannel", metadata={"name": "kube-flannel", "labels": {
                "pod-security.kubernetes.io/enforce": "privileged"}}, opts=options))
        made.append(before[-1])
    secret = None
    if cloud_config is not None and labels.cloud_provider_enabled:
        secret = kubernetes.core.v1.Secret(
            f"{cluster}-cloud-config", metadata={"name": CLOUD_CONFIG_SECRET,
                                                 "namespace": "kube-system"},
            type="Opaque", string_data={"cloud.conf": pulumi.Output.secret(cloud_config)},
            opts=options)
        made.append(secret)
    for spec in release_specs(cluster, labels, network_mtu, cluster_tag):
        release = helm_release(spec, provider, parent, [*before, *([secret] if secret else [])],
                               labels.chart_repository)
        made.append(release)
        workloads += spec.workloads
        before = [release]
    if secret is not None:
        made.append(kubernetes.storage.v1.StorageClass(
            f"{cluster}-storage-class",
            metadata={"name": DEFAULT_STORAGE_CLASS, "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
            provisioner=CINDER_PROVISIONER, reclaim_policy="Delete",
            allow_volume_expansion=True, volume_binding_mode="WaitForFirstConsumer",
            opts=options))
    return ProgramAddons(resources=made, workloads=tuple(workloads))


__all__ = [
    "CLOUD_CONFIG_SECRET",
    "CONTROL_PLANE_TOLERATIONS",
    "DEFAULT_STORAGE_CLASS",
    "ReleaseSpec",
    "calico_image_values",
    "calico_values",
    "chart_location",
    "cinder_csi_image_values",
    "cinder_csi_values",
    "cloud_controller_image_values",
    "cloud_controller_values",
    "flannel_image_values",
    "flannel_values",
    "helm_release",
    "install_addons",
    "kubernetes_provider",
    "merged",
    "release_specs",
]
