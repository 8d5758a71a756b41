"""The value types a driver exchanges with the base component.

The methods a driver must implement are documented on :class:`coe_provider.cluster.base.CoeCluster`;
this module holds the data they take and return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import pulumi

from coe_provider.health.workloads import Workload
from coe_provider.spec.models import Role


@dataclass(frozen=True)
class DriverProvides:
    """What a driver builds, used to find it without naming it (Magnum's ``provides``)."""

    coe: str
    """Container orchestration engine: ``kubernetes``, ``swarm``."""

    os: str
    """Operating system distro of the node images: ``ubuntu``."""

    also_os: tuple[str, ...] = ()
    """Other distros whose images the driver's bootstrap supports (``debian``); a lookup by
    ``coe`` and ``os`` matches any of them."""

    server_type: Literal["vm", "bm"] = "vm"
    """Virtual machines or bare metal."""


class Source(Enum):
    """Where an ingress rule admits traffic from."""

    MASTERS = "masters"
    """The masters' security group (remote group)."""

    WORKERS = "workers"
    """The workers' security group (remote group)."""

    SUBNET = "subnet"
    """The cluster subnet's CIDR (load balancer amphorae and health monitors live there)."""

    API_CLIENTS = "api"
    """The template's ``apiAllowedCidrs``: the only source outside the cluster for the API."""

    SSH_CLIENTS = "ssh"
    """The template's ``sshAllowedCidrs``."""

    BASTION = "bastion"
    """The bastion's security group (remote group)."""


CLUSTER_SOURCES: tuple[Source, ...] = (Source.MASTERS, Source.WORKERS)
"""Both roles: intra-cluster traffic, always by remote group, never by CIDR."""


@dataclass(frozen=True)
class SecurityRule:
    """One ingress rule on the security group of ``role``."""

    role: Literal["master", "worker", "bastion"]
    """The role whose security group gets the rule."""

    protocol: str
    """IP protocol as Neutron takes it: ``tcp``, ``udp``, ``icmp`` or a protocol number."""

    port_min: int | None
    """First port (``None`` for ICMP)."""

    port_max: int | None
    """Last port (``None`` for ICMP)."""

    sources: tuple[Source, ...]
    """Where the traffic may come from; one rule per source (and per CIDR) is created."""

    description: str
    """What the port is for, shown in Neutron."""


@dataclass(frozen=True)
class NodeContext:
    """Everything a driver needs to render one node's bootstrap."""

    cluster: str
    """Cluster name."""

    role: Role
    """``master`` or ``worker``."""

    group: str
    """Node group name (``master`` for masters)."""

    index: int
    """Stable index of the node inside its group."""

    name: str
    """Stable node name, ``{cluster}-{group}-{index}`` (also its hostname)."""

    first_master: bool
    """True on the one master that initialises the cluster."""

    address: pulumi.Output[str]
    """The node's own fixed IP on the cluster subnet."""

    etcd_volume_id: pulumi.Output[str] | None
    """ID of the node's dedicated state volume (masters with ``etcdVolumeSize``)."""

    data_volume_gib: int
    """GiB of the node's blank container-storage disk; 0 = none."""

    labels: dict[str, str] = field(default_factory=dict)
    """Node labels of the group."""

    taints: tuple[str, ...] = ()
    """Node taints of the group."""


@dataclass(frozen=True)
class BootstrapFile:
    """A file cloud-init writes before the bootstrap script runs."""

    path: str
    """Absolute path on the node."""

    content: pulumi.Input[str]
    """File content; may be an output of another resource."""

    permissions: str = "0644"
    """Octal mode."""


@dataclass(frozen=True)
class BootstrapPayload:
    """What a driver hands the node: files, environment, and the script that forms the cluster."""

    script: str
    """The driver's bootstrap script (bash), installed as ``/usr/local/bin/coe-bootstrap``."""

    environment: dict[str, pulumi.Input[str]]
    """Variables written to ``/etc/coe/driver.env`` for the script."""

    files: list[BootstrapFile] = field(default_factory=list)
    """Further files (configuration, certificates)."""

    ssh_host_keys: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """The node's SSH host keys as cloud-init's ``ssh_keys`` takes them (``ed25519_private``,
    ``ed25519_public``, ...): preset so that peers can pin them instead of trusting the first
    connection. Empty keeps the keys the image generates."""


@dataclass(frozen=True)
class RemovalStep:
    """How the driver's scale manager takes one node out of the COE before its server goes.

    The script runs over SSH as the cluster's ``coe`` user (with passwordless sudo) when the
    node's removal command is deleted, which the engine orders before the server's deletion.
    """

    run_on: Literal["first_master", "self"]
    """Where the script runs: on the first master, or on the departing node itself."""

    script: str
    """A bash script; ``$NODE`` is the departing node's name, ``$TIMEOUT`` the drain budget."""


@dataclass(frozen=True)
class ProgramAddons:
    """What a driver installs from the program once the API answers (the first readiness
    stage): the resources the final readiness gate waits for, and the workloads they run."""

    resources: list[pulumi.Resource]
    """The add-on resources (Helm releases, typed objects); the final gate depends on them,
    so a destroy removes them before the first stage's gate and the servers."""

    workloads: tuple[Workload, ...] = ()
    """The workloads the final gate waits to be ready, beside every declared node."""
