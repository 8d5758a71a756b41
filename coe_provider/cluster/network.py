"""The cluster's network: managed (network, subnet, router) or an existing network and subnet."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from coe_provider.spec.models import ClusterTemplate

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def is_uuid(value: str) -> bool:
    """OpenStack IDs are UUIDs; anything else is a name to look up."""
    return bool(_UUID.match(value))


@dataclass(frozen=True)
class ClusterNetwork:
    """Where the cluster's ports live."""

    network_id: pulumi.Output[str]
    """Neutron network ID."""

    subnet_id: pulumi.Output[str]
    """Neutron subnet ID."""

    cidr: pulumi.Output[str]
    """The subnet's CIDR (load balancers and health checks come from it)."""

    mtu: pulumi.Output[int | None]
    """The network's MTU as Neutron reports it (its ``mtu`` attribute; read, never set)."""

    ready: list[pulumi.Resource]
    """Resources servers must wait for (the router interface: without it nodes cannot reach
    package mirrors during boot)."""


def external_network_id(name_or_id: str, opts: pulumi.InvokeOptions) -> pulumi.Output[str]:
    """The external network's ID; looked up only when a name was given."""
    if is_uuid(name_or_id):
        return pulumi.Output.from_input(name_or_id)
    return openstack.networking.get_network_output(
        name=name_or_id, external=True, opts=opts
    ).id


def network_mtu(template_mtu: int | None,
                reported: pulumi.Output[int | None]) -> pulumi.Output[int | None]:
    """The template's MTU when set, else the one Neutron reports (``None`` for 0 or none: a
    cloud without the ``net-mtu`` extension)."""
    if template_mtu is not None:
        return pulumi.Output.from_input(template_mtu)
    return reported.apply(lambda mtu: int(mtu) if mtu else None)


def managed_network(
    cluster: str, template: ClusterTemplate, parent: pulumi.Resource
) -> ClusterNetwork:
    """Create the cluster's own network, subnet, and router to the external network."""
    opts = pulumi.ResourceOptions(parent=parent)
    network = openstack.networking.Network(
        cluster, name=cluster, admin_state_up=True, tags=[f"coe-cluster={cluster}"], opts=opts
    )
    subnet = openstack.networking.Subnet(
        cluster,
        name=cluster,
        network_id=network.id,
        cidr=template.subnet_cidr,
        ip_version=4,
        dns_nameservers=list(template.dns_nameservers),
        tags=[f"coe-cluster={cluster}"],
        opts=opts,
    )
    ready: list[pulumi.Resource] = []
    if template.external_network:
        router = openstack.networking.Router(
            cluster,
            name=cluster,
            admin_state_up=True,
            external_network_id=external_network_id(
                template.external_network, pulumi.InvokeOptions(parent=parent)
            ),
            tags=[f"coe-cluster={cluster}"],
            opts=opts,
        )
        interface = openstack.networking.RouterInterface(
            cluster, router_id=router.id, subnet_id=subnet.id, opts=opts
        )
        ready.append(interface)
    return ClusterNetwork(
        network_id=network.id, subnet_id=subnet.id, cidr=subnet.cidr, mtu=network.mtu,
        ready=ready,
    )


def existing_network(template: ClusterTemplate, parent: pulumi.Resource) -> ClusterNetwork:
    """Look up ``fixedNetwork`` (and ``fixedSubnet``, else the network's first subnet)."""
    assert template.fixed_network is not None
    invoke = pulumi.InvokeOptions(parent=parent)
    if is_uuid(template.fixed_network):
        network = openstack.networking.get_network_output(
            network_id=template.fixed_network, opts=invoke
        )
    else:
        network = openstack.networking.get_network_output(name=template.fixed_network, opts=invoke)
    if template.fixed_subnet is None:
        subnet = openstack.networking.get_subnet_output(
            network_id=network.id, ip_version=4, opts=invoke
        )
    elif is_uuid(template.fixed_subnet):
        subnet = openstack.networking.get_subnet_output(
            subnet_id=template.fixed_subnet, opts=invoke)
    else:
        subnet = openstack.networking.get_subnet_output(
            name=template.fixed_subnet, network_id=network.id, opts=invoke
        )
    return ClusterNetwork(
        network_id=network.id, subnet_id=subnet.id, cidr=subnet.cidr, mtu=network.mtu,
        ready=[],
    )


def cluster_network(
    cluster: str, template: ClusterTemplate, parent: pulumi.Resource
) -> ClusterNetwork:
    """The managed or the existing network, as the template asks."""
    if template.fixed_network:
        return existing_network(template, parent)
    return managed_network(cluster, template, parent)
