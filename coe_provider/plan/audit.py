"""Security audit of a plan: what faces outside the cluster, and whether secrets stay secret.

It reads a plan document (the JSON ``coe plan`` writes), where every value Pulumi knows to be
secret is already redacted. Secret material that is still readable there was not marked
secret: that is a finding. ``strict`` turns the dangerous findings into failures.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coe_provider.plan.secrets import REDACTED

RULE = "openstack:networking/secGroupRule:SecGroupRule"
SUBNET = "openstack:networking/subnet:Subnet"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
LISTENER = "openstack:loadbalancer/listener:Listener"

INTERNAL_PORTS: dict[str, tuple[str, int, int]] = {
    "etcd": ("tcp", 2379, 2380),
    "kubelet": ("tcp", 10250, 10250),
    "kubelet read-only": ("tcp", 10255, 10255),
    "swarm control": ("tcp", 2377, 2377),
    "swarm gossip (tcp)": ("tcp", 7946, 7946),
    "swarm gossip (udp)": ("udp", 7946, 7946),
    "overlay VXLAN": ("udp", 4789, 4789),
    "flannel VXLAN": ("udp", 8472, 8472),
    "calico BGP": ("tcp", 179, 179),
}
"""Ports that must only ever be reachable from inside the cluster."""

WORLD = ("0.0.0.0/0", "::/0")
"""CIDRs that mean anyone."""

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),
    "kubeconfig client key": re.compile(r"client-key-data:\s*\S{20,}"),
    "kubeadm bootstrap token": re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
    "swarm join token": re.compile(r"SWMTKN-1-[0-9a-z]{20,}"),
    "application credential secret": re.compile(r"application-credential-secret\s*=\s*\S+"),
}
"""What secret material looks like when it is readable."""

SECRET_INPUT_NAMES = re.compile(
    r"^(userData|adminPass|password|secret|privateKey\w*|caPrivateKeyPem|token|result)$")
"""Inputs that carry secret material by their nature."""


@dataclass(frozen=True)
class Finding:
    """One thing the audit reports."""

    severity: str
    """``fail`` (fails ``--strict``) or ``info``."""

    resource: str
    """The resource's name (or ``outputs`` for a stack output)."""

    message: str
    """What was found."""

    def as_json(self) -> dict[str, str]:
        """JSON form."""
        return {"severity": self.severity, "resource": self.resource, "message": self.message}


@dataclass
class AuditReport:
    """Everything the audit found."""

    exposure: list[dict[str, Any]] = field(default_factory=list)
    """Ingress rules by CIDR, listeners and floating IPs, as the plan summary lists them."""

    secret_inputs: list[dict[str, Any]] = field(default_factory=list)
    """Every input that carries secret material, and whether it is marked secret."""

    findings: list[Finding] = field(default_factory=list)
    """Problems, by severity."""

    @property
    def failures(self) -> list[Finding]:
        """Findings that fail ``--strict``."""
        return [f for f in self.findings if f.severity == "fail"]

    def as_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"exposure": self.exposure, "secretInputs": self.secret_inputs,
                "findings": [f.as_json() for f in self.findings]}


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _overlaps(protocol: str, low: int | None, high: int | None,
              wanted: tuple[str, int, int]) -> bool:
    kind, first, last = wanted
    if protocol not in (kind, "", "any", None):
        return False
    if low in (None, 0) and high in (None, 0):
        return True  # every port
    assert low is not None and high is not None
    return low <= last and first <= high


def _rule_findings(resource: dict[str, Any], subnets: set[str]) -> list[Finding]:
    inputs = resource["inputs"]
    prefix = inputs.get("remoteIpPrefix")
    if inputs.get("direction") != "ingress" or not prefix or prefix in subnets:
        return []
    protocol = str(inputs.get("protocol") or "")
    low, high = inputs.get("portRangeMin"), inputs.get("portRangeMax")
    found = [
        Finding("fail", resource["name"], f"{what} ({kind} {first}-{last}) is open to {prefix}")
        for what, (kind, first, last) in INTERNAL_PORTS.items()
        if _overlaps(protocol, low, high, (kind, first, last))
    ]
    if prefix in WORLD and _overlaps(protocol, low, high, ("tcp", 22, 22)):
        found.append(Finding("fail", resource["name"], f"SSH is open to {prefix}"))
    return found


def _listener_findings(resource: dict[str, Any], subnets: dict[str, str]) -> list[Finding]:
    """The listener's effective source list, and a failure when it shuts out its own cluster's
    subnet (listener ``<cluster>-api``, subnet ``<cluster>``): the nodes reach the API
    through the VIP, and Octavia admits nothing outside a non-empty list."""
    allowed = resource["inputs"].get("allowedCidrs") or []
    if not allowed:
        return [Finding("info", resource["name"], "listener admits every source (no allowedCidrs)")]
    found = [Finding("info", resource["name"], f"listener admits {', '.join(allowed)}")]
    own = subnets.get(resource["name"].removesuffix("-api"))
    if own and isinstance(allowed, list) and all(isinstance(c, str) for c in allowed):
        subnet = ipaddress.ip_network(own, strict=False)
        if not any(subnet.version == n.version and subnet.subnet_of(n)  # type: ignore[arg-type]
                   for n in (ipaddress.ip_network(c, strict=False) for c in allowed)):
            found.append(Finding("fail", resource["name"],
                                 f"listener shuts out the cluster subnet {own}"))
    return found


def _secret_material(resource_name: str, where: str, value: Any,
                     report: AuditReport) -> None:
    for path, text in _strings(value, ""):
        for what, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                report.findings.append(Finding(
                    "fail", resource_name, f"{what} in clear in {where} {path}"))


def audit_plan(plan: dict[str, Any]) -> AuditReport:
    """Audit one plan document."""
    report = AuditReport(exposure=list(plan.get("summary", {}).get("exposure", [])))
    resources = plan.get("resources", [])
    subnets = {r["inputs"].get("cidr") for r in resources if r["type"] == SUBNET}
    subnet_by_name = {r["name"]: r["inputs"]["cidr"] for r in resources
                      if r["type"] == SUBNET and isinstance(r["inputs"].get("cidr"), str)}
    for resource in resources:
        inputs = resource.get("inputs", {})
        if resource["type"] == RULE:
            report.findings += _rule_findings(resource, subnets)
        if resource["type"] == LISTENER:
            report.findings += _listener_findings(resource, subnet_by_name)
        for name, value in inputs.items():
            if SECRET_INPUT_NAMES.match(name) and resource["type"] != FLOATING_IP:
                report.secret_inputs.append({"resource": resource["name"],
                                             "type": resource["type"], "input": name,
                                             "marked": value == REDACTED})
                if value != REDACTED and resource["type"].startswith(("openstack:", "command:")):
                    report.findings.append(Finding(
                        "fail", resource["name"], f"input {name} is not marked secret"))
        _secret_material(resource["name"], "input", inputs, report)
    _secret_material("outputs", "output", plan.get("outputs", {}), report)
    return report
