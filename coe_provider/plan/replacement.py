"""Which input changes force a provider to replace a resource instead of updating it in place.

``coe diff`` compares two offline plans; it cannot ask the providers, so this module holds the
answer per resource type, the way each provider documents it. Paths are the camelCase input
names of the registration (as the plan records them); a path covers everything nested under it
(``blockDevices`` covers ``blockDevices[1].volumeSize``).

Sources, per entry below:

* OpenStack: the ``pulumi-openstack`` 5.x resource docs (the argument docstrings of the
  installed SDK, which come from the upstream ``terraform-provider-openstack`` resource docs and
  say "changing this creates a new ..."), cross-checked against that provider's resource
  schemas (``openstack/resource_openstack_<resource>.go``: ``ForceNew`` and ``CustomizeDiff``).
  Where the two disagree the schema wins (the docs omit some ``ForceNew`` inputs).
* ``tls``: the ``terraform-provider-tls`` resource docs and schemas
  (``internal/provider/resource_*.go``): every input plans a replacement (``RequiresReplace``)
  except ``early_renewal_hours``, which only moves the renewal window.
* ``random``: the ``terraform-provider-random`` resource docs: every argument, ``keepers``
  included, forces a new value.

Pulumi's own ``replaceOnChanges`` resource option adds paths per resource; :func:`forcing_paths`
honours it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coe_provider.cleanup.resource import INPUTS as CLEANUP_INPUTS
from coe_provider.health.target import WATCHED_INPUTS


@dataclass(frozen=True)
class Replacement:
    """The replacement behaviour of one resource type."""

    source: str
    """The document the entry was taken from."""

    paths: frozenset[str] = frozenset()
    """Inputs whose change forces replacement (a path covers what is nested under it)."""

    every_input: bool = False
    """True when any input change forces replacement (except ``except_paths``)."""

    except_paths: frozenset[str] = frozenset()
    """Inputs that update in place although ``every_input`` is set."""

    shrink_paths: frozenset[str] = frozenset()
    """Numbers that grow in place but force replacement when they shrink."""

    disruptive_paths: frozenset[str] = frozenset()
    """Inputs that update in place but disrupt the resource (rebuild, resize, retype)."""

    compared_paths: frozenset[str] | None = None
    """When set, the provider's own diff looks at these inputs only: a change elsewhere is
    no change (a dynamic provider's ``diff``)."""


def _paths(*names: str) -> frozenset[str]:
    return frozenset(names)


_OPENSTACK_DOCS = "pulumi-openstack resource docs / terraform-provider-openstack schema"

TABLE: dict[str, Replacement] = {
    # pulumi-command: a new connection replaces a remote command (the delete runs on the old
    # host), and triggers replace any command (provider/pkg/provider/common/inputs.go tags
    # triggers replaceOnChanges; the README says a connection change replaces).
    "command:remote:Command": Replacement(
        source="pulumi-command: triggers replaceOnChanges; a connection change replaces",
        paths=_paths("connection", "triggers"),
    ),
    "command:local:Command": Replacement(
        source="pulumi-command: triggers replaceOnChanges",
        paths=_paths("triggers"),
    ),
    # The project's dynamic resources: the readiness gate, whose provider's diff compares the
    # watched inputs, and the cleanup, whose diff compares all of its (differently named)
    # inputs; neither ever asks for a replacement.
    "pulumi-python:dynamic:Resource": Replacement(
        source="coe_provider.health.gate.ReadinessProvider.diff, "
               "coe_provider.cleanup.resource.CloudCleanupProvider.diff",
        compared_paths=frozenset(WATCHED_INPUTS) | frozenset(CLEANUP_INPUTS),
    ),
    # openstack_compute_instance_v2: user_data, key_pair, availability_zone(_hints),
    # network (whole block), network_mode, config_drive, hypervisor_hostname, block_device
    # (every nested field) and scheduler_hints (every nested field) are ForceNew. A new image
    # rebuilds the server in place (root disk wiped); a new flavor resizes it (reboot).
    "openstack:compute/instance:Instance": Replacement(
        source=f"{_OPENSTACK_DOCS}: compute Instance (openstack_compute_instance_v2)",
        paths=_paths("region", "userData", "keyPair", "availabilityZone",
                     "availabilityZoneHints", "networks", "networkMode", "configDrive",
                     "hypervisorHostname", "blockDevices", "schedulerHints"),
        disruptive_paths=_paths("imageId", "imageName", "personalities", "flavorId",
                                "flavorName"),
    ),
    # openstack_compute_servergroup_v2 has no update operation: every argument is ForceNew.
    "openstack:compute/serverGroup:ServerGroup": Replacement(
        source=f"{_OPENSTACK_DOCS}: compute ServerGroup (openstack_compute_servergroup_v2)",
        every_input=True,
    ),
    "openstack:networking/port:Port": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking Port (openstack_networking_port_v2)",
        paths=_paths("region", "networkId", "macAddress", "tenantId", "deviceId",
                     "deviceOwner", "valueSpecs"),
    ),
    # The docs leave out cidr, but the schema marks it ForceNew (Neutron cannot change it).
    "openstack:networking/subnet:Subnet": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking Subnet (openstack_networking_subnet_v2)",
        paths=_paths("region", "networkId", "cidr", "prefixLength", "ipVersion", "tenantId",
                     "ipv6AddressMode", "ipv6RaMode", "subnetpoolId", "valueSpecs"),
    ),
    "openstack:networking/network:Network": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking Network (openstack_networking_network_v2)",
        paths=_paths("region", "tenantId", "segments", "valueSpecs", "availabilityZoneHints"),
    ),
    # external_network_id updates the gateway in place; distributed and flavor_id do not.
    "openstack:networking/router:Router": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking Router (openstack_networking_router_v2)",
        paths=_paths("region", "tenantId", "distributed", "flavorId", "valueSpecs",
                     "availabilityZoneHints"),
    ),
    "openstack:networking/routerInterface:RouterInterface": Replacement(
        source=(f"{_OPENSTACK_DOCS}: networking RouterInterface "
                "(openstack_networking_router_interface_v2)"),
        every_input=True,
        except_paths=_paths("forceDestroy"),
    ),
    # name, description and stateful update in place.
    "openstack:networking/secGroup:SecGroup": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking SecGroup (openstack_networking_secgroup_v2)",
        paths=_paths("region", "tenantId"),
    ),
    # Neutron security group rules are immutable: the resource has no update operation.
    "openstack:networking/secGroupRule:SecGroupRule": Replacement(
        source=(f"{_OPENSTACK_DOCS}: networking SecGroupRule "
                "(openstack_networking_secgroup_rule_v2)"),
        every_input=True,
    ),
    # port_id (association), fixed_ip, description and tags update in place.
    "openstack:networking/floatingIp:FloatingIp": Replacement(
        source=f"{_OPENSTACK_DOCS}: networking FloatingIp (openstack_networking_floatingip_v2)",
        paths=_paths("region", "tenantId", "pool", "address", "dnsName", "dnsDomain",
                     "valueSpecs"),
    ),
    "openstack:loadbalancer/loadBalancer:LoadBalancer": Replacement(
        source=(f"{_OPENSTACK_DOCS}: loadbalancer LoadBalancer "
                "(openstack_lb_loadbalancer_v2)"),
        paths=_paths("region", "tenantId", "vipSubnetId", "vipNetworkId", "vipPortId",
                     "vipAddress", "loadbalancerProvider", "availabilityZone", "flavorId"),
    ),
    # allowed_cidrs, timeouts, default_pool_id and TLS settings update in place.
    "openstack:loadbalancer/listener:Listener": Replacement(
        source=f"{_OPENSTACK_DOCS}: loadbalancer Listener (openstack_lb_listener_v2)",
        paths=_paths("region", "tenantId", "loadbalancerId", "protocol", "protocolPort"),
    ),
    "openstack:loadbalancer/pool:Pool": Replacement(
        source=f"{_OPENSTACK_DOCS}: loadbalancer Pool (openstack_lb_pool_v2)",
        paths=_paths("region", "tenantId", "protocol", "loadbalancerId", "listenerId",
                     "persistence"),
    ),
    "openstack:loadbalancer/member:Member": Replacement(
        source=f"{_OPENSTACK_DOCS}: loadbalancer Member (openstack_lb_member_v2)",
        paths=_paths("region", "tenantId", "poolId", "address", "protocolPort", "subnetId"),
    ),
    # The docs only name type; the schema also marks pool_id ForceNew.
    "openstack:loadbalancer/monitor:Monitor": Replacement(
        source=f"{_OPENSTACK_DOCS}: loadbalancer Monitor (openstack_lb_monitor_v2)",
        paths=_paths("region", "tenantId", "poolId", "type"),
    ),
    # size extends in place (online with enable_online_resize) but a smaller size forces a
    # new volume (CustomizeDiff ForceNewIfChange on a decrease); volume_type retypes in place.
    "openstack:blockstorage/volume:Volume": Replacement(
        source=f"{_OPENSTACK_DOCS}: blockstorage Volume (openstack_blockstorage_volume_v3)",
        paths=_paths("region", "availabilityZone", "imageId", "snapshotId", "sourceVolId",
                     "backupId", "consistencyGroupId", "sourceReplica"),
        shrink_paths=_paths("size"),
        disruptive_paths=_paths("volumeType"),
    ),
    # Keystone application credentials are immutable: the resource has no update operation.
    "openstack:identity/applicationCredential:ApplicationCredential": Replacement(
        source=(f"{_OPENSTACK_DOCS}: identity ApplicationCredential "
                "(openstack_identity_application_credential_v3)"),
        every_input=True,
    ),
    "tls:index/privateKey:PrivateKey": Replacement(
        source="terraform-provider-tls docs: tls_private_key", every_input=True,
    ),
    "tls:index/selfSignedCert:SelfSignedCert": Replacement(
        source="terraform-provider-tls docs: tls_self_signed_cert", every_input=True,
        except_paths=_paths("earlyRenewalHours"),
    ),
    "tls:index/certRequest:CertRequest": Replacement(
        source="terraform-provider-tls docs: tls_cert_request", every_input=True,
    ),
    "tls:index/locallySignedCert:LocallySignedCert": Replacement(
        source="terraform-provider-tls docs: tls_locally_signed_cert", every_input=True,
        except_paths=_paths("earlyRenewalHours"),
    ),
}
"""Replacement behaviour per resource type token."""

PACKAGE_DEFAULTS: dict[str, Replacement] = {
    # random_id, random_string, random_password, random_integer, random_uuid, random_pet,
    # random_shuffle, random_bytes: every argument, keepers included, forces a new value.
    "random": Replacement(source="terraform-provider-random docs: every resource",
                          every_input=True),
}
"""Behaviour of every type of a package that has no entry of its own in :data:`TABLE`."""


@dataclass(frozen=True)
class InputChange:
    """One changed input path of a resource present in both plans."""

    path: str
    """Dotted and indexed path, e.g. ``blockDevices[1].volumeSize``."""

    before: Any
    """Value in the earlier plan (``None`` when absent)."""

    after: Any
    """Value in the later plan (``None`` when absent)."""


def replacement_for(type_token: str) -> Replacement | None:
    """The documented behaviour of ``type_token``, or ``None`` when the table has none."""
    entry = TABLE.get(type_token)
    if entry is not None:
        return entry
    return PACKAGE_DEFAULTS.get(type_token.split(":", 1)[0])


_INDEX = re.compile(r"\[\d+\]")


def covers(pattern: str, path: str) -> bool:
    """True when ``pattern`` names ``path`` or one of its ancestors.

    Patterns follow Pulumi's property paths: ``[*]`` matches any list index, ``*`` alone
    matches everything.
    """
    if pattern == "*":
        return True
    generic = _INDEX.sub("[*]", path)
    for candidate in (path, generic):
        if candidate == pattern or candidate.startswith((pattern + ".", pattern + "[")):
            return True
    return False


def _shrinks(change: InputChange) -> bool:
    before, after = change.before, change.after
    numbers = (int, float)
    return (isinstance(before, numbers) and isinstance(after, numbers)
            and not isinstance(before, bool) and after < before)


def forcing_paths(type_token: str, changes: Sequence[InputChange],
                  replace_on_changes: Iterable[str] = ()) -> list[str]:
    """The changed paths that force replacement of a resource of ``type_token``.

    ``replace_on_changes`` is the resource's own ``replaceOnChanges`` option.
    """
    entry = replacement_for(type_token)
    extra = list(replace_on_changes)
    forcing: list[str] = []
    for change in changes:
        path = change.path
        if any(covers(pattern, path) for pattern in extra):
            forcing.append(path)
            continue
        if entry is None:
            continue
        if entry.every_input:
            if not any(covers(name, path) for name in entry.except_paths):
                forcing.append(path)
        elif any(covers(name, path) for name in entry.paths) or (
                any(covers(name, path) for name in entry.shrink_paths) and _shrinks(change)):
            forcing.append(path)
    return forcing


def disruptive_paths(type_token: str, paths: Iterable[str]) -> list[str]:
    """The changed paths that update in place but disrupt the resource (e.g. a rebuild)."""
    entry = replacement_for(type_token)
    if entry is None:
        return []
    return [p for p in paths if any(covers(name, p) for name in entry.disruptive_paths)]


def documented_types() -> Mapping[str, Replacement]:
    """Every type with an entry of its own (for documentation and tests)."""
    return dict(TABLE)


def compared(type_token: str, path: str) -> bool:
    """Whether the provider of ``type_token`` looks at ``path`` when it diffs."""
    entry = replacement_for(type_token)
    if entry is None or entry.compared_paths is None:
        return True
    return any(covers(name, path) for name in entry.compared_paths)
