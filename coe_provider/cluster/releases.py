"""What a cluster installs is fixed when it is created: the release record.

Every cluster exports, beside ``coeVersion``, a ``releases`` record: the value of each label
that chooses a release (``kube_tag``, the CNI, cloud provider and runtime versions), as resolved
when the cluster was created. On every later run the program reads the stack's previous outputs
and builds the cluster from that record, so a newer coe-provider's defaults reach new clusters
only; a label the person sets explicitly still wins (it reaches new nodes, as servers ignore
user_data changes). A cluster found in the previous outputs without a record was made by
coe-provider 0.1.0, which kept none: it resolves to the driver's 0.1.0 table.

The previous outputs come from the engine's builtin invoke ``pulumi:pulumi:readStackOutputs``
(pulumi/pulumi pkg/resource/deploy/builtins.go, the function ``StackReference`` uses), asked for
the running stack itself: the stack's outputs change only when the program returns, so during
``pulumi preview`` and ``pulumi up`` they are those of the last update. ``coe plan --state``
answers the same invoke with the previous plan's outputs.

The same previous outputs name the masters that run (``nodes``, or the master count of
``nodeGroups`` for 0.1.0): :func:`quorum_issues` refuses to remove any of them without
``drainOnDelete`` before anything is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from coe_provider.cluster.naming import live_indices, node_name
from coe_provider.spec.errors import SpecIssue, join_path
from coe_provider.spec.models import MASTER_GROUP, ClusterSpec

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
"""The engine's builtin invoke that returns a stack's outputs (argument ``name``)."""

RECORD_KEY = "releases"
"""The cluster output holding the release record."""

_SECRET_SIG = "4dabf18193072939515e22adb298388d"


def _plain(value: Any) -> Any:
    """``value`` with secret wrappers removed (the record and node names are not secret)."""
    if isinstance(value, Mapping):
        if _SECRET_SIG in value:
            return _plain(value.get("value"))
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def previous_stack_outputs() -> dict[str, Any]:
    """The running stack's outputs as the last update left them (empty for a new stack)."""
    qualified = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    try:
        result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": qualified})
    except Exception:
        # A backend without project-scoped stack names (an old file backend) knows the
        # stack by its bare name; a second failure is the real error.
        result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": pulumi.get_stack()})
    value = result.value if isinstance(result.value, Mapping) else {}
    outputs = value.get("outputs")
    return _plain(outputs) if isinstance(outputs, Mapping) else {}


def previous_cluster(outputs: Mapping[str, Any], cluster: str,
                     driver: str) -> dict[str, Any] | None:
    """What the previous outputs said about ``cluster``: every exported mapping naming it and
    its driver (the root program's ``cluster:<name>`` detail and ``clusters`` summary, or
    whatever name a Python program exported ``detail()`` under), merged; None when absent."""
    candidates: list[Any] = list(outputs.values())
    summary = outputs.get("clusters")
    if isinstance(summary, Mapping):
        candidates += list(summary.values())
    found: dict[str, Any] = {}
    for candidate in candidates:
        if (isinstance(candidate, Mapping) and candidate.get("name") == cluster
                and candidate.get("driver") == driver and "coeVersion" in candidate):
            found = {**candidate, **found}
    return found or None


def kept_releases(previous: Mapping[str, Any] | None,
                  first_release: Mapping[str, Any]) -> dict[str, Any] | None:
    """The release labels a running cluster keeps: its record, or ``first_release`` (the
    0.1.0 table) when it has none; None for a cluster that does not run yet."""
    if previous is None:
        return None
    record = previous.get(RECORD_KEY)
    return dict(record) if isinstance(record, Mapping) else dict(first_release)


def previous_masters(previous: Mapping[str, Any], cluster: str) -> set[str]:
    """Names of the masters the previous outputs declared."""
    nodes = previous.get("nodes")
    if isinstance(nodes, list):
        return {str(node["name"]) for node in nodes
                if isinstance(node, Mapping) and node.get("role") == "master"}
    for group in previous.get("nodeGroups") or []:
        if isinstance(group, Mapping) and group.get("name") == MASTER_GROUP:
            return {node_name(cluster, MASTER_GROUP, index)
                    for index in live_indices(int(group.get("count") or 0))}
    return set()


def quorum_issues(previous: Mapping[str, Any] | None, cluster: str, spec: ClusterSpec,
                  path: str) -> list[SpecIssue]:
    """Masters that would be deleted without leaving the quorum (etcd, Raft) first: removed
    or replaced running masters, when the cluster has no ``drainOnDelete``."""
    if previous is None or spec.drain_on_delete:
        return []
    running = previous_masters(previous, cluster)
    declared = {node_name(cluster, MASTER_GROUP, index)
                for index in live_indices(spec.master_count)}
    issues: list[SpecIssue] = []
    removed = sorted(running - declared)
    why = ("without drainOnDelete they would be deleted without leaving the quorum (etcd, "
           "Raft) first and the rest could lose it; set drainOnDelete: true (each master then "
           "leaves before its server is deleted), or keep them")
    if removed:
        issues.append(SpecIssue(join_path(path, "masterCount"),
                                f"removes running masters {', '.join(removed)}: {why} "
                                f"(masterCount {len(running)} -> {spec.master_count})"))
    replaced = sorted(name for name in (node_name(cluster, MASTER_GROUP, index)
                                        for index in spec.master_replace) if name in running)
    if replaced:
        issues.append(SpecIssue(join_path(path, "masterReplace"),
                                f"replaces running masters {', '.join(replaced)}: {why}"))
    return issues


__all__ = ["READ_STACK_OUTPUTS", "RECORD_KEY", "kept_releases", "previous_cluster",
           "previous_masters", "previous_stack_outputs", "quorum_issues"]
