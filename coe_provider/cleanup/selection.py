"""Which cloud objects belong to one cluster: exact matches on its cloud resource tag.

The names and descriptions are the ones cloud-provider-openstack writes:

* balancers ``kube_service_<tag>_<namespace>_<service>`` (Octavia ingress:
  ``kube_ingress_<tag>_<namespace>_<name>``) with the description ``... from cluster <tag>``;
* floating IPs ``Floating IP for Kubernetes ... from cluster <tag>``;
* Cinder CSI volumes with the metadata ``cinder.csi.openstack.org/cluster: <tag>``.

A description is written once, when the object is made: cloud-provider-openstack moves a floating
IP it allocated to another Service's balancer (``loadBalancerIP``, kept with
``loadbalancer.openstack.org/keep-floatingip``) without rewriting it, and a volume handed to another
cluster keeps its metadata. So a tag says who *made* an object, not who uses it: the executor
also checks where an address or a volume is attached (:func:`allocated_for`).

Every rule compares the whole tag, never a prefix: a cluster tagged ``prod-x`` never selects
``prod-x-2``'s objects. Objects are read through attributes, as openstacksdk returns them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

BALANCER_KINDS = ("kube_service", "kube_ingress")
"""Name prefixes of the balancers the cloud controller manager and the ingress make."""

CSI_CLUSTER_KEY = "cinder.csi.openstack.org/cluster"
"""The volume metadata key Cinder CSI sets to its ``--cluster`` value."""

COMPUTE_OWNER_PREFIX = "compute:"
"""``device_owner`` of a port bound to a Nova server."""

GONE_STATUSES = ("PENDING_DELETE", "DELETED")
"""Balancer states in which a delete request is not needed (or refused)."""

_VERSION_SUFFIX = re.compile(r", version: \d+$")

_DESCRIPTION_CLUSTER = re.compile(r" from cluster ([^,\s]+)(, version: \d+)?$")


def _text(item: Any, field: str) -> str:
    return str(getattr(item, field, None) or "")


def balancer_tag(name: str) -> str | None:
    """The cluster tag inside a cloud-provider balancer name, or None for other names."""
    for kind in BALANCER_KINDS:
        if name.startswith(kind + "_"):
            # Tags, namespaces and service names never contain '_' (DNS labels).
            tag = name[len(kind) + 1:].split("_", 1)[0]
            return tag or None
    return None


def description_tag(description: str) -> str | None:
    """The cluster named at the end of a cloud-provider description, or None."""
    match = _DESCRIPTION_CLUSTER.search(description)
    return match.group(1) if match else None


def is_cluster_balancer(balancer: Any, tag: str) -> bool:
    """The balancer was made for a Service or Ingress of the cluster tagged ``tag``."""
    name_tag = balancer_tag(_text(balancer, "name"))
    if name_tag is not None:
        return name_tag == tag
    description = _text(balancer, "description")
    return description.startswith("Kubernetes ") and description_tag(description) == tag


def is_cluster_floating_ip(floating_ip: Any, tag: str) -> bool:
    """The floating IP was allocated by the cluster's cloud provider."""
    description = _text(floating_ip, "description")
    return (description.startswith("Floating IP for Kubernetes ")
            and description_tag(description) == tag)


def allocated_for(floating_ip: Any, balancer: Any) -> bool:
    """The floating IP was allocated for this balancer's Service or Ingress.

    cloud-provider-openstack writes the balancer's description as ``Kubernetes external service
    <namespace>/<name> from cluster <tag>`` and the address it allocates for it as ``Floating
    IP for `` and the same words (pkg/openstack/loadbalancer.go: the load balancer and floating
    IP create options; the Octavia ingress controller does the same for ingresses,
    pkg/ingress/controller); the ingress controller later appends ``, version: <n>`` to the
    balancer's description only.
    """
    made_for = _text(floating_ip, "description").removeprefix("Floating IP for ")
    described = _VERSION_SUFFIX.sub("", _text(balancer, "description"))
    return bool(described) and made_for.lower() == described.lower()


def is_cluster_volume(volume: Any, tag: str) -> bool:
    """The volume was provisioned by the cluster's Cinder CSI."""
    metadata = getattr(volume, "metadata", None) or {}
    return metadata.get(CSI_CLUSTER_KEY) == tag


def balancer_port_names(balancer_id: str) -> set[str]:
    """Names the load balancer drivers give a balancer's VIP port (amphora and OVN)."""
    return {f"octavia-lb-{balancer_id}", f"ovn-lb-vip-{balancer_id}"}


def is_balancer_port(port: Any, network_id: str, balancer_ids: Iterable[str]) -> bool:
    """The port in the cluster network was made for one of ``balancer_ids``."""
    if _text(port, "network_id") != network_id:
        return False
    name, device = _text(port, "name"), _text(port, "device_id")
    return any(name in balancer_port_names(i) or device == f"lb-{i}" for i in balancer_ids)


def is_cluster_port(port: Any, cluster: str) -> bool:
    """A port the cluster made for one of its servers (nodes and bastion)."""
    return f"coe-cluster={cluster}" in (getattr(port, "tags", None) or [])


def is_bastion_port(port: Any, cluster: str) -> bool:
    """The port of the cluster's bastion: it runs no cloud provider, so it never recreates
    what the cleanup deletes, and nothing orders its delete against the cleanup."""
    return is_cluster_port(port, cluster) and _text(port, "name") == f"{cluster}-bastion"


def is_live_node_port(port: Any, cluster: str) -> bool:
    """A port of the cluster's nodes (not its bastion) that is still bound to a server."""
    return (is_cluster_port(port, cluster) and not is_bastion_port(port, cluster)
            and _text(port, "device_owner").startswith(COMPUTE_OWNER_PREFIX))


def select(items: Iterable[Any], rule: Any, *args: Any) -> list[Any]:
    """The items ``rule(item, *args)`` accepts, sorted by name then ID for stable output."""
    chosen = [item for item in items if rule(item, *args)]
    return sorted(chosen, key=lambda item: (_text(item, "name"), _text(item, "id")))
