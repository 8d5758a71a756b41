"""``coe import magnum``: read, map, report, write; returns the exit code."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table

from coe_provider.magnum.convert import Imported, import_magnum
from coe_provider.magnum.documents import MagnumDocuments, MagnumInputError, read_documents
from coe_provider.magnum.filewrite import (
    Pending,
    WriteRefused,
    stack_cluster_change,
    template_change,
)
from coe_provider.magnum.live import LiveRequest, fetch_documents, magnum_api
from coe_provider.magnum.output import stack_file, stack_header, template_file, template_header
from coe_provider.magnum.redact import has_credentials, scrub
from coe_provider.spec.config import under_stack_config

EXIT_OK = 0
"""Every field that changes the cluster's behaviour was carried (or is a default)."""

EXIT_NOT_CARRIED = 1
"""Some field could not be carried, the driver was refused, or the result breaks a rule."""

EXIT_INPUT = 2
"""A document could not be read, the Magnum API could not be reached, or the output file
cannot take the import (a cluster of that name without ``--force``)."""


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

    force: bool = False
    """Replace a cluster of the same name in the stack file (or an existing template file)."""

    template_output: Path | None = None
    """With a cluster: write its template into this template file, which the cluster names
    with ``templateFile``."""

    @property
    def live(self) -> bool:
        """True when the documents come from the Magnum API rather than from files."""
        return self.cloud is not None or self.cluster_template is not None


def load(options: ImportOptions) -> tuple[MagnumDocuments, str]:
    """The documents and a description of where they came from."""
    if options.template_output is not None and (options.cluster is None
                                                 or options.output is None):
        raise MagnumInputError("--template-output writes a cluster's template beside the stack "
                               "file: give --cluster and --output too")
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
        sys.stderr.write(f"error: {scrub(str(exc))}\n")
        return EXIT_INPUT
    # The stack file names the cloud it was read from; checks see it as pulumi up will.
    provider = {"openstack:cloud": options.cloud} if options.cloud else {}
    imported = under_stack_config(provider, [], lambda: import_magnum(
        documents, options.name, options.image))
    report = imported.report
    write = imported.cluster is not None and not report.problems and (
        report.ok or options.allow_drop)
    credentials = sorted(credential_paths(imported.cluster)) if write else []
    if write and credentials and options.output is None:
        print_report(imported, options.as_json, _console(sys.stdout))
        sys.stderr.write(
            f"error: {', '.join(credentials)} carry credentials (user:password@), which are "
            "never printed: give --output FILE, written with mode 0600; nothing written\n")
        return EXIT_NOT_CARRIED
    to_stdout = write and options.output is None
    if write:
        report.written = str(options.output) if options.output else "-"
    print_report(imported, options.as_json, _console(sys.stderr if to_stdout else sys.stdout))
    if not write:
        return EXIT_NOT_CARRIED
    if options.output is None:
        sys.stdout.write(stack_file(imported, source, options.cloud) if documents.cluster
                         else template_file(imported, source))
        return EXIT_OK if report.ok else EXIT_NOT_CARRIED
    try:
        written = [change.write() for change in file_changes(imported, documents, source,
                                                             options)]
    except (WriteRefused, OSError) as exc:
        text = str(exc) if isinstance(exc, WriteRefused) else \
            f"cannot write {exc.filename or options.output}: {exc.strerror}"
        sys.stderr.write(f"error: {text}\n")
        return EXIT_INPUT
    for done in written:
        sys.stderr.write(f"{done}\n")
        if done.private:
            sys.stderr.write(
                f"warning: {done.path} holds the proxy credentials of {', '.join(credentials)} "
                "in clear, so it was written with mode 0600; keep it out of version control\n")
    return EXIT_OK if report.ok else EXIT_NOT_CARRIED


def file_changes(imported: Imported, documents: MagnumDocuments, source: str,
                 options: ImportOptions) -> list[Pending]:
    """What the import writes into ``--output`` (and ``--template-output``), every file
    checked before any is written: a refusal leaves them all as they were."""
    assert options.output is not None and imported.cluster is not None
    if documents.cluster is None:
        template = imported.cluster["template"]
        return [template_change(options.output, template, template_header(imported, source),
                                options.force, _private(template))]
    cluster = dict(imported.cluster)
    changes: list[Pending] = []
    if options.template_output is not None:
        template = cluster.pop("template")
        changes.append(template_change(options.template_output, template,
                                       template_header(imported, source), options.force,
                                       _private(template)))
        # templateFile resolves from the stack file's directory, as pulumi up runs there.
        cluster = {"driver": cluster.pop("driver"), "templateFile": os.path.relpath(
            options.template_output.resolve(), options.output.resolve().parent), **cluster}
    changes.append(stack_cluster_change(options.output, imported.name, cluster,
                                        stack_header(source), options.cloud, options.force,
                                        _private(cluster)))
    return changes


def _private(content: Any) -> bool:
    """A file holding credentials in clear is written with mode 0600."""
    return bool(credential_paths(content))


def credential_paths(value: Any, path: str = "") -> list[str]:
    """Where ``value`` holds URLs with credentials (``template.httpProxy``)."""
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in credential_paths(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value)
                for found in credential_paths(item, f"{path}[{index}]")]
    return [path] if has_credentials(value) else []


def _console(stream: TextIO) -> Console:
    return Console(file=stream, no_color=True, highlight=False, markup=False, emoji=False,
                   width=200, soft_wrap=True)


def print_report(imported: Imported, as_json: bool, console: Console) -> None:
    """The report as a table (or JSON), then what failed."""
    report = imported.report
    if as_json:
        document = {**report.as_json(),
                    "warnings": [scrub(warning) for warning in imported.warnings]}
        console.file.write(json.dumps(document, indent=2, default=str) + "\n")
        return
    if not report.rows:
        console.print(f"driver: {report.driver or 'none'}")
        for problem in report.problems:
            console.print(f"error: {scrub(problem)}")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("Magnum field", "from", "value", "coe-provider"):
        table.add_column(column)
    for row in report.rows:
        shown = row.redacted()
        table.add_row(row.field, row.source, _shown(shown.value), shown.describe())
    console.print(table)
    console.print(f"driver: {report.driver or 'none'}")
    for warning in imported.warnings:
        console.print(f"warning: {scrub(warning)} (needed by coe plan and pulumi up)")
    for problem in report.problems:
        console.print(f"error: {scrub(problem)}")
    if report.blocking:
        console.print("not carried: " + ", ".join(row.field for row in report.blocking))
        console.print("nothing written (give --allow-drop to write without them)"
                      if report.written is None else "written without them (--allow-drop)")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
