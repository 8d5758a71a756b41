"""Graph figures of a plan: critical path and resources per worker node."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from coe_provider.plan.openstack_answers import INSTANCE


@dataclass(frozen=True)
class PlanResource:
    """A recorded resource in plan form (secrets redacted)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    options: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    """The address a port, load balancer or floating IP was given (``--state`` keeps it); a
    component's registered outputs, secrets redacted (policies read a cluster's version)."""

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> PlanResource:
        """Read one resource of a plan file (what :meth:`as_json` wrote)."""
        return cls(urn=document["urn"], type=document["type"], name=document["name"],
                   parent=document["parent"], custom=bool(document["custom"]),
                   inputs=document["inputs"], dependencies=list(document["dependencies"]),
                   options=document["options"], outputs=document.get("outputs") or {})

    def as_json(self) -> dict[str, Any]:
        """The JSON form of the plan file (``outputs`` only where there are any)."""
        document = {"urn": self.urn, "type": self.type, "name": self.name,
                    "parent": self.parent, "custom": self.custom, "inputs": self.inputs,
                    "dependencies": self.dependencies, "options": self.options}
        if self.outputs:
            document["outputs"] = self.outputs
        return document


def custom_dependencies(resources: Iterable[PlanResource]) -> dict[str, set[str]]:
    """Custom resource URN -> the custom resources it depends on.

    A dependency on a component stands for the component's custom descendants.
    """
    by_urn = {r.urn: r for r in resources}
    children: dict[str, list[str]] = {}
    for r in by_urn.values():
        if r.parent:
            children.setdefault(r.parent, []).append(r.urn)

    def custom_targets(urn: str, seen: set[str]) -> list[str]:
        if urn not in by_urn or urn in seen:
            return []
        seen.add(urn)
        if by_urn[urn].custom:
            return [urn]
        found: list[str] = []
        for child in children.get(urn, []):
            found += custom_targets(child, seen)
        return found

    edges: dict[str, set[str]] = {}
    for r in by_urn.values():
        if r.custom:
            targets: set[str] = set()
            for dep in r.dependencies:
                targets.update(custom_targets(dep, set()))
            targets.discard(r.urn)
            edges[r.urn] = targets
    return edges


def deleted_before(resources: Iterable[PlanResource]) -> dict[str, set[str]]:
    """Custom resource URN -> every custom resource the engine deletes before it.

    The engine deletes a resource only after everything that depends on it, directly or
    through other resources, so this is the transitive closure of "depends on".
    """
    edges = custom_dependencies(resources)
    dependents: dict[str, set[str]] = {urn: set() for urn in edges}
    for urn, targets in edges.items():
        for target in targets:
            dependents.setdefault(target, set()).add(urn)
    closure: dict[str, set[str]] = {}
    for urn in dependents:
        seen: set[str] = set()
        stack = list(dependents[urn])
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(dependents.get(current, ()))
        closure[urn] = seen
    return closure


def delete_order(resources: Iterable[PlanResource]) -> list[str]:
    """One order in which ``pulumi destroy`` may delete the custom resources: dependents
    first, ties broken by URN."""
    edges = custom_dependencies(resources)
    dependents_left = {urn: 0 for urn in edges}
    for targets in edges.values():
        for target in targets:
            dependents_left[target] = dependents_left.get(target, 0) + 1
    ready = sorted(urn for urn, count in dependents_left.items() if count == 0)
    order: list[str] = []
    while ready:
        urn = ready.pop(0)
        order.append(urn)
        for dependency in edges.get(urn, ()):
            dependents_left[dependency] -= 1
            if dependents_left[dependency] == 0:
                ready.append(dependency)
        ready.sort()
    return order


def critical_path(resources: Iterable[PlanResource]) -> tuple[int, list[str]]:
    """Length (in resources) and URNs of the longest dependency chain between custom resources.

    Components are skipped: a dependency on a component stands for its custom children.
    """
    edges = custom_dependencies(resources)
    depth: dict[str, int] = {}
    best_next: dict[str, str | None] = {}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10000 + len(edges)))
    try:
        def longest(urn: str) -> int:
            if urn in depth:
                return depth[urn]
            depth[urn] = 1  # guards against cycles, which the engine would refuse anyway
            best, nxt = 0, None
            for dep in sorted(edges.get(urn, ())):
                length = longest(dep)
                if length > best:
                    best, nxt = length, dep
            depth[urn] = best + 1
            best_next[urn] = nxt
            return depth[urn]

        start, length = "", 0
        for urn in sorted(edges):
            value = longest(urn)
            if value > length:
                start, length = urn, value
    finally:
        sys.setrecursionlimit(limit)
    chain: list[str] = []
    current: str | None = start or None
    while current:
        chain.append(current)
        current = best_next.get(current)
    return length, list(reversed(chain))


def worker_nodes(resources: Iterable[PlanResource]) -> list[str]:
    """Names of worker servers (Nova metadata ``coe_role: worker``)."""
    return sorted(
        r.name for r in resources
        if r.type == INSTANCE and (r.inputs.get("metadata") or {}).get("coe_role") == "worker"
    )


def resources_per_worker(resources: list[PlanResource]) -> float:
    """Custom resources that belong to a worker node (named after it), per worker."""
    workers = worker_nodes(resources)
    if not workers:
        return 0.0
    names = set(workers)
    owned = 0
    for r in resources:
        if not r.custom:
            continue
        stem = r.name
        while stem and stem not in names and "-" in stem:
            stem = stem.rsplit("-", 1)[0]
        if stem in names:
            owned += 1
    return round(owned / len(workers), 3)
