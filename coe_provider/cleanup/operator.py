"""``coe cleanup``: the delete step by hand, for the clusters of a stack's outputs.

It takes what ``pulumi stack output --json`` prints (only the non-secret ``cloudCleanup``
outputs are read; the command reads them as
``coe status`` does), picks the clusters with a ``cloudCleanup`` output, and lists
(``--dry-run``) or deletes their cloud objects exactly as the delete step does, for example
after servers were deleted outside a ``pulumi destroy``.
"""

from __future__ import annotations

from typing import Any

from coe_provider.cleanup.executor import CleanupReport, run_cleanup
from coe_provider.cleanup.target import OUTPUT_KEY, CleanupTarget, targets_from_stack_outputs


def choose_targets(outputs: dict[str, Any], cluster: str | None,
                   source: str) -> list[CleanupTarget]:
    """The targets of ``cluster`` (or of every cluster that has one)."""
    targets = targets_from_stack_outputs(outputs)
    if cluster is not None:
        if cluster not in targets:
            known = ", ".join(sorted(targets)) or "none"
            raise ValueError(f"{source}: cluster {cluster!r} has no {OUTPUT_KEY} output "
                             f"(clusters with one: {known})")
        return [targets[cluster]]
    if not targets:
        raise ValueError(f"{source}: no cluster has a {OUTPUT_KEY} output (only clusters "
                         "whose driver runs a cloud provider have one)")
    return [targets[name] for name in sorted(targets)]


def cleanup_from_outputs(outputs: dict[str, Any], source: str, cluster: str | None,
                         dry_run: bool, timeout: float) -> list[CleanupReport]:
    """List or run the cleanup of the chosen clusters, in name order."""
    targets = choose_targets(outputs, cluster, source)
    return [run_cleanup(target, dry_run=dry_run, timeout=timeout) for target in targets]
