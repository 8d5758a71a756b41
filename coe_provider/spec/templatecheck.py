"""``coe validate`` on a template file (``templateFile:``): it holds one cluster template's
fields at the top, not clusters, and has no driver of its own.

It is checked the way ``coe import magnum`` checks the templates it writes: inside a
one-master cluster with one worker and no readiness gate, for every registered driver. It
passes when one driver accepts it; otherwise the driver whose labels fit best (fewest
problems) speaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coe_provider.cluster.registry import registered_drivers
from coe_provider.spec.errors import SpecError, SpecIssue
from coe_provider.spec.models import ClusterTemplate
from coe_provider.spec.validation import resolve_cluster

CLUSTER_KEYS = frozenset({"config", "clusters", "cluster"})
"""Top-level keys of stack and cluster files: a file with any of them is not a template."""

PROBE_PATH = "template"
"""Where the template's fields sit in the cluster it is checked in."""


@dataclass(frozen=True)
class TemplateVerdict:
    """What the check found."""

    drivers: tuple[str, ...]
    """Drivers that accept the template (empty when none does)."""

    issues: tuple[SpecIssue, ...]
    """When none does: the problems found for :attr:`closest`."""

    closest: str | None
    """The driver whose problems are reported."""


def is_template_document(document: Any) -> bool:
    """True for a mapping of cluster template fields (and nothing of a stack or cluster
    file)."""
    if not isinstance(document, Mapping) or not document or CLUSTER_KEYS & set(document):
        return False
    fields = {info.alias or name for name, info in ClusterTemplate.model_fields.items()}
    return bool(set(document) & fields)


def check_template(document: Mapping[str, Any], base_dir: Path) -> TemplateVerdict:
    """Check a template document for every registered driver."""
    found: dict[str, list[SpecIssue]] = {}
    for name in registered_drivers():
        probe = {"driver": name, "template": dict(document), "masterCount": 1,
                 "nodeGroups": [{"name": "default-worker", "count": 1}],
                 "waitForReady": False}
        try:
            resolve_cluster("template", probe, "", base_dir)
        except SpecError as error:
            # The file holds the template's fields at its top: paths start there.
            found[name] = [SpecIssue(issue.path.removeprefix(f"{PROBE_PATH}."), issue.rule)
                           for issue in error.issues]
        else:
            found[name] = []
    accepted = tuple(name for name, issues in found.items() if not issues)
    if accepted or not found:
        return TemplateVerdict(accepted, (), None)
    closest = min(found, key=lambda name: len(found[name]))
    return TemplateVerdict((), tuple(found[closest]), closest)


__all__ = ["TemplateVerdict", "check_template", "is_template_document"]
