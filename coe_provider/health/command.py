"""``coe status``: read the stack outputs, check each cluster, print tables or JSON, exit
with the worst cluster's code."""

from __future__ import annotations

import sys

import typer

from coe_provider.cliio import EXIT_FAILED, fail, make_console, read_outputs
from coe_provider.health.outputs import (
    CLUSTER_PREFIX,
    OutputsError,
    server_ids_from_detail,
    targets_from_outputs,
)
from coe_provider.health.status import as_json as status_json
from coe_provider.health.status import check_all, exit_code, render, with_console_verdicts


def status_command(outputs: str, as_json: bool, cluster: str | None, timeout: float,
                   consoles: bool) -> None:
    """``coe status``: exit 0 healthy, 5 unhealthy, 6 unreachable (the worst cluster)."""
    from coe_provider.openstack import settings as provider_settings

    document = read_outputs(outputs)
    try:
        targets = targets_from_outputs(document, cluster)
    except OutputsError as exc:
        fail(EXIT_FAILED, f"error: {exc}")
    results = check_all(targets, timeout)
    if consoles:
        servers = {target.cluster: server_ids_from_detail(
            document[f"{CLUSTER_PREFIX}{target.cluster}"]) for target in targets}
        results = with_console_verdicts(results, servers, lambda: provider_settings.connect(
            None, None, {"api_timeout": timeout}))
    if as_json:
        sys.stdout.write(status_json(results))
    else:
        console = make_console()
        for result in results:
            console.print(render(result))
    code = exit_code(results)
    if code:
        raise typer.Exit(code)
