"""Reading resources as the engine shows them to a pack: type tokens, URNs, CIDRs, clusters.

Props arrive wrapped in pulumi-policy's unknown-checking proxy (a ``Mapping`` / ``Sequence``,
never a ``dict`` / ``list``), in the SDK's camelCase property names, secrets unwrapped.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource

SEC_GROUP_RULE = "openstack:networking/secGroupRule:SecGroupRule"
SUBNET = "openstack:networking/subnet:Subnet"
LISTENER = "openstack:loadbalancer/listener:Listener"
INSTANCE = "openstack:compute/instance:Instance"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
DYNAMIC = "pulumi-python:dynamic:Resource"
STACK = "pulumi:pulumi:Stack"
CLUSTER_TYPE_PREFIX = "coe:index:"
"""Type tokens of the cluster components (``coe_provider.cluster.base.TYPE_PREFIX``)."""

PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp"}
"""Neutron takes IP protocol numbers as well as names."""

WORLD_LABEL = "0.0.0.0/0"
"""How a listener without ``allowedCidrs`` (every source) is named in messages."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def urn_name(urn: str) -> str:
    """The logical name at the end of a URN."""
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    """The resource's own type token in a URN (the last of its parent-type chain)."""
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def cluster_from_parent(parent_urn: str | None) -> str | None:
    """The cluster a resource belongs to when its parent is a cluster component."""
    if parent_urn and urn_type(parent_urn).startswith(CLUSTER_TYPE_PREFIX):
        return urn_name(parent_urn)
    return None


def cluster_component(resource: PolicyResource) -> PolicyResource | None:
    """The cluster component a stack resource sits under (itself for a component)."""
    current: PolicyResource | None = resource
    while current is not None:
        if current.resource_type.startswith(CLUSTER_TYPE_PREFIX):
            return current
        current = current.parent
    return None


def network(cidr: str) -> Network:
    """A CIDR as a network (host bits allowed, as Neutron allows them)."""
    return ipaddress.ip_network(cidr.strip(), strict=False)


def is_world(cidr: str) -> bool:
    """True for a prefix that admits every address (``0.0.0.0/0``, ``::/0``)."""
    return network(cidr).prefixlen == 0


def within(cidr: str, allowed: Iterable[str]) -> bool:
    """True when every address of ``cidr`` is inside one of ``allowed``."""
    inner = network(cidr)
    for outer_cidr in allowed:
        outer = network(outer_cidr)
        if inner.version == outer.version and inner.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def strings(value: Any) -> list[str]:
    """A list property as plain strings (empty when absent)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [str(item) for item in value]
    return []


def keys(value: Any) -> list[str]:
    """The keys of a mapping property, read without touching (possibly unknown) values."""
    return list(iter(value)) if isinstance(value, Mapping) else []


def port_range(props: Mapping[str, Any]) -> tuple[str, int | None, int | None]:
    """An ingress rule's protocol and port range (``None`` ports: every port)."""
    protocol = str(props.get("protocol") or "")
    protocol = PROTOCOL_NUMBERS.get(protocol, protocol)
    low, high = props.get("portRangeMin"), props.get("portRangeMax")
    return protocol, (int(low) if low else None), (int(high) if high else None)


def overlaps(rule: tuple[str, int | None, int | None], wanted: tuple[str, int, int]) -> bool:
    """True when an ingress rule admits any of ``wanted`` (protocol, first, last port)."""
    protocol, low, high = rule
    kind, first, last = wanted
    if protocol not in (kind, "", "any"):
        return False
    if low is None and high is None:
        return True  # every port
    low = low if low is not None else 1
    high = high if high is not None else 65535
    return low <= last and first <= high


def ports_label(low: int | None, high: int | None) -> str:
    """``22``, ``2379-2380`` or ``*``."""
    if low is None and high is None:
        return "*"
    return str(low) if low == high else f"{low}-{high}"


def line(cluster: str | None, resource: str, problem: str, fix: str) -> str:
    """One violation: the cluster, the resource, what is wrong and the fix."""
    where = f"cluster {cluster}: " if cluster else ""
    return f"{where}{resource} {problem}; {fix}"
