"""``coe validate`` and ``coe schema``: check stack, cluster and template files the way
``pulumi up`` would read them, and print their JSON Schema for editors."""

from __future__ import annotations

import sys
from pathlib import Path

from coe_provider.cliio import (
    EXIT_FAILED,
    EXIT_INVALID,
    fail,
    make_console,
    spec_lines,
    write_output,
)
from coe_provider.spec.config import coe_settings_from_file, load_clusters, under_stack_config
from coe_provider.spec.errors import SpecError
from coe_provider.spec.schema import SchemaKind, render_schema
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file


def validate_command(file: Path, strict: bool) -> None:
    """``coe validate``: one OK line per cluster; exit 1 listing each broken rule (warnings
    are printed and fail only with ``strict``)."""
    from coe_provider.plan.stackfile import read_stack_config

    if validate_template_file(file):
        return
    try:
        settings = coe_settings_from_file(file)
        config, secret_keys = read_stack_config(file)
        # The provider settings of the stack file (openstack:cloud ...) count, as under pulumi up.
        resolved = under_stack_config(config, secret_keys, lambda: load_clusters(
            settings, file.resolve().parent))
    except SpecError as error:
        fail(EXIT_INVALID, *spec_lines(error))
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    console = make_console()
    for name, cluster in resolved.items():
        spec = cluster.spec
        workers = sum(group.count for group in spec.node_groups)
        version = cluster.driver.cls.coe_version(cluster.labels)
        console.print(
            f"{name}: OK (driver {cluster.driver.name}, {cluster.driver.coe} {version}, "
            f"{spec.master_count} master{'s' if spec.master_count != 1 else ''}, "
            f"{workers} worker{'s' if workers != 1 else ''} in {len(spec.node_groups)} "
            f"node group{'s' if len(spec.node_groups) != 1 else ''})")
    warnings = [f"warning: {issue.path}: {issue.rule}"
                for cluster in resolved.values() for issue in cluster.warnings]
    for line in warnings:
        sys.stderr.write(line + "\n")
    if strict and warnings:
        fail(EXIT_INVALID, f"--strict: {len(warnings)} warning(s)")


def validate_template_file(file: Path) -> bool:
    """When ``file`` is a template file, validate it as one and say so; False otherwise."""
    from coe_provider.spec.templatecheck import check_template, is_template_document

    try:
        document = load_yaml_file(file)
    except YamlLoadError:
        return False  # the stack-file path reports it
    if not is_template_document(document):
        return False
    try:
        verdict = check_template(document, file.resolve().parent)
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    if verdict.drivers:
        make_console().print(f"{file}: OK: a template file (templateFile:), valid for "
                             f"driver {', '.join(verdict.drivers)}")
        return True
    fail(EXIT_INVALID, f"{file}: a template file (templateFile:), checked for driver "
                       f"{verdict.closest} (the one it fits best):",
         *(str(issue) for issue in verdict.issues))


def schema_command(kind: SchemaKind, output: Path) -> None:
    """``coe schema``: the JSON Schema of ``kind`` files, to ``output`` ('-': stdout)."""
    try:
        text = render_schema(kind)
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    write_output(output, text, "JSON Schema")
