"""The Kubernetes probe: ``/readyz`` and the Node list, through the admin client certificate."""

from __future__ import annotations

from typing import Any

from coe_provider.health.https import ApiReader
from coe_provider.health.report import ObservedNode, ProbeResult

CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"
"""The label kubeadm puts on control-plane nodes."""


def _ready_condition(node: dict[str, Any]) -> dict[str, Any]:
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return {}


def observe(node: dict[str, Any]) -> ObservedNode:
    """One Node object as the report sees it."""
    metadata = node.get("metadata", {})
    condition = _ready_condition(node)
    ready = condition.get("status") == "True"
    reason = None
    if not ready:
        state = {"False": "NotReady", "Unknown": "NotReady (status Unknown)"}.get(
            str(condition.get("status")), "NotReady (no Ready condition yet)")
        details = [str(condition[key]) for key in ("reason", "message") if condition.get(key)]
        reason = ": ".join([state, *details])
    return ObservedNode(
        name=str(metadata.get("name", "?")),
        role="master" if CONTROL_PLANE_LABEL in (metadata.get("labels") or {}) else "worker",
        ready=ready,
        reason=reason,
        version=node.get("status", {}).get("nodeInfo", {}).get("kubeletVersion"),
        # The Ready condition's last transition: when the kubelet last became ready.
        ready_since=condition.get("lastTransitionTime") if ready else None,
    )


def probe(client: ApiReader) -> ProbeResult:
    """Members from ``/api/v1/nodes``; a failing ``/readyz`` is a cluster-wide problem."""
    problems = []
    status, body = client.get("/readyz")
    if status != 200:
        failing = [line[3:].strip() for line in body.decode(errors="replace").splitlines()
                   if line.startswith("[-]")]
        problems.append(f"/readyz: HTTP {status}" + (
            f": failing checks {', '.join(failing)}" if failing else ""))
    nodes = client.get_json("/api/v1/nodes")
    return ProbeResult(members=[observe(item) for item in nodes.get("items") or []],
                       problems=problems)
