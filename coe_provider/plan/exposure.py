"""What a plan exposes outside the cluster: ingress by CIDR, listeners, floating IPs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coe_provider.plan.graph import PlanResource

RULE = "openstack:networking/secGroupRule:SecGroupRule"
LISTENER = "openstack:loadbalancer/listener:Listener"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
SUBNET = "openstack:networking/subnet:Subnet"
OPEN_ANYWHERE = ("0.0.0.0/0", "::/0")
"""CIDRs that mean the whole internet."""


@dataclass(frozen=True)
class Exposure:
    """One way in from outside the cluster."""

    kind: str
    """``ingress-rule``, ``listener`` or ``floating-ip``."""

    resource: str
    """Resource name."""

    protocol: str
    """IP protocol."""

    ports: str
    """Port or range (``*`` for all)."""

    cidrs: list[str]
    """Source CIDRs admitted."""

    def as_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": self.kind, "resource": self.resource, "protocol": self.protocol,
                "ports": self.ports, "cidrs": self.cidrs}


def _ports(low: Any, high: Any) -> str:
    if low in (None, 0) and high in (None, 0):
        return "*"
    return str(low) if low == high else f"{low}-{high}"


def exposures(resources: list[PlanResource]) -> list[Exposure]:
    """Ingress rules by CIDR (other than the cluster's own subnets), listeners, floating IPs."""
    subnets = {r.inputs.get("cidr") for r in resources if r.type == SUBNET}
    found: list[Exposure] = []
    for r in resources:
        inputs = r.inputs
        if r.type == RULE and inputs.get("direction") == "ingress":
            prefix = inputs.get("remoteIpPrefix")
            if prefix and prefix not in subnets:
                found.append(Exposure("ingress-rule", r.name, str(inputs.get("protocol", "any")),
                                      _ports(inputs.get("portRangeMin"),
                                             inputs.get("portRangeMax")), [prefix]))
        elif r.type == LISTENER:
            cidrs = inputs.get("allowedCidrs") or ["0.0.0.0/0"]
            found.append(Exposure("listener", r.name, str(inputs.get("protocol")),
                                  str(inputs.get("protocolPort")), list(cidrs)))
        elif r.type == FLOATING_IP:
            found.append(Exposure("floating-ip", r.name, "any", "*", ["(security groups)"]))
    return sorted(found, key=lambda e: (e.kind, e.resource))
