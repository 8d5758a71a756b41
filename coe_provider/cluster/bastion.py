"""The bastion: one small server with a floating IP, the only SSH path into the cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from coe_provider.cluster.compute import create_floating_ip, create_port
from coe_provider.cluster.network import ClusterNetwork, is_uuid
from coe_provider.spec.models import BastionSpec, ClusterTemplate


@dataclass(frozen=True)
class Bastion:
    """The bastion server and its public address."""

    server: openstack.compute.Instance
    """The Nova server."""

    address: pulumi.Output[str]
    """Its floating IP."""


def create_bastion(cluster: str, template: ClusterTemplate, network: ClusterNetwork,
                   security_group_id: pulumi.Input[str], user_data: pulumi.Input[str],
                   parent: pulumi.Resource) -> Bastion:
    """Port in the bastion group, server, floating IP."""
    options = template.bastion if isinstance(template.bastion, BastionSpec) else BastionSpec()
    name = f"{cluster}-bastion"
    port = create_port(name, network, [security_group_id], cluster, parent)
    flavor = options.flavor or template.flavor
    image = options.image or template.image
    server = openstack.compute.Instance(
        name,
        name=name,
        flavor_id=flavor if is_uuid(flavor) else None,
        flavor_name=None if is_uuid(flavor) else flavor,
        image_id=image if is_uuid(image) else None,
        image_name=None if is_uuid(image) else image,
        key_pair=template.keypair,
        networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
        user_data=user_data,
        metadata={"coe_cluster": cluster, "coe_role": "bastion"},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=network.ready),
    )
    assert template.external_network is not None  # validation requires it with a bastion
    address = create_floating_ip(name, template.external_network, port, parent)
    return Bastion(server=server, address=address)
