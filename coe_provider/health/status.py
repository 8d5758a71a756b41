"""``coe status``: every cluster's health from the stack outputs, as a table or JSON."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from coe_provider.cluster.registry import probe_for
from coe_provider.health.check import check
from coe_provider.health.console import ConsoleWatch
from coe_provider.health.report import EXIT_CODES, ClusterHealth, HealthStatus
from coe_provider.health.target import HealthTarget

SEVERITY = (HealthStatus.HEALTHY, HealthStatus.UNHEALTHY, HealthStatus.UNKNOWN)
"""Statuses from best to worst: the command exits with the worst cluster's code."""


def check_all(targets: Sequence[HealthTarget], timeout: float) -> list[ClusterHealth]:
    """One check per cluster, with the driver's own probe."""
    return [check(target, probe_for(target.driver), timeout) for target in targets]


def with_console_verdicts(results: Sequence[ClusterHealth],
                          servers: Mapping[str, Mapping[str, str]],
                          connect: Callable[[], Any]) -> list[ClusterHealth]:
    """The results, with the error line of each node that is not ready and whose bootstrap
    failed, read from its console log (``servers``: cluster -> node name -> server ID)."""
    connection = functools.cache(connect)  # one connection for every cluster
    verdicts = []
    for result in results:
        nodes = servers.get(result.cluster) or {}
        watch = ConsoleWatch(nodes, connection, interval=0.0, per_look=max(len(nodes), 1),
                             speaker="coe status")
        failed = watch.failures([node.name for node in result.not_ready])
        verdicts.append(result.with_bootstrap_failures(failed) if failed else result)
    return verdicts


def overall(results: Sequence[ClusterHealth]) -> HealthStatus:
    """The worst status among the clusters."""
    return max((result.status for result in results), key=SEVERITY.index,
               default=HealthStatus.UNKNOWN)


def exit_code(results: Sequence[ClusterHealth]) -> int:
    """0 healthy, 5 unhealthy, 6 unreachable (the worst cluster decides)."""
    return EXIT_CODES[overall(results)]


def as_json(results: Sequence[ClusterHealth]) -> str:
    """``coe status --json``."""
    document = {"status": overall(results).value,
                "clusters": [result.to_json() for result in results]}
    return json.dumps(document, indent=2) + "\n"


def render(result: ClusterHealth) -> RenderableType:
    """One cluster as a heading and a node table."""
    heading = Text(f"{result.cluster}  {result.status.value}  API {result.api_address}  "
                   f"({result.driver})")
    parts: list[RenderableType] = [heading]
    if result.reason:
        parts.append(Text(f"  reason: {result.reason}"))
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("node", "role", "group", "ready", "version", "ready since", "reason"):
        table.add_column(column)
    for node in result.nodes:
        table.add_row(node.name, node.role, node.group or "-", "yes" if node.ready else "no",
                      node.version or "-", node.ready_since or "-", node.reason or "")
    parts.append(table)
    return Group(*parts, Text(""))
