"""The plan document: every resource with redacted inputs, the outputs, and a summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coe_provider.plan.exposure import exposures
from coe_provider.plan.graph import PlanResource, critical_path, resources_per_worker, worker_nodes
from coe_provider.plan.releases import release_rows
from coe_provider.plan.runner import ProgramRun
from coe_provider.plan.secrets import redact
from coe_provider.plan.state import carry_forward

PLAN_FORMAT = 1
"""Version of the plan JSON layout."""


@dataclass(frozen=True)
class Plan:
    """A program's resource graph as the offline plan records it."""

    project: str
    """Pulumi project."""

    stack: str
    """Stack name."""

    resources: list[PlanResource]
    """Every resource, sorted by URN, secrets redacted."""

    outputs: dict[str, Any]
    """Stack outputs, secrets redacted."""

    summary: dict[str, Any]
    """Counts, graph figures, exposure and placeholders."""

    def as_json(self) -> dict[str, Any]:
        """The plan file's JSON object."""
        return {"format": PLAN_FORMAT, "project": self.project, "stack": self.stack,
                "resources": [r.as_json() for r in self.resources],
                "outputs": self.outputs, "summary": self.summary}

    def dumps(self) -> str:
        """Deterministic JSON text (sorted keys, fixed indentation)."""
        return json.dumps(self.as_json(), indent=2, sort_keys=True) + "\n"


def build_plan(run: ProgramRun, stored: Mapping[str, Mapping[str, Any]] | None = None) -> Plan:
    """Redact secrets and compute the summary of one program run.

    ``stored`` (URN -> inputs of a previous plan or state) makes ignored inputs keep their
    stored values, as the engine would (see :mod:`coe_provider.plan.state`).
    """
    resources = [
        PlanResource(urn=r.urn, type=r.type, name=r.name, parent=r.parent, custom=r.custom,
                     inputs=redact(r.inputs), dependencies=list(r.dependencies),
                     options=dict(r.options), outputs=redact(r.outputs))
        for r in run.resources
    ]
    if stored:
        resources = carry_forward(resources, stored)
    length, chain = critical_path(resources)
    custom = [r for r in resources if r.custom]
    summary = {
        "total": len(custom),
        "components": len(resources) - len(custom),
        "countsByType": dict(sorted(Counter(r.type for r in custom).items())),
        "workers": len(worker_nodes(resources)),
        "resourcesPerWorker": resources_per_worker(resources),
        "criticalPath": length,
        "criticalPathResources": chain,
        "exposure": [e.as_json() for e in exposures(resources)],
        "placeholders": [{"token": p.token, "args": p.args} for p in run.placeholders],
    }
    releases = release_rows(resources)
    if releases:
        # Only where there are any: a plan without releases keeps its earlier shape.
        summary["releases"] = releases
    return Plan(project=run.project, stack=run.stack, resources=resources,
                outputs=redact(run.stack_outputs), summary=summary)


def load_plan(text: str) -> dict[str, Any]:
    """Parse a plan file written by :meth:`Plan.dumps`."""
    hint = "make one with coe plan FILE --json PLAN.json"
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError(f"not a coe plan file: not JSON ({hint})") from None
    if isinstance(document, dict) and "deployment" in document:
        raise ValueError(f"a pulumi stack export, not a coe plan file ({hint})")
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise ValueError(f"not a coe plan file: no list of resources ({hint})")
    return document
