"""Whole-cluster rules: the readiness gate, masters spread by a server group, the version."""

from __future__ import annotations

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from coe_provider.policy.view import (
    CLUSTER_TYPE_PREFIX,
    DYNAMIC,
    INSTANCE,
    cluster_component,
    cluster_from_parent,
    keys,
    line,
)

GATE_KEY = "expectedNodes"
"""The readiness gate is the dynamic resource of a cluster with this property
(``coe_provider.health.gate.gate_inputs``); the cleanup resource has none."""


def _clusters(resources: list[PolicyResource]) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type.startswith(CLUSTER_TYPE_PREFIX)]


def _readiness_gate(args: StackValidationArgs, report: ReportViolation) -> None:
    gated = set()
    for resource in args.resources:
        component = cluster_component(resource)
        # The final gate: a first stage (``stage: api``) waits for the API only.
        if component is not None and resource.resource_type == DYNAMIC and (
                GATE_KEY in keys(resource.props)) and "stage" not in keys(resource.props):
            gated.add(component.urn)
    for cluster in _clusters(args.resources):
        if cluster.urn not in gated:
            report(line(cluster.name, f"component {cluster.name}",
                        "has no readiness gate, so pulumi up ends before the nodes are ready "
                        "and a failed bootstrap goes unnoticed",
                        "set waitForReady: true (the default)"), cluster.urn)


READINESS_GATE_PRESENT = StackValidationPolicy(
    name="readiness-gate-present",
    description="Every cluster has its readiness gate: pulumi up ends when the COE reports "
                "every declared node ready.",
    validate=_readiness_gate,
    enforcement_level=EnforcementLevel.ADVISORY,
)
"""Warns about clusters built with ``waitForReady: false``."""


def _masters_server_group(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != INSTANCE:
        return
    metadata: Any = args.props.get("metadata")
    if "coe_role" not in keys(metadata) or metadata["coe_role"] != "master":
        return
    hints = args.props.get("schedulerHints") or []
    # Only whether a group is named: its ID is not known during preview.
    if not any("group" in keys(hint) for hint in hints):
        cluster = (metadata["coe_cluster"] if "coe_cluster" in keys(metadata)
                   else cluster_from_parent(args.opts.parent))
        report(line(cluster, f"master {args.name}",
                    "is in no server group, so Nova may put several masters on one "
                    "hypervisor and one host failure can take quorum",
                    "give the masters a server group with the (soft-)anti-affinity "
                    "policy"), None)


MASTERS_IN_SERVER_GROUP = ResourceValidationPolicy(
    name="masters-in-server-group",
    description="Master servers are placed through a server group (anti-affinity), so one "
                "hypervisor failure does not take the control plane.",
    validate=_masters_server_group,
    enforcement_level=EnforcementLevel.ADVISORY,
)
"""Warns about masters Nova may stack on one host."""


def version_problem(kube_tag: str) -> str | None:
    """Why a Kubernetes release is not one the driver supports (out of upstream support,
    newer than checked, malformed), or ``None``. The k8s driver's support table decides."""
    from coe_provider_drivers.k8s_ubuntu import labels  # the one coupling

    return labels.kube_tag_problem(kube_tag) or labels.kube_tag_warning(kube_tag)


def _kubernetes_minor(args: StackValidationArgs, report: ReportViolation) -> None:
    for cluster in _clusters(args.resources):
        try:
            coe, version = cluster.props.get("coe"), cluster.props.get("coeVersion")
        except UnknownValueError:
            continue
        if coe != "kubernetes" or not isinstance(version, str):
            continue
        problem = version_problem(version)
        if problem:
            report(line(cluster.name, f"component {cluster.name}",
                        f"runs Kubernetes {version}: {problem}",
                        "plan an upgrade: set labels.kube_tag to a supported release"),
                   cluster.urn)


KUBERNETES_MINOR_SUPPORTED = StackValidationPolicy(
    name="kubernetes-minor-supported",
    description="Every Kubernetes cluster runs a minor in upstream support (the k8s_ubuntu "
                "driver's support table).",
    validate=_kubernetes_minor,
    enforcement_level=EnforcementLevel.ADVISORY,
)
"""Warns about clusters whose Kubernetes minor left upstream support."""
