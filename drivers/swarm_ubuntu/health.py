"""The Swarm probe: the node list of the Docker API, over mutual TLS, through any manager."""

from __future__ import annotations

from typing import Any

from coe_provider.health.https import ApiReader
from coe_provider.health.report import ObservedNode, ProbeResult


def observe(node: dict[str, Any]) -> ObservedNode:
    """One swarm node entry as the report sees it."""
    hostname = node.get("Description", {}).get("Hostname")
    manager = node.get("Spec", {}).get("Role") == "manager"
    status = node.get("Status", {})
    state = str(status.get("State", "unknown"))
    reason = None
    if state != "ready":
        reason = state + (f": {status['Message']}" if status.get("Message") else "")
    manager_status = node.get("ManagerStatus") or {}
    reachable = bool(manager_status.get("Leader")) or (
        manager_status.get("Reachability") == "reachable")
    if manager and state == "ready" and not reachable:
        reason = f"manager {manager_status.get('Reachability', 'unknown')} in Raft"
    return ObservedNode(
        name=str(hostname or node.get("ID", "?")),
        role="master" if manager else "worker",
        ready=reason is None,
        reason=reason,
        version=node.get("Description", {}).get("Engine", {}).get("EngineVersion"),
        # Swarm keeps no ready transition; the entry is created when the node joins.
        ready_since=node.get("CreatedAt") if reason is None else None,
        named=bool(hostname),
    )


def probe(client: ApiReader) -> ProbeResult:
    """Members from ``GET /nodes``; a swarm needs exactly one leader."""
    nodes = client.get_json("/nodes")
    leaders = sum(1 for node in nodes if (node.get("ManagerStatus") or {}).get("Leader"))
    problems = [] if leaders == 1 else [f"the swarm reports {leaders} leaders, not one"]
    return ProbeResult(members=[observe(node) for node in nodes], problems=problems)
