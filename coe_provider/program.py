"""The root program: build every cluster of the stack configuration and export what Magnum listed.

Exports ``clusters`` (name -> summary: the List call) and ``cluster:<name>`` per cluster (the
List detailed call, secrets kept secret).
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from coe_provider.cluster.base import CoeCluster
from coe_provider.spec.config import coe_settings_from_stack_config, load_clusters


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
    # SpecError is a pulumi.RunError: the engine prints its lines without a traceback.
    export_clusters(build_clusters())
