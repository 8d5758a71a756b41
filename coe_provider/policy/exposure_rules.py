"""What faces outside the cluster: internal ports, SSH and the API, by source CIDR."""

from __future__ import annotations

import functools
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from coe_provider.policy.config import allowed_cidrs, allowed_cidrs_schema
from coe_provider.policy.view import (
    LISTENER,
    SEC_GROUP_RULE,
    SUBNET,
    WORLD_LABEL,
    cluster_component,
    cluster_from_parent,
    is_world,
    line,
    overlaps,
    port_range,
    ports_label,
    strings,
    within,
)

INTERNAL_PORTS: dict[str, tuple[str, int, int]] = {
    "etcd": ("tcp", 2379, 2380),
    "the kubelet API": ("tcp", 10250, 10250),
    "the kubelet read-only port": ("tcp", 10255, 10255),
    "the plain Docker API": ("tcp", 2375, 2375),
    "swarm control": ("tcp", 2377, 2377),
    "swarm gossip (tcp)": ("tcp", 7946, 7946),
    "swarm gossip (udp)": ("udp", 7946, 7946),
    "the overlay VXLAN": ("udp", 4789, 4789),
    "the flannel VXLAN": ("udp", 8472, 8472),
    "calico BGP": ("tcp", 179, 179),
}
"""Ports that must only ever be reachable from the cluster's own members (by remote group)."""

SSH: tuple[str, int, int] = ("tcp", 22, 22)


def _ingress_prefix(args: ResourceValidationArgs) -> str | None:
    """The source CIDR of an ingress security group rule (``None`` for other resources)."""
    if args.resource_type != SEC_GROUP_RULE or args.props.get("direction") != "ingress":
        return None
    prefix = args.props.get("remoteIpPrefix")
    return str(prefix) if prefix else None


def _internal_ports(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prefix = _ingress_prefix(args)
    if prefix is None or within(prefix, allowed_cidrs(args.get_config()) or []):
        return
    rule = port_range(args.props)
    for what, wanted in INTERNAL_PORTS.items():
        if overlaps(rule, wanted):
            kind, first, last = wanted
            report(line(cluster_from_parent(args.opts.parent), f"security group rule {args.name}",
                        f"opens {what} ({kind} {ports_label(first, last)}) to {prefix}",
                        "admit cluster members by remote security group, never by CIDR"), None)


INTERNAL_PORTS_CLOSED = ResourceValidationPolicy(
    name="internal-ports-closed",
    description="etcd, the kubelet, the plain Docker API, swarm control and gossip, overlay and "
                "CNI ports are reachable only from the cluster's own members.",
    validate=_internal_ports,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=allowed_cidrs_schema(
        "Source CIDRs that may still reach internal ports (a monitoring network, say).", []),
)
"""Fails the run when an internal port is open to a CIDR."""


def _ssh(args: ResourceValidationArgs, report: ReportViolation) -> None:
    prefix = _ingress_prefix(args)
    if prefix is None or not overlaps(port_range(args.props), SSH):
        return
    allowed = allowed_cidrs(args.get_config())
    if (not within(prefix, allowed)) if allowed is not None else is_world(prefix):
        report(line(cluster_from_parent(args.opts.parent), f"security group rule {args.name}",
                    f"opens SSH (tcp 22) to {prefix}",
                    "list your operators' networks in template.sshAllowedCidrs, or reach "
                    "the nodes through template.bastion"), None)


SSH_NOT_OPEN_TO_WORLD = ResourceValidationPolicy(
    name="ssh-not-open-to-world",
    description="SSH to cluster nodes is never open to 0.0.0.0/0 or ::/0 (nor, when "
                "allowedCidrs is configured, to any source outside it).",
    validate=_ssh,
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=allowed_cidrs_schema(
        "When given, the only source CIDRs SSH may admit."),
)
"""Fails the run when SSH is open to the world."""


@functools.cache
def api_ports() -> dict[str, int]:
    """Cluster component type token -> the port of its API, for every registered driver."""
    from coe_provider.cluster.registry import registered_drivers  # imports the drivers: at run time

    return {info.cls.type_token(): info.cls.api_port for info in registered_drivers().values()}


def _api_sources(props: Any, resource_type: str, api_port: int | None) -> list[str]:
    """The sources a security group rule or listener admits to the API."""
    if resource_type == LISTENER:
        return strings(props.get("allowedCidrs")) or [WORLD_LABEL]  # none: every source
    if (resource_type == SEC_GROUP_RULE and api_port is not None
            and props.get("direction") == "ingress" and props.get("remoteIpPrefix")
            and overlaps(port_range(props), ("tcp", api_port, api_port))):
        return [str(props["remoteIpPrefix"])]
    return []


def _api(args: StackValidationArgs, report: ReportViolation) -> None:
    allowed = allowed_cidrs(args.get_config())
    subnets: list[str] = []
    for resource in args.resources:
        if resource.resource_type == SUBNET:
            try:
                cidr = resource.props.get("cidr")
            except UnknownValueError:
                continue
            if cidr:
                subnets.append(str(cidr))
    ports = api_ports()
    for resource in args.resources:
        component = cluster_component(resource)
        if component is None or resource is component:
            continue
        try:
            sources = _api_sources(resource.props, resource.resource_type,
                                   ports.get(component.resource_type))
        except UnknownValueError:
            continue  # judged once the engine knows the value (pulumi up)
        # The cluster's own subnet is always admitted: balancer health checks, in-cluster
        # clients (the effective list of the API balancer).
        open_to = [cidr for cidr in sources if not within(cidr, subnets) and (
            not within(cidr, allowed) if allowed is not None else is_world(cidr))]
        if open_to:
            kind = "listener" if resource.resource_type == LISTENER else "security group rule"
            report(line(component.name, f"{kind} {resource.name}",
                        f"admits the API from {', '.join(open_to)}",
                        "list the networks that need the API in template.apiAllowedCidrs"),
                   resource.urn)


API_NOT_OPEN_TO_WORLD = StackValidationPolicy(
    name="api-not-open-to-world",
    description="A cluster's API (Kubernetes 6443, Docker TLS 2376) is not open to 0.0.0.0/0 "
                "or ::/0 (nor, when allowedCidrs is configured, to any source outside it "
                "other than the cluster's own subnet).",
    validate=_api,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=allowed_cidrs_schema(
        "When given, the only source CIDRs the API may admit (the cluster subnet is always "
        "admitted)."),
)
"""Warns when the API of a cluster faces the whole internet."""


def _cluster_subnets(args: StackValidationArgs) -> dict[str, list[str]]:
    """Each cluster component's URN -> the CIDRs of the subnets it made (none with an
    existing ``fixedSubnet``: its CIDR is looked up, not planned)."""
    subnets: dict[str, list[str]] = {}
    for resource in args.resources:
        component = cluster_component(resource)
        if component is None or resource.resource_type != SUBNET:
            continue
        try:
            cidr = resource.props.get("cidr")
        except UnknownValueError:
            continue
        if cidr:
            subnets.setdefault(component.urn, []).append(str(cidr))
    return subnets


def _listener_admits_subnet(args: StackValidationArgs, report: ReportViolation) -> None:
    subnets = _cluster_subnets(args)
    for resource in args.resources:
        component = cluster_component(resource)
        if component is None or resource.resource_type != LISTENER:
            continue
        try:
            allowed = strings(resource.props.get("allowedCidrs"))
        except UnknownValueError:
            continue
        shut_out = [cidr for cidr in subnets.get(component.urn, [])
                    if allowed and not within(cidr, allowed)]
        if shut_out:
            report(line(component.name, f"listener {resource.name}",
                        f"admits only {', '.join(allowed)}, which shuts out the cluster subnet "
                        f"{', '.join(shut_out)}: Octavia denies every other source, and the "
                        "nodes reach their own API through the balancer",
                        "admit the cluster subnet in allowedCidrs (coe-provider's own "
                        "listeners always do)"), resource.urn)


API_LISTENER_ADMITS_CLUSTER_SUBNET = StackValidationPolicy(
    name="api-listener-admits-cluster-subnet",
    description="An API listener with allowedCidrs admits its cluster's own subnet: Octavia "
                "denies every source outside a non-empty list, and kubeadm, Swarm joins and "
                "the gate through the bastion reach the API through the balancer.",
    validate=_listener_admits_subnet,
    enforcement_level=EnforcementLevel.MANDATORY,
)
"""Fails a listener that would keep the cluster from forming."""
