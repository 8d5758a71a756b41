"""Carry ignored inputs forward from the previous state, as the Pulumi engine does.

A plan records what the program asks for. For inputs listed in a resource's ``ignoreChanges``
the engine keeps the value it stored when the resource was created, so a node built from
image v1 keeps v1 after the group moves to v2. ``coe plan --state PREVIOUS`` applies the same
rule, taking the stored values from the previous plan (or from ``pulumi stack export``), so
that a chain of plans (and of ``coe diff`` between them) follows what the engine would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from coe_provider.plan.graph import PlanResource
from coe_provider.plan.secrets import REDACTED


def prior_inputs(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """URN -> stored inputs, from a plan document or a ``pulumi stack export`` document."""
    if "resources" in document:
        return {r["urn"]: dict(r.get("inputs") or {}) for r in document["resources"]}
    deployment = document.get("deployment") or {}
    stored: dict[str, dict[str, Any]] = {}
    for resource in deployment.get("resources") or []:
        inputs = {
            key: REDACTED if isinstance(value, dict) and "ciphertext" in value else value
            for key, value in (resource.get("inputs") or {}).items()
        }
        stored[resource["urn"]] = inputs
    return stored


def carry_forward(resources: list[PlanResource],
                  stored: Mapping[str, Mapping[str, Any]]) -> list[PlanResource]:
    """Resources whose ignored inputs take the stored value where one exists."""
    carried: list[PlanResource] = []
    for resource in resources:
        ignored = resource.options.get("ignoreChanges") or []
        previous = stored.get(resource.urn)
        if not ignored or previous is None:
            carried.append(resource)
            continue
        inputs = dict(resource.inputs)
        for name in ignored:
            if name in previous:
                inputs[name] = previous[name]
            else:
                inputs.pop(name, None)
        carried.append(replace(resource, inputs=inputs))
    return carried
