"""Security groups per role, with the driver's ingress rules.

Intra-cluster traffic is admitted by remote group, never by CIDR; only the sources the template
names (``apiAllowedCidrs``, ``sshAllowedCidrs``) and the subnet (for load balancer health
checks) are admitted by prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from coe_provider.cluster.contract import SecurityRule, Source
from coe_provider.spec.models import ClusterTemplate, Role

ROLES: tuple[Role, ...] = ("master", "worker")
"""Every node role gets its own security group (the bastion too, when there is one)."""


@dataclass(frozen=True)
class SecurityGroups:
    """The security group of each role."""

    by_role: dict[str, openstack.networking.SecGroup]
    """Security group per role (``master``, ``worker``, and ``bastion`` when present)."""

    def ids(self, role: str) -> list[pulumi.Output[str]]:
        """IDs to put on a port of ``role``."""
        return [self.by_role[role].id]


def _port_label(rule: SecurityRule) -> str:
    if rule.port_min is None:
        return rule.protocol
    if rule.port_min == rule.port_max:
        return f"{rule.protocol}-{rule.port_min}"
    return f"{rule.protocol}-{rule.port_min}-{rule.port_max}"


def _cidr_label(cidr: str) -> str:
    return cidr.replace("/", "_").replace(":", "_")


def create_security_groups(
    cluster: str,
    template: ClusterTemplate,
    subnet_cidr: pulumi.Input[str],
    rules: Sequence[SecurityRule],
    parent: pulumi.Resource,
    with_bastion: bool = False,
) -> SecurityGroups:
    """One security group per role, then one rule per (rule, source, CIDR)."""
    opts = pulumi.ResourceOptions(parent=parent)
    roles: tuple[str, ...] = (*ROLES, "bastion") if with_bastion else ROLES
    groups: dict[str, openstack.networking.SecGroup] = {
        role: openstack.networking.SecGroup(
            f"{cluster}-{role}",
            name=f"{cluster}-{role}",
            description=f"coe cluster {cluster}: {role}",
            tags=[f"coe-cluster={cluster}"],
            opts=opts,
        )
        for role in roles
    }
    remote_groups = {Source.MASTERS: groups["master"], Source.WORKERS: groups["worker"]}
    if with_bastion:
        remote_groups[Source.BASTION] = groups["bastion"]

    def add(rule: SecurityRule, suffix: str, remote_group_id: pulumi.Input[str] | None = None,
            remote_ip_prefix: pulumi.Input[str] | None = None, ethertype: str = "IPv4") -> None:
        openstack.networking.SecGroupRule(
            f"{cluster}-{rule.role}-{_port_label(rule)}-from-{suffix}",
            direction="ingress",
            ethertype=ethertype,
            protocol=rule.protocol,
            port_range_min=rule.port_min,
            port_range_max=rule.port_max,
            security_group_id=groups[rule.role].id,
            description=rule.description,
            remote_group_id=remote_group_id,
            remote_ip_prefix=remote_ip_prefix,
            opts=opts,
        )

    for rule in rules:
        for source in rule.sources:
            if source in remote_groups:
                add(rule, source.value, remote_group_id=remote_groups[source].id)
            elif source is Source.SUBNET:
                add(rule, "subnet", remote_ip_prefix=subnet_cidr)
            else:
                cidrs = (template.api_allowed_cidrs if source is Source.API_CLIENTS
                         else template.ssh_allowed_cidrs)
                for cidr in cidrs:
                    add(rule, _cidr_label(cidr), remote_ip_prefix=cidr,
                        ethertype="IPv6" if ":" in cidr else "IPv4")
    return SecurityGroups(by_role=groups)
