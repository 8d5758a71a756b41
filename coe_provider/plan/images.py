"""``coe images``: per cluster of a stack file, every image, chart, package repository and file
its nodes and releases will fetch, with where each is published upstream: the list to mirror
into an air-gapped cloud (``skopeo copy``, a Harbor replication rule, an APT mirror).

Clusters are read as new clusters (a running cluster keeps the releases in its state, which
``coe plan --state`` shows).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table

from coe_provider.cliio import EXIT_FAILED, EXIT_INVALID, fail, make_console, spec_lines
from coe_provider.cluster.artifacts import ArtifactError, Artifacts
from coe_provider.spec.errors import SpecError, join_path


def cluster_artifacts(file: Path) -> dict[str, Artifacts]:
    """What each cluster of ``file`` fetches, by cluster name; :class:`SpecError` naming the
    label when a driver cannot name an artifact."""
    from coe_provider.plan.stackfile import read_stack_config
    from coe_provider.spec.config import coe_settings_from_file, load_clusters, under_stack_config

    settings = coe_settings_from_file(file)
    config, secret_keys = read_stack_config(file)
    resolved = under_stack_config(config, secret_keys, lambda: load_clusters(
        settings, file.resolve().parent))
    found: dict[str, Artifacts] = {}
    problems: list[str] = []
    for name, cluster in resolved.items():
        driver = cluster.driver.cls
        labels = driver.settle_labels(cluster.labels, cluster.spec, running=False)
        try:
            found[name] = driver.fetched_artifacts(labels, cluster.spec)
        except ArtifactError as error:
            problems.append(f"{join_path(f'clusters.{name}.labels', error.label)}: "
                            f"{error.reason}")
    if problems:
        raise _NotNamed(problems)
    return found


class _NotNamed(Exception):
    """Artifacts a driver could not name, one line each."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        """``path: reason`` per artifact."""


def images_command(file: Path, as_json: bool) -> None:
    """``coe images``: a table per cluster, or JSON; exit 1 on an invalid stack or an artifact
    the driver cannot name, 2 when the file cannot be read."""
    try:
        found = cluster_artifacts(file)
    except SpecError as error:
        fail(EXIT_INVALID, *spec_lines(error))
    except _NotNamed as error:
        fail(EXIT_INVALID, *(f"error: {line}" for line in error.lines))
    except Exception as error:  # an unreadable file or a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    if as_json:
        document: dict[str, Any] = {"clusters": {
            name: artifacts.as_json() for name, artifacts in found.items()}}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    console = make_console()
    for name, artifacts in found.items():
        console.print(name, style="bold")
        for title, rows in _sections(artifacts):
            if not rows:
                continue
            table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD,
                          show_edge=False, pad_edge=False)
            for column in rows[0]:
                table.add_column(column)
            for row in rows:
                table.add_row(*row.values())
            console.print(table)


def _sections(artifacts: Artifacts) -> list[tuple[str, list[dict[str, str]]]]:
    """The table rows of each kind; the upstream column only where a mirror replaces it."""
    def mirrored(fetched: str, upstream: str) -> str:
        return "" if fetched == upstream else upstream

    sections = [
        ("images", [{"image": image.reference, "upstream": mirrored(image.reference,
                                                                    image.upstream),
                     "used by": image.used_by} for image in artifacts.images]),
        ("charts", [{"chart": chart.name, "version": chart.version,
                     "repository": chart.repository,
                     "upstream": mirrored(chart.repository, chart.upstream)}
                    for chart in artifacts.charts]),
        ("package repositories", [{"repository": repo.url,
                                   "upstream": mirrored(repo.url, repo.upstream),
                                   "for": repo.purpose}
                                  for repo in artifacts.package_repositories]),
        ("files", [{"url": url} for url in artifacts.files]),
    ]
    # A column that is empty in every row (nothing mirrored) is left out.
    return [(title, [{key: value for key, value in row.items()
                      if any(other[key] for other in rows)} for row in rows])
            for title, rows in sections]


__all__ = ["cluster_artifacts", "images_command"]
