"""The root program: build every cluster of the stack configuration and export what Magnum listed.

Exports ``clusters`` (name -> summary: the List call) and ``cluster:<name>`` per cluster (the
List detailed call, secrets kept secret).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pulumi

from coe_provider.base import CoeCluster
from coe_provider.config import coe_settings_from_stack_config, load_clusters
from coe_provider.errors import SpecError


def build_clusters(base_dir: Path | None = None) -> dict[str, CoeCluster]:
    """Validate the whole configuration first, then build each cluster with its driver."""
    resolved = load_clusters(coe_settings_from_stack_config(), base_dir or Path.cwd())
    return {
        name: cluster.driver.cls(name, cluster.spec, resolved=cluster)
        for name, cluster in resolved.items()
    }


def export_clusters(clusters: dict[str, CoeCluster]) -> None:
    """Export the List and List detailed views."""
    pulumi.export("clusters", pulumi.Output.all(
        **{name: cluster.summary() for name, cluster in clusters.items()}))
    for name, cluster in clusters.items():
        pulumi.export(f"cluster:{name}", cluster.detail())


def main() -> None:
    """Entry point of ``__main__.py``: a bad configuration stops before any registration."""
    try:
        clusters = build_clusters()
    except SpecError as exc:
        # A plain message per broken rule; the engine shows it without a Python traceback.
        message = "invalid coe configuration:\n" + "\n".join(f"  {i}" for i in exc.issues)
        pulumi.log.error(message)
        sys.tracebacklimit = 0
        raise SpecError(exc.issues) from None
    export_clusters(clusters)
