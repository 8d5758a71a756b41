"""``coe cleanup``: read the stack outputs, list or delete what each cluster's cloud provider
made (:mod:`coe_provider.cleanup.operator`), and print one report per cluster."""

from __future__ import annotations

import typer

from coe_provider.cleanup.executor import CleanupError
from coe_provider.cleanup.operator import cleanup_from_outputs
from coe_provider.cliio import EXIT_FAILED, fail, read_outputs


def cleanup_command(outputs: str, dry_run: bool, cluster: str | None, timeout: float) -> None:
    """``coe cleanup``: exit 2 with one line on any error (no traceback)."""
    document = read_outputs(outputs)
    try:
        reports = cleanup_from_outputs(document, "stdin" if outputs == "-" else outputs, cluster,
                                       dry_run, timeout)
    except (ValueError, CleanupError) as error:
        fail(EXIT_FAILED, f"error: {error}")
    except Exception as error:  # openstacksdk / keystoneauth: one line, no traceback
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    for report in reports:
        typer.echo("\n".join(report.lines()))
