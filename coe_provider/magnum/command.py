"""``coe import magnum``: read, map, report, write; returns the exit code."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from coe_provider.magnum.convert import Imported, import_magnum
from coe_provider.magnum.documents import MagnumDocuments, MagnumInputError, read_documents
from coe_provider.magnum.live import LiveRequest, fetch_documents, magnum_api
from coe_provider.magnum.output import stack_file, template_file
from coe_provider.spec.config import under_stack_config

EXIT_OK = 0
"""Every field that changes the cluster's behaviour was carried (or is a default)."""

EXIT_NOT_CARRIED = 1
"""Some field could not be carried, the driver was refused, or the result breaks a rule."""

EXIT_INPUT = 2
"""A document could not be read, or the Magnum API could not be reached."""


@dataclass(frozen=True)
class ImportOptions:
    """The command's options."""

    template: Path | None = None
    """TEMPLATE.json (file mode)."""

    cluster: str | None = None
    """CLUSTER.json (file mode), or the cluster's UUID or name (live mode)."""

    nodegroups: Path | None = None
    """NODEGROUPS.json (file mode)."""

    cloud: str | None = None
    """The clouds.yaml entry whose Magnum API is read (live mode)."""

    cluster_template: str | None = None
    """The cluster template's UUID or name on the Magnum API (live mode)."""

    name: str | None = None
    """The cluster's name in ``coe:clusters`` (default: the Magnum cluster's)."""

    output: Path | None = None
    """Where to write (default: standard output)."""

    image: str | None = None
    """A new image, for a template whose distro has no driver here."""

    as_json: bool = False
    """Print the report as JSON."""

    allow_drop: bool = False
    """Write even when some field could not be carried (the exit code stays 1)."""

    @property
    def live(self) -> bool:
        """True when the documents come from the Magnum API rather than from files."""
        return self.cloud is not None or self.cluster_template is not None


def load(options: ImportOptions) -> tuple[MagnumDocuments, str]:
    """The documents and a description of where they came from."""
    if options.live:
        if options.template or options.nodegroups:
            raise MagnumInputError("--template and --nodegroups read files, --cloud and "
                                   "--cluster-template read the Magnum API: give one or the "
                                   "other")
        request = LiveRequest(options.cloud, options.cluster_template, options.cluster)
        with magnum_api(request) as api:
            return fetch_documents(request, api)
    if options.template is None:
        raise MagnumInputError("give --template TEMPLATE.json (files), or --cluster-template "
                               "ID|NAME and/or --cloud NAME (the Magnum API)")
    cluster = Path(options.cluster) if options.cluster else None
    documents = read_documents(options.template, cluster, options.nodegroups)
    return documents, str(cluster or options.template)


def run_import(options: ImportOptions) -> int:
    """Run the import; the report goes to stdout (or stderr when YAML goes to stdout)."""
    try:
        documents, source = load(options)
    except MagnumInputError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    # The stack file names the cloud it was read from; checks see it as pulumi up will.
    provider = {"openstack:cloud": options.cloud} if options.cloud else {}
    imported = under_stack_config(provider, [], lambda: import_magnum(
        documents, options.name, options.image))
    report = imported.report
    write = imported.cluster is not None and not report.problems and (
        report.ok or options.allow_drop)
    text = ""
    if write:
        text = (stack_file(imported, source, options.cloud) if documents.cluster
                else template_file(imported, source))
        report.written = str(options.output) if options.output else "-"
    to_stdout = write and options.output is None
    print_report(imported, options.as_json, Console(
        file=sys.stderr if to_stdout else sys.stdout, no_color=True, highlight=False,
        markup=False, emoji=False, width=200, soft_wrap=True))
    if write and options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text)
    elif write:
        sys.stdout.write(text)
    return EXIT_OK if report.ok else EXIT_NOT_CARRIED


def print_report(imported: Imported, as_json: bool, console: Console) -> None:
    """The report as a table (or JSON), then what failed."""
    report = imported.report
    if as_json:
        document = {**report.as_json(), "warnings": imported.warnings}
        console.file.write(json.dumps(document, indent=2, default=str) + "\n")
        return
    if not report.rows:
        console.print(f"driver: {report.driver or 'none'}")
        for problem in report.problems:
            console.print(f"error: {problem}")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Magnum field", "from", "value", "coe-provider"):
        table.add_column(column)
    for row in report.rows:
        table.add_row(row.field, row.source, _shown(row.value), row.describe())
    console.print(table)
    console.print(f"driver: {report.driver or 'none'}")
    for warning in imported.warnings:
        console.print(f"warning: {warning} (needed by coe plan and pulumi up)")
    for problem in report.problems:
        console.print(f"error: {problem}")
    if report.blocking:
        console.print("not carried: " + ", ".join(row.field for row in report.blocking))
        console.print("nothing written (give --allow-drop to write without them)"
                      if report.written is None else "written without them (--allow-drop)")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
