"""Servers and what hangs off them: ports, server groups, volumes, floating IPs.

Every resource of a node is named from the node's stable name (``{cluster}-{group}-{index}``);
resources of different types share that name, the URN tells them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import pulumi
import pulumi_openstack as openstack

from coe_provider.cluster.network import ClusterNetwork, is_uuid


@dataclass(frozen=True)
class ServerSpec:
    """What one server is built from."""

    name: str
    """Stable node name; also the hostname and the Nova server name."""

    flavor: str
    """Flavor name or ID."""

    image: str
    """Image name or ID."""

    metadata: dict[str, str]
    """Nova metadata (cluster, role, group, index)."""

    availability_zone: str | None
    """Nova availability zone."""

    key_pair: str | None
    """Existing Nova key pair."""

    boot_volume_size: int
    """GiB of a boot volume made from the image; 0 boots from local disk."""

    data_volume_size: int
    """GiB of a blank container-storage volume; 0 = none."""

    volume_type: str | None
    """Cinder volume type for the boot and data volumes."""


NODE_PINNED_INPUTS = ("imageName", "imageId", "flavorName", "flavorId", "userData",
                      "blockDevices", "keyPair")
"""Inputs an existing node keeps from when it was built: changing the group's image, flavor or
bootstrap must not rebuild or resize every node at once."""


class ReplacementPolicy(Enum):
    """What a change to a node's pinned inputs does to an existing node."""

    KEEP = "keep"
    """The node keeps the values it was built with; only new nodes get the new ones."""

    RECREATE = "recreate"
    """The node is recreated with the current values (it is listed in ``replace``)."""


def server_options(policy: ReplacementPolicy, depends_on: Sequence[pulumi.Resource],
                   parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """Resource options of a node's server under ``policy``.

    Servers are always deleted before their replacement is created: the port, the state
    volume and the node's name can belong to one server at a time.
    """
    if policy is ReplacementPolicy.KEEP:
        return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                      delete_before_replace=True,
                                      ignore_changes=list(NODE_PINNED_INPUTS))
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on),
                                  delete_before_replace=True,
                                  replace_on_changes=list(NODE_PINNED_INPUTS))


class ImageResolver:
    """Resolve image names to IDs once per cluster, and only where Nova needs an ID."""

    def __init__(self, parent: pulumi.Resource) -> None:
        self._parent = parent
        self._cache: dict[str, pulumi.Output[str]] = {}

    def image_id(self, image: str) -> pulumi.Output[str]:
        """The image's ID (block device mappings take IDs, not names)."""
        if is_uuid(image):
            return pulumi.Output.from_input(image)
        if image not in self._cache:
            self._cache[image] = openstack.images.get_image_output(
                name=image, most_recent=True, opts=pulumi.InvokeOptions(parent=self._parent)
            ).id
        return self._cache[image]


def create_server_group(name: str, policy: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """A Nova server group; returns its ID for the scheduler hint."""
    group = openstack.compute.ServerGroup(
        name, name=name, policies=policy, opts=pulumi.ResourceOptions(parent=parent)
    )
    return group.id


def create_port(
    name: str,
    network: ClusterNetwork,
    security_group_ids: Sequence[pulumi.Input[str]],
    cluster: str,
    parent: pulumi.Resource,
) -> openstack.networking.Port:
    """The node's port: its address is known before the server exists."""
    return openstack.networking.Port(
        name,
        name=name,
        network_id=network.network_id,
        fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=network.subnet_id)],
        security_group_ids=list(security_group_ids),
        admin_state_up=True,
        tags=[f"coe-cluster={cluster}"],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def port_address(port: openstack.networking.Port) -> pulumi.Output[str]:
    """The port's first fixed IP."""
    return port.all_fixed_ips.apply(lambda addresses: addresses[0])


def create_state_volume(
    name: str,
    size: int,
    volume_type: str | None,
    availability_zone: str | None,
    retain: bool,
    parent: pulumi.Resource,
) -> openstack.blockstorage.Volume:
    """A dedicated volume (etcd, Raft state) whose ID the bootstrap mounts by device id."""
    return openstack.blockstorage.Volume(
        name,
        name=name,
        size=size,
        volume_type=volume_type,
        availability_zone=availability_zone,
        description="coe: control-plane state",
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=retain),
    )


def _block_devices(
    spec: ServerSpec,
    images: ImageResolver,
    state_volume: openstack.blockstorage.Volume | None,
    retain_volumes: bool,
) -> list[openstack.compute.InstanceBlockDeviceArgs]:
    """Boot disk, blank data disk and state volume as one block device mapping.

    Blank volumes go through the server's mapping rather than a volume plus an attachment:
    one resource per node instead of three.
    """
    if not (spec.boot_volume_size or spec.data_volume_size or state_volume is not None):
        return []
    devices = [
        openstack.compute.InstanceBlockDeviceArgs(
            uuid=images.image_id(spec.image),
            source_type="image",
            destination_type="volume" if spec.boot_volume_size else "local",
            volume_size=spec.boot_volume_size or None,
            volume_type=spec.volume_type if spec.boot_volume_size else None,
            boot_index=0,
            delete_on_termination=True,
        )
    ]
    if spec.data_volume_size:
        devices.append(
            openstack.compute.InstanceBlockDeviceArgs(
                source_type="blank",
                destination_type="volume",
                volume_size=spec.data_volume_size,
                volume_type=spec.volume_type,
                boot_index=-1,
                delete_on_termination=not retain_volumes,
            )
        )
    if state_volume is not None:
        devices.append(
            openstack.compute.InstanceBlockDeviceArgs(
                uuid=state_volume.id,
                source_type="volume",
                destination_type="volume",
                boot_index=-1,
                delete_on_termination=False,
            )
        )
    return devices


def create_server(
    spec: ServerSpec,
    port: openstack.networking.Port,
    user_data: pulumi.Input[str],
    server_group_id: pulumi.Input[str],
    images: ImageResolver,
    state_volume: openstack.blockstorage.Volume | None,
    retain_volumes: bool,
    depends_on: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
    policy: ReplacementPolicy = ReplacementPolicy.KEEP,
) -> openstack.compute.Instance:
    """The Nova server, attached through its port, placed through its server group."""
    devices = _block_devices(spec, images, state_volume, retain_volumes)
    # A boot volume carries the image; otherwise Nova boots the image by ID or by name.
    image = None if spec.boot_volume_size else spec.image
    flavor_is_id, image_is_id = is_uuid(spec.flavor), image is not None and is_uuid(image)
    return openstack.compute.Instance(
        spec.name,
        name=spec.name,
        flavor_id=spec.flavor if flavor_is_id else None,
        flavor_name=None if flavor_is_id else spec.flavor,
        image_id=image if image_is_id else None,
        image_name=None if image_is_id else image,
        key_pair=spec.key_pair,
        availability_zone=spec.availability_zone,
        networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
        block_devices=devices or None,
        user_data=user_data,
        metadata=spec.metadata,
        scheduler_hints=[openstack.compute.InstanceSchedulerHintArgs(group=server_group_id)],
        opts=server_options(policy, depends_on, parent),
    )


def create_floating_ip(
    name: str, pool: str, port: openstack.networking.Port, parent: pulumi.Resource
) -> pulumi.Output[str]:
    """A floating IP bound to the node's port; returns the public address."""
    floating = openstack.networking.FloatingIp(
        name, pool=pool, port_id=port.id, description=f"coe node {name}",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return floating.address
