"""Whether a Kubernetes cluster's add-on workloads run: the second stage of the readiness gate.

A workload is a Deployment or a DaemonSet named by namespace and name. It is ready when the
controller has seen its latest spec and every pod it wants is updated and ready (the rule
``kubectl rollout status`` applies, k8s.io/kubectl pkg/polymorphichelpers/rollout_status.go).
Each one that is not becomes one cluster-wide problem line, so the gate keeps waiting and, at
its timeout, names it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coe_provider.health.https import ApiReader

_COLLECTIONS = {"Deployment": "deployments", "DaemonSet": "daemonsets"}


@dataclass(frozen=True)
class Workload:
    """One add-on workload the gate waits for."""

    kind: str
    """``Deployment`` or ``DaemonSet``."""

    namespace: str
    """Its namespace."""

    name: str
    """Its name."""

    def to_dict(self) -> dict[str, str]:
        """Plain form, for the gate's inputs."""
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Workload:
        """Read the plain form."""
        return cls(kind=str(value["kind"]), namespace=str(value["namespace"]),
                   name=str(value["name"]))

    @property
    def path(self) -> str:
        """Its API path."""
        return (f"/apis/apps/v1/namespaces/{self.namespace}/{_COLLECTIONS[self.kind]}/"
                f"{self.name}")

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def not_ready_reason(workload: Workload, item: Mapping[str, Any]) -> str | None:
    """Why ``item`` (the workload's object) is not rolled out, or None when it is."""
    metadata = item.get("metadata") or {}
    status = item.get("status") or {}
    if int(status.get("observedGeneration") or 0) < int(metadata.get("generation") or 0):
        return "its controller has not seen the latest spec"
    if workload.kind == "Deployment":
        wanted = int((item.get("spec") or {}).get("replicas", 1))
        updated = int(status.get("updatedReplicas") or 0)
        available = int(status.get("availableReplicas") or 0)
        if updated < wanted or available < wanted:
            return f"{available}/{wanted} replicas available, {updated} updated"
        return None
    wanted = int(status.get("desiredNumberScheduled") or 0)
    ready = int(status.get("numberReady") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    if wanted == 0:
        return "no node runs it yet"
    if ready < wanted or updated < wanted:
        return f"{ready}/{wanted} pods ready, {updated} updated"
    return None


def workload_problems(client: ApiReader, workloads: Sequence[Workload]) -> list[str]:
    """One line per workload that is not ready (or not there yet)."""
    problems: list[str] = []
    for workload in workloads:
        status, body = client.get(workload.path)
        if status == 404:
            problems.append(f"{workload}: not created yet")
            continue
        if status != 200:
            problems.append(f"{workload}: HTTP {status}")
            continue
        reason = not_ready_reason(workload, json.loads(body))
        if reason:
            problems.append(f"{workload}: {reason}")
    return problems


__all__ = ["Workload", "not_ready_reason", "workload_problems"]
