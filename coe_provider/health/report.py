"""What a health check found: Magnum's ``health_status`` and ``health_status_reason``, per
cluster and per node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class HealthStatus(Enum):
    """A cluster's health, in Magnum's words."""

    HEALTHY = "HEALTHY"
    """The API answers and every declared node is a ready member."""

    UNHEALTHY = "UNHEALTHY"
    """The API answers, but a declared node is missing or not ready, or the COE reports a
    cluster-wide problem."""

    UNKNOWN = "UNKNOWN"
    """The API could not be asked: unreachable, or it refused the client."""


EXIT_CODES = {HealthStatus.HEALTHY: 0, HealthStatus.UNHEALTHY: 5, HealthStatus.UNKNOWN: 6}
"""``coe status`` exit codes: 0 healthy, 5 unhealthy, 6 unreachable."""


@dataclass(frozen=True)
class ObservedNode:
    """A member as the COE lists it (what a driver's probe returns)."""

    name: str
    """Its name in the COE (the hostname); an ID when the COE knows no name for it."""

    role: str
    """``master`` or ``worker`` as the COE sees it."""

    ready: bool
    """Whether the COE counts it ready (for a manager, also reachable in Raft)."""

    reason: str | None = None
    """Why it is not ready, in the COE's words."""

    version: str | None = None
    """The COE version the node runs (kubelet, Docker Engine)."""

    ready_since: str | None = None
    """When it became ready, as the COE tells it (RFC 3339), if it does."""

    named: bool = True
    """False for an entry without a hostname (a swarm join that never finished)."""


@dataclass(frozen=True)
class ProbeResult:
    """A driver probe's answer: the members, and problems that concern no single node."""

    members: list[ObservedNode]
    """Every member the COE lists."""

    problems: list[str] = field(default_factory=list)
    """Cluster-wide problems (``/readyz`` failing, no swarm leader)."""


@dataclass(frozen=True)
class NodeHealth:
    """One node in the report: a declared node, or a member the stack does not declare."""

    name: str
    """Node name."""

    role: str
    """``master`` or ``worker`` (as declared; as observed for an undeclared member)."""

    group: str | None
    """Node group; None for a member the stack does not declare."""

    ready: bool
    """Ready member of the COE."""

    reason: str | None = None
    """Why not ready (never joined, NotReady with the kubelet's reason, down, unreachable
    manager), or why an undeclared member is listed."""

    version: str | None = None
    """COE version on the node."""

    ready_since: str | None = None
    """When the COE says it became ready."""

    declared: bool = True
    """False for a member the stack does not declare (stale, or from another source)."""

    def to_json(self) -> dict[str, Any]:
        """JSON form (camelCase, as the stack outputs are)."""
        return {"name": self.name, "role": self.role, "group": self.group,
                "ready": self.ready, "reason": self.reason, "version": self.version,
                "readySince": self.ready_since, "declared": self.declared}


@dataclass(frozen=True)
class ClusterHealth:
    """One cluster's health."""

    cluster: str
    """Cluster name."""

    driver: str
    """Driver name."""

    api_address: str
    """The API address that was asked (``host:port``)."""

    status: HealthStatus
    """HEALTHY, UNHEALTHY or UNKNOWN."""

    reason: str | None
    """Why the status is not HEALTHY (Magnum's ``health_status_reason``, as one line)."""

    nodes: list[NodeHealth]
    """Declared nodes first (in declaration order), then undeclared members."""

    problems: list[str] = field(default_factory=list)
    """Cluster-wide problems the COE reports."""

    checked_at: str = ""
    """When the check ran (RFC 3339, UTC)."""

    @property
    def declared(self) -> list[NodeHealth]:
        """The nodes the stack declares."""
        return [node for node in self.nodes if node.declared]

    @property
    def not_ready(self) -> list[NodeHealth]:
        """Declared nodes that are not ready."""
        return [node for node in self.declared if not node.ready]

    @property
    def exit_code(self) -> int:
        """``coe status``'s exit code for this cluster alone."""
        return EXIT_CODES[self.status]

    def failure_lines(self) -> list[str]:
        """One line per problem and per declared node that is not ready: the gate's error."""
        lines = [f"{self.cluster}: {problem}" for problem in self.problems]
        lines += [f"{node.name} ({node.role}, group {node.group}): {node.reason}"
                  for node in self.not_ready]
        if self.status is HealthStatus.UNKNOWN and self.reason:
            lines.insert(0, f"{self.cluster}: {self.reason}")
        return lines

    def with_bootstrap_failures(self, failures: Mapping[str, str]) -> ClusterHealth:
        """This check, with the named declared nodes' reasons replaced by the error line their
        bootstrap ended with (read from their console logs), listed first."""
        failed = [replace(node, reason=f"bootstrap failed (console log): {failures[node.name]}")
                  for node in self.nodes if node.declared and node.name in failures]
        others = [node for node in self.nodes
                  if not (node.declared and node.name in failures)]
        names = ", ".join(node.name for node in failed)
        reason = f"bootstrap failed on {names}" + (f"; {self.reason}" if self.reason else "")
        return replace(self, nodes=failed + others, reason=reason)

    def to_json(self) -> dict[str, Any]:
        """JSON form, for ``coe status --json`` and the gate's outputs."""
        return {
            "cluster": self.cluster,
            "driver": self.driver,
            "apiAddress": self.api_address,
            "status": self.status.value,
            "reason": self.reason,
            "problems": list(self.problems),
            "checkedAt": self.checked_at,
            "readyNodes": sum(1 for node in self.declared if node.ready),
            "declaredNodes": len(self.declared),
            "nodes": [node.to_json() for node in self.nodes],
        }
