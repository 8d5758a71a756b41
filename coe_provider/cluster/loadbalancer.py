"""The Octavia load balancer in front of the masters' API."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack


@dataclass(frozen=True)
class ApiLoadBalancer:
    """The API load balancer and its addresses."""

    vip_address: pulumi.Output[str]
    """Address on the cluster subnet; nodes join through it."""

    floating_address: pulumi.Output[str] | None
    """Public address, when the load balancer has a floating IP."""


def effective_allowed_cidrs(requested: Sequence[str], cluster_cidrs: Sequence[str]) -> list[str]:
    """The listener's ``allowed_cidrs``: ``requested`` plus every cluster CIDR it does not cover.

    Octavia turns a non-empty list into deny-all-but-these on the VIP, and the nodes reach their
    own API through the VIP (kubeadm's ``controlPlaneEndpoint``, Swarm joins, the readiness gate
    through the bastion, which sits on the cluster subnet): the cluster's subnet is always
    admitted. An empty list already admits everyone and stays empty; a list that covers the
    subnet (the default ``0.0.0.0/0``) is left as it is, so such listeners do not change.
    """
    if not requested:
        return []
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in requested]
    effective = list(requested)
    for cidr in cluster_cidrs:
        wanted = ipaddress.ip_network(cidr, strict=False)
        if not any(n.version == wanted.version and wanted.subnet_of(n)  # type: ignore[arg-type]
                   for n in networks):
            effective.append(str(wanted))
            networks.append(wanted)
    return effective


def create_api_load_balancer(
    cluster: str,
    port: int,
    network_id: pulumi.Input[str],
    subnet_id: pulumi.Input[str],
    member_addresses: Sequence[tuple[str, pulumi.Input[str]]],
    allowed_cidrs: Sequence[str],
    subnet_cidr: pulumi.Input[str],
    floating_ip_pool: str | None,
    parent: pulumi.Resource,
) -> ApiLoadBalancer:
    """Load balancer, TCP pool with a health monitor, one member per master, and a listener.

    ``member_addresses`` pairs each master's stable name with its port address, so members
    depend on ports and not on servers. The listener admits ``allowed_cidrs`` and always the
    cluster's ``subnet_cidr`` (see :func:`effective_allowed_cidrs`).
    """
    opts = pulumi.ResourceOptions(parent=parent)
    name = f"{cluster}-api"
    # The VIP is a port of its own, made before the balancer: its address (and floating IP)
    # are known as soon as the subnet exists, so certificates and node payloads that name the
    # API endpoint never wait for Octavia to build amphorae.
    vip_port = openstack.networking.Port(
        f"{name}-vip", name=f"{name}-vip", network_id=network_id,
        fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=subnet_id)],
        admin_state_up=True, tags=[f"coe-cluster={cluster}"], opts=opts,
    )
    vip_address = vip_port.all_fixed_ips.apply(lambda addresses: addresses[0])
    balancer = openstack.loadbalancer.LoadBalancer(
        name, name=name, vip_port_id=vip_port.id,
        description=f"coe cluster {cluster}: API", tags=[f"coe-cluster={cluster}"], opts=opts,
    )
    pool = openstack.loadbalancer.Pool(
        name, name=name, protocol="TCP", lb_method="ROUND_ROBIN",
        loadbalancer_id=balancer.id, opts=opts,
    )
    openstack.loadbalancer.Monitor(
        name, name=name, pool_id=pool.id, type="TCP", delay=10, timeout=5, max_retries=3,
        opts=opts,
    )
    for member_name, address in member_addresses:
        openstack.loadbalancer.Member(
            member_name, name=member_name, pool_id=pool.id, address=address,
            protocol_port=port, subnet_id=subnet_id, opts=opts,
        )
    openstack.loadbalancer.Listener(
        name, name=name, protocol="TCP", protocol_port=port, loadbalancer_id=balancer.id,
        default_pool_id=pool.id,
        # An in-place update of the listener on existing stacks (allowed_cidrs does not force
        # a new listener in pulumi-openstack / terraform-provider-openstack).
        allowed_cidrs=pulumi.Output.from_input(subnet_cidr).apply(
            lambda cidr: effective_allowed_cidrs(allowed_cidrs, [cidr])),
        # The API streams (logs, exec, watch): idle connections must outlive Octavia's 50 s.
        timeout_client_data=3600000, timeout_member_data=3600000, opts=opts,
    )
    floating_address = None
    if floating_ip_pool:
        floating = openstack.networking.FloatingIp(
            name, pool=floating_ip_pool, port_id=vip_port.id,
            description=f"coe cluster {cluster}: API", opts=opts,
        )
        floating_address = floating.address
    return ApiLoadBalancer(vip_address=vip_address, floating_address=floating_address)
