"""The Helm releases of a plan: what ``coe plan`` lists and ``coe diff`` names.

A ``kubernetes:helm.sh/v3:Release`` is one resource whose chart, version, repository and values
are its inputs; the plan's inputs are already redacted, so a secret value reads ``[secret]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from coe_provider.plan.graph import PlanResource

RELEASE = "kubernetes:helm.sh/v3:Release"
"""A Helm release's type token (pulumi-kubernetes)."""


def is_release(type_token: str) -> bool:
    """Whether ``type_token`` is a Helm release."""
    return type_token == RELEASE


def release_rows(resources: Iterable[PlanResource]) -> list[dict[str, Any]]:
    """Each release: its resource, chart, version, repository, namespace and values."""
    rows = []
    for resource in resources:
        if not is_release(resource.type):
            continue
        inputs = resource.inputs
        repository = inputs.get("repositoryOpts")
        rows.append({
            "resource": resource.name,
            "chart": inputs.get("chart"),
            "version": inputs.get("version"),
            "repository": repository.get("repo") if isinstance(repository, Mapping) else None,
            "namespace": inputs.get("namespace"),
            "values": inputs.get("values") or {},
        })
    return sorted(rows, key=lambda row: str(row["resource"]))


def values_text(values: Any) -> str:
    """Values on one line (compact JSON, keys sorted)."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


__all__ = ["RELEASE", "is_release", "release_rows", "values_text"]
