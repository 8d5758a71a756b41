"""The check itself: ask the COE through the driver's probe, compare its members with the
declared nodes, and wait until every declared node is ready (the readiness gate)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from coe_provider.health.https import (
    ApiClient,
    ApiError,
    ApiReader,
    ApiUnreachable,
    CredentialsUnusable,
)
from coe_provider.health.report import (
    ClusterHealth,
    HealthStatus,
    NodeHealth,
    ObservedNode,
    ProbeResult,
)
from coe_provider.health.target import HealthTarget

NEVER_JOINED = "never joined: the COE lists no member of this name"
"""The reason for a declared node the COE does not list."""

UNNAMED_ENTRY = "member without a hostname (a join that never finished)"
"""The reason an undeclared entry without a name is listed."""

UNDECLARED = "not declared by the stack (removed without drainOnDelete, or joined by hand)"
"""The reason an undeclared named member is listed."""

POLL_SECONDS = 10.0
"""Seconds between two checks while the gate waits."""


class Probe(Protocol):
    """A driver's probe: the COE's members and cluster-wide problems, read through its API."""

    def __call__(self, client: ApiReader) -> ProbeResult: ...


def now() -> str:
    """The current UTC time, RFC 3339."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def _declared_node(target_node: tuple[str, str, str],
                   entries: list[ObservedNode]) -> tuple[NodeHealth, list[ObservedNode]]:
    """The declared node's health from the entries bearing its name; the leftovers."""
    name, role, group = target_node
    if not entries:
        return NodeHealth(name, role, group, ready=False, reason=NEVER_JOINED), []
    # A node that rejoined can leave its old entry behind: the ready one speaks for it.
    entries = sorted(entries, key=lambda entry: not entry.ready)
    chosen, leftovers = entries[0], entries[1:]
    if chosen.role != role:
        health = NodeHealth(name, role, group, ready=False, version=chosen.version,
                            reason=f"joined as a {chosen.role}, declared a {role}")
    else:
        health = NodeHealth(name, role, group, ready=chosen.ready, reason=chosen.reason,
                            version=chosen.version, ready_since=chosen.ready_since)
    return health, leftovers


def assess(target: HealthTarget, result: ProbeResult) -> ClusterHealth:
    """Compare what the COE lists with what the stack declares, by node name."""
    by_name: dict[str, list[ObservedNode]] = {}
    for member in result.members:
        by_name.setdefault(member.name, []).append(member)
    nodes: list[NodeHealth] = []
    extras: list[ObservedNode] = []
    for expected in target.expected:
        health, leftovers = _declared_node((expected.name, expected.role, expected.group),
                                           by_name.pop(expected.name, []))
        nodes.append(health)
        extras += leftovers
    extras += [member for members in by_name.values() for member in members]
    for member in sorted(extras, key=lambda m: m.name):
        why = UNDECLARED if member.named else UNNAMED_ENTRY
        if member.named and member.name in {n.name for n in target.expected}:
            why = "an older entry of a declared node"
        state = "ready" if member.ready else (member.reason or "not ready")
        nodes.append(NodeHealth(member.name, member.role, None, ready=member.ready,
                                reason=f"{why}; {state}", version=member.version,
                                ready_since=member.ready_since, declared=False))
    not_ready = [node.name for node in nodes if node.declared and not node.ready]
    status = HealthStatus.UNHEALTHY if not_ready or result.problems else HealthStatus.HEALTHY
    reasons = list(result.problems)
    if not_ready:
        reasons.append(f"{len(not_ready)} of {len(target.expected)} declared nodes not ready: "
                       + ", ".join(not_ready))
    return ClusterHealth(
        cluster=target.cluster, driver=target.driver, api_address=target.api_address,
        status=status, reason="; ".join(reasons) or None, nodes=nodes,
        problems=list(result.problems), checked_at=now())


def unanswered(target: HealthTarget, status: HealthStatus, reason: str,
               problems: list[str] | None = None) -> ClusterHealth:
    """The health of a cluster whose members could not be listed."""
    nodes = [NodeHealth(n.name, n.role, n.group, ready=False,
                        reason="unknown: the API did not list the members")
             for n in target.expected]
    return ClusterHealth(cluster=target.cluster, driver=target.driver,
                         api_address=target.api_address, status=status, reason=reason,
                         nodes=nodes, problems=problems or [], checked_at=now())


def check(target: HealthTarget, probe: Probe, timeout: float = 10.0) -> ClusterHealth:
    """One check of one cluster; never raises for what the cluster answers."""
    try:
        with ApiClient(target, timeout) as client:
            result = probe(client)
    except CredentialsUnusable as error:
        return unanswered(target, HealthStatus.UNKNOWN, f"client credentials unusable: {error}")
    except ApiUnreachable as error:
        return unanswered(target, HealthStatus.UNKNOWN, f"API unreachable: {error}")
    except ApiError as error:
        # It answered, so it is up, but it cannot serve the cluster (no quorum, no leader).
        problem = f"the API answered {error}"
        return unanswered(target, HealthStatus.UNHEALTHY, problem, [problem])
    return assess(target, result)


class ClusterNotReady(Exception):
    """The gate's failure: the last check, one line per node that is not ready."""

    def __init__(self, health: ClusterHealth, waited: float) -> None:
        lines = health.failure_lines() or [f"{health.cluster}: {health.reason}"]
        super().__init__(
            f"cluster {health.cluster} not ready after {waited:.0f}s "
            f"({health.status.value}, API {health.api_address}):\n  " + "\n  ".join(lines))
        self.health = health
        """The last check."""


class BootstrapFailures(Protocol):
    """Which of the named nodes (not ready) ended their bootstrap in failure, with its line."""

    def __call__(self, names: list[str]) -> Mapping[str, str]: ...


def wait_until_ready(target: HealthTarget, probe: Probe, timeout: float,
                     interval: float = POLL_SECONDS,
                     progress: Callable[[ClusterHealth], None] | None = None,
                     clock: Callable[[], float] = time.monotonic,
                     bootstrap_failures: BootstrapFailures | None = None) -> ClusterHealth:
    """Check until the cluster is HEALTHY; raise :class:`ClusterNotReady` after ``timeout``
    seconds with the last check, or as soon as ``bootstrap_failures`` names a node that is not
    ready (its bootstrap has stopped: waiting longer cannot help)."""
    started = clock()
    while True:
        health = check(target, probe, timeout=min(10.0, max(timeout, 1.0)))
        if progress is not None:
            progress(health)
        if health.status is HealthStatus.HEALTHY:
            return health
        waited = clock() - started
        if bootstrap_failures is not None:
            failed = bootstrap_failures([node.name for node in health.not_ready])
            if failed:
                raise ClusterNotReady(health.with_bootstrap_failures(failed), waited)
        if waited + interval > timeout:
            raise ClusterNotReady(health, waited)
        time.sleep(interval)
