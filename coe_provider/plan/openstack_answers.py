"""What the OpenStack provider would answer, for the offline plan.

Addresses are handed out by construction order (which a program fixes), never by registration
order (which the runtime's thread pool does not), so plans are reproducible byte for byte.
Given the addresses of a previous plan or state, a port, load balancer or floating IP that
existed there keeps its address, as it does on the cloud, and new ones take the free
addresses in construction order. Data-source calls get placeholders that the plan lists as
such.
"""

from __future__ import annotations

import bisect
import hashlib
import ipaddress
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from coe_provider.plan.secrets import is_secret

PLACEHOLDER_SUBNET_CIDR = "10.0.0.0/24"
"""CIDR reported for an existing subnet that a data source looked up."""

NEUTRON_TENANT_MTU = 1450
"""MTU reported for a network (made or looked up): what Neutron gives a VXLAN tenant network on
a 1500-byte physical network, 1500 less the 50-byte VXLAN header."""

FLOATING_RANGE = ipaddress.ip_network("172.24.0.0/14")
"""Floating IPs come from here (DevStack's public range, widened to fit large fleets)."""

ADDRESS_OFFSET = 10
"""The first host addresses of a subnet belong to the router and DHCP."""

NETWORK = "openstack:networking/network:Network"
PORT = "openstack:networking/port:Port"
SUBNET = "openstack:networking/subnet:Subnet"
LOAD_BALANCER = "openstack:loadbalancer/loadBalancer:LoadBalancer"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
INSTANCE = "openstack:compute/instance:Instance"
"""Nova servers: the nodes of a cluster."""
ADDRESS_CONSUMERS = (PORT, LOAD_BALANCER)

ADDRESS_OUTPUT = {PORT: "allFixedIps", LOAD_BALANCER: "vipAddress", FLOATING_IP: "address"}
"""The output that holds an address-bearing resource's address (a list for ports); a plan
records it so that a later plan can keep the address."""


def user_data_digest(value: Any) -> Any:
    """What the provider reports for a server's user_data: the SHA-1 of the text, in hex
    (still a secret when the text was one)."""
    if is_secret(value):
        return {**value, "value": user_data_digest(value.get("value"))}
    if isinstance(value, str):
        return hashlib.sha1(value.encode()).hexdigest()
    return value


def nth_free(ordinal: int, taken: list[int]) -> int:
    """The ``ordinal``-th (from 0) offset that is not in ``taken`` (sorted offsets)."""
    # Iterate x = ordinal + |taken <= x| up to its fixed point: the smallest offset with
    # exactly ordinal free offsets below it, which is itself free.
    offset = ordinal
    while True:
        candidate = ordinal + bisect.bisect_right(taken, offset)
        if candidate == offset:
            return offset
        offset = candidate


def address_of(type_token: str, outputs: dict[str, Any]) -> str | None:
    """The address the provider reported for a port, load balancer or floating IP."""
    if type_token not in ADDRESS_OUTPUT:
        return None
    value = outputs.get(ADDRESS_OUTPUT[type_token])
    if isinstance(value, list):  # a port's allFixedIps
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def stable_id(*parts: str) -> str:
    """A deterministic UUID for a resource or a looked-up object."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "coe-plan:" + "/".join(parts)))


@dataclass
class Placeholder:
    """A data-source call answered with invented values."""

    token: str
    """The function token, e.g. ``openstack:networking/getNetwork:getNetwork``."""

    args: dict[str, Any]
    """Its arguments."""

    answer: dict[str, Any]
    """What the plan answered."""


@dataclass
class OpenStackAnswers:
    """Outputs for OpenStack resources and invokes."""

    construction_order: dict[tuple[str, str], int] = field(default_factory=dict)
    """(type, name) -> ordinal among address-consuming constructions, filled by the recorder."""

    floating_order: dict[tuple[str, str], int] = field(default_factory=dict)
    """(type, name) -> ordinal among floating IP constructions."""

    subnets: dict[str, str] = field(default_factory=dict)
    """Subnet ID -> CIDR, from registered subnets and looked-up placeholders."""

    kept_addresses: dict[tuple[str, str], str] = field(default_factory=dict)
    """(type, name) -> the address a previous plan or state reported; such a resource keeps
    it, and no new one is given it."""

    previous_outputs: dict[str, Any] = field(default_factory=dict)
    """The stack outputs a previous plan or state recorded: the answer to the engine's
    ``pulumi:pulumi:readStackOutputs`` for the running stack (see
    :mod:`coe_provider.cluster.releases`)."""

    reported: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN -> the address outputs answered (see :func:`address_of`), which the plan records so
    that the next plan can keep them."""

    _taken: dict[str, list[int]] = field(default_factory=dict)
    """Network and first offset -> sorted offsets of the kept addresses in it (computed once)."""

    placeholders: list[Placeholder] = field(default_factory=list)
    """Every data-source call answered with placeholders."""

    _lock: threading.Lock = field(default_factory=threading.Lock)

    def constructed(self, type_token: str, name: str) -> None:
        """Note a construction, in program order; one that keeps its address takes no turn."""
        key = (type_token, name)
        if key in self.kept_addresses:
            return
        with self._lock:
            if type_token in ADDRESS_CONSUMERS:
                self.construction_order.setdefault(key, len(self.construction_order))
            elif type_token == FLOATING_IP:
                self.floating_order.setdefault(key, len(self.floating_order))

    def _taken_offsets(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network,
                       first: int) -> list[int]:
        """Sorted offsets from ``first`` of the kept addresses inside ``network``."""
        cache_key = f"{network}+{first}"
        with self._lock:
            taken = self._taken.get(cache_key)
            if taken is None:
                base = int(network.network_address) + first
                taken = sorted({int(address) - base for address in map(
                    ipaddress.ip_address, self.kept_addresses.values())
                    if address in network and int(address) >= base})
                self._taken[cache_key] = taken
        return taken

    def _address(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, first: int,
                 ordinal: int) -> str:
        """The ``ordinal``-th free address of ``network`` from offset ``first``."""
        hosts = max(network.num_addresses - first - 1, 1)
        offset = nth_free(ordinal, self._taken_offsets(network, first))
        return str(network.network_address + first + offset % hosts)

    def _host(self, subnet_id: str | None, type_token: str, name: str) -> str:
        kept = self.kept_addresses.get((type_token, name))
        if kept is not None:
            return kept
        network = ipaddress.ip_network(self.subnets.get(subnet_id or "", PLACEHOLDER_SUBNET_CIDR))
        ordinal = self.construction_order.get((type_token, name), 0)
        return self._address(network, ADDRESS_OFFSET, ordinal)

    def outputs(self, type_token: str, urn: str, name: str,
                inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The ID and state the provider would report after creating the resource."""
        resource_id = stable_id(urn)
        state = dict(inputs)
        if type_token == SUBNET:
            with self._lock:
                self.subnets[resource_id] = str(inputs.get("cidr", PLACEHOLDER_SUBNET_CIDR))
            network = ipaddress.ip_network(state["cidr"])
            state.setdefault("gatewayIp", str(network.network_address + 1))
        elif type_token == NETWORK:
            state.setdefault("mtu", NEUTRON_TENANT_MTU)
        elif type_token == PORT:
            fixed = (inputs.get("fixedIps") or [{}])[0]
            address = fixed.get("ipAddress") or self._host(fixed.get("subnetId"), PORT, name)
            state["allFixedIps"] = [address]
            state["macAddress"] = "fa:16:3e:" + ":".join(resource_id[i:i + 2] for i in (0, 2, 4))
        elif type_token == LOAD_BALANCER:
            state["vipAddress"] = inputs.get("vipAddress") or self._host(
                inputs.get("vipSubnetId"), LOAD_BALANCER, name)
            state["vipPortId"] = stable_id(urn, "vip-port")
        elif type_token == FLOATING_IP:
            state["address"] = inputs.get("address") or self.kept_addresses.get(
                (FLOATING_IP, name)) or self._address(
                FLOATING_RANGE, 2, self.floating_order.get((FLOATING_IP, name), 0))
        elif type_token == "openstack:identity/applicationCredential:ApplicationCredential":
            state.setdefault("secret", stable_id(urn, "secret"))
            state["projectId"] = stable_id("project")
        elif type_token == INSTANCE and "userData" in state:
            # The provider keeps a server's user_data in state as its SHA-1, not the text;
            # echoing thousands of cloud-configs back would hold two more copies of each.
            state["userData"] = user_data_digest(state["userData"])
        if address_of(type_token, state) is not None:
            key = ADDRESS_OUTPUT[type_token]
            with self._lock:
                self.reported[urn] = {key: state[key]}
        return resource_id, state

    def call(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """Answer a data-source call with a placeholder and remember that it was one."""
        key = ",".join(f"{k}={args[k]}" for k in sorted(args) if args[k] is not None)
        object_id = args.get("networkId") if token.endswith("getNetwork") else None
        answer: dict[str, Any] = {**args, "id": object_id or stable_id(token, key)}
        if token.endswith("getSubnet:getSubnet"):
            answer["id"] = args.get("subnetId") or answer["id"]
            answer["cidr"] = PLACEHOLDER_SUBNET_CIDR
            answer["ipVersion"] = 4
            answer.setdefault("networkId", stable_id("network", key))
            with self._lock:
                self.subnets[answer["id"]] = PLACEHOLDER_SUBNET_CIDR
        if token.endswith("getNetwork:getNetwork"):
            answer["id"] = args.get("networkId") or answer["id"]
            answer["mtu"] = NEUTRON_TENANT_MTU
        with self._lock:
            self.placeholders.append(Placeholder(token, dict(args), dict(answer)))
        return answer
