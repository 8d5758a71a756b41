"""``coe plan`` and ``coe diff``: plan a stack file offline and print or write the plan;
compare two plans by URN."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from coe_provider.cliio import (
    EXIT_CHANGES,
    EXIT_FAILED,
    EXIT_INVALID,
    fail,
    make_console,
    program_failure,
    running,
    spec_lines,
    to_stdout,
    write_output,
)
from coe_provider.plan.diff import FAIL_KINDS, diff_plans, failing_kinds
from coe_provider.plan.render import (
    diff_markdown,
    diff_summary,
    plan_markdown,
    plan_summary,
    resource_tree,
)
from coe_provider.plan.stackfile import plan_stack_file
from coe_provider.spec.errors import SpecError

PLACEHOLDER_NOTE = (
    "note: no Keystone URL for the cloud provider (the openstack_auth_url label, "
    "openstack:authUrl, OS_AUTH_URL or a clouds.yaml entry): planned with the placeholder "
    "{url}; coe validate and pulumi up need the real one")
"""What ``coe plan`` says when it planned with :data:`OFFLINE_PLACEHOLDER`."""


def plan_command(file: Path, json_out: Path | None, markdown: Path | None,
                 program: Path | None, tree_limit: int, state: Path | None) -> None:
    """``coe plan``: run the program offline and show (or write) what it would build."""
    err = make_console(stderr=True)
    started = time.perf_counter()
    from coe_provider.openstack.auth import OFFLINE_PLACEHOLDER, offline_keystone

    try:
        with running(err, f"planning {file} under the mocks runtime"), \
                offline_keystone() as keystone:
            result = plan_stack_file(file, program, state)
    except SpecError as error:
        fail(EXIT_INVALID, *spec_lines(error))
    except FileNotFoundError as error:
        fail(EXIT_FAILED, f"error: {error}")
    except typer.Exit:
        raise  # an input file was already reported
    except (Exception, SystemExit) as error:
        fail(EXIT_FAILED, program_failure(error))
    elapsed = time.perf_counter() - started
    document = result.as_json()
    if json_out is not None:
        write_output(json_out, result.dumps(), "plan JSON")
    if markdown is not None:
        write_output(markdown, plan_markdown(document), "plan Markdown")
    if to_stdout(json_out, markdown):
        if keystone.used:
            err.print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))
        return
    console = make_console()
    console.print(resource_tree(document, tree_limit))
    console.print()
    console.print(plan_summary(document))
    err.print(f"planned {document['summary']['total']} resources in {elapsed:.1f} s "
              "(offline: no cloud was contacted)")
    if keystone.used:
        err.print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))


def read_plan(path: Path) -> dict[str, Any]:
    """A plan JSON file; exits with :data:`EXIT_FAILED` when it is not one."""
    from coe_provider.plan.document import load_plan

    try:
        return load_plan(path.read_text())
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(EXIT_FAILED, f"error: {path}: {exc}")


def parse_fail_on(values: list[str] | None) -> set[str]:
    """``--fail-on`` values, repeated or comma-separated."""
    kinds = {part.strip().lower() for value in values or [] for part in value.split(",")}
    kinds.discard("")
    unknown = sorted(kinds - set(FAIL_KINDS))
    if unknown:
        raise typer.BadParameter(
            f"unknown kind {', '.join(unknown)} (choose from {', '.join(sorted(FAIL_KINDS))})",
            param_hint="--fail-on")
    return kinds


def diff_command(before: Path, after: Path, json_out: Path | None, markdown: Path | None,
                 fail_on: list[str] | None) -> None:
    """``coe diff``: compare two plans by URN; exit 3 on a change of a ``--fail-on`` kind."""
    kinds = parse_fail_on(fail_on)
    base, change = read_plan(before), read_plan(after)
    stacks = [f"{plan.get('project')}/{plan.get('stack')}" for plan in (base, change)]
    if stacks[0] != stacks[1]:
        make_console(stderr=True).print(
            f"warning: {before} is a plan of {stacks[0]} and {after} of {stacks[1]} "
            "(project/stack): the diff compares two different stacks")
    result = diff_plans(base, change)
    if json_out is not None:
        write_output(json_out, result.dumps(), "diff JSON")
    if markdown is not None:
        write_output(markdown, diff_markdown(result), "diff Markdown")
    if not to_stdout(json_out, markdown):
        make_console().print(diff_summary(result))
    failing = failing_kinds(result, kinds)
    if failing:
        counts = result.counts()
        fail(EXIT_CHANGES, "coe diff: failing on " + ", ".join(
            f"{counts[FAIL_KINDS[kind]]} {FAIL_KINDS[kind]}" for kind in failing)
            + " (--fail-on " + ",".join(failing) + ")")
