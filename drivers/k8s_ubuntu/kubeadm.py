"""kubeadm configuration documents (v1beta4) for each kind of node, rendered as YAML."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from coe_provider.spec.yamldump import SafeDumper

from .images import kubeadm_tags
from .labels import KubernetesLabels
from .prefix import parse_prefix

API_VERSION = "kubeadm.k8s.io/v1beta4"
"""kubeadm configuration API this driver writes."""

ETCD_DATA_DIR = "/var/lib/etcd"
"""Where the local etcd keeps its data."""


@dataclass(frozen=True)
class JoinSecrets:
    """What a node needs to join: the bootstrap token, the CA hash, the certificate key."""

    token: str
    """Bootstrap token ``[a-z0-9]{6}.[a-z0-9]{16}``."""

    ca_cert_hash: str
    """``sha256:<hex>`` of the cluster CA's public key."""

    certificate_key: str
    """Key for ``kubeadm init phase upload-certs``, should an operator add a master by hand."""


def _kubelet_args(labels: KubernetesLabels, node_labels: dict[str, str]) -> list[dict[str, str]]:
    args = []
    if labels.cloud_provider_enabled:
        args.append({"name": "cloud-provider", "value": "external"})
    if node_labels:
        joined = ",".join(f"{key}={value}" for key, value in sorted(node_labels.items()))
        args.append({"name": "node-labels", "value": joined})
    return args


def _taints(taints: tuple[str, ...]) -> list[dict[str, str]]:
    parsed = []
    for taint in taints:
        key_value, effect = taint.rsplit(":", 1)
        key, _, value = key_value.partition("=")
        entry = {"key": key, "effect": effect}
        if value:
            entry["value"] = value
        parsed.append(entry)
    return parsed


def _node_registration(name: str, labels: KubernetesLabels, node_labels: dict[str, str],
                       taints: tuple[str, ...] | None) -> dict[str, Any]:
    registration: dict[str, Any] = {
        "name": name,
        "criSocket": "unix:///run/containerd/containerd.sock",
        "kubeletExtraArgs": _kubelet_args(labels, node_labels),
    }
    if taints is not None:
        registration["taints"] = _taints(taints)
    return registration


def image_settings(labels: KubernetesLabels) -> dict[str, Any]:
    """ClusterConfiguration's images: etcd's and CoreDNS's tags pinned to the minor's
    (:data:`.images.KUBEADM_IMAGES`: kubeadm moves etcd within a minor, so the tag the driver
    lists is the one that runs), and ``imageRepository`` under ``container_infra_prefix``
    (kubeadm then pulls ``<prefix>/<component>``, CoreDNS included, and the pause image)."""
    settings: dict[str, Any] = {}
    if labels.container_infra_prefix is not None:
        settings["imageRepository"] = parse_prefix(labels.container_infra_prefix).base
    tags = kubeadm_tags(labels)
    if tags is not None:
        settings["etcd"] = {"local": {"dataDir": ETCD_DATA_DIR, "imageTag": tags.etcd}}
        settings["dns"] = {"imageTag": tags.coredns}
    return settings


def init_configuration(
    cluster: str, node: str, address: str, endpoint: str, port: int, sans: list[str],
    labels: KubernetesLabels, secrets: JoinSecrets, node_labels: dict[str, str],
) -> str:
    """InitConfiguration + ClusterConfiguration + KubeletConfiguration for the first master;
    ``node_labels`` are the master group's, as the other masters apply them."""
    init = {
        "apiVersion": API_VERSION,
        "kind": "InitConfiguration",
        "bootstrapTokens": [{
            "token": secrets.token,
            # Nodes join whenever the cluster scales, so the token must not expire.
            "ttl": "0s",
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
            "description": "coe-provider node joins",
        }],
        "certificateKey": secrets.certificate_key,
        "localAPIEndpoint": {"advertiseAddress": address, "bindPort": port},
        "nodeRegistration": _node_registration(node, labels, node_labels, None),
    }
    controller_args = [{"name": "cloud-provider", "value": "external"}] \
        if labels.cloud_provider_enabled else []
    cluster_config = {
        "apiVersion": API_VERSION,
        "kind": "ClusterConfiguration",
        "clusterName": cluster,
        "kubernetesVersion": labels.kube_tag,
        "controlPlaneEndpoint": f"{endpoint}:{port}",
        "networking": {"podSubnet": labels.pod_cidr, "serviceSubnet": labels.service_cidr},
        "apiServer": {"certSANs": sorted(set(sans))},
        "controllerManager": {"extraArgs": controller_args},
        "etcd": {"local": {"dataDir": ETCD_DATA_DIR}},
    }
    cluster_config.update(image_settings(labels))
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",
    }
    return yaml.dump_all([init, cluster_config, kubelet], Dumper=SafeDumper, sort_keys=False)


def join_configuration(
    node: str, address: str, endpoint: str, port: int, labels: KubernetesLabels,
    secrets: JoinSecrets, control_plane: bool, node_labels: dict[str, str],
    taints: tuple[str, ...],
) -> str:
    """JoinConfiguration for another master (``control_plane``) or a worker."""
    join: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {
            "apiServerEndpoint": f"{endpoint}:{port}",
            "token": secrets.token,
            "caCertHashes": [secrets.ca_cert_hash],
        }},
        "nodeRegistration": _node_registration(
            node, labels, node_labels, None if control_plane else taints),
    }
    if control_plane:
        # Every master gets the CA material in its cloud-config, so no certificateKey here:
        # with one, kubeadm would try to download certificates that were never uploaded.
        join["controlPlane"] = {
            "localAPIEndpoint": {"advertiseAddress": address, "bindPort": port},
        }
    return yaml.dump(join, Dumper=SafeDumper, sort_keys=False)
