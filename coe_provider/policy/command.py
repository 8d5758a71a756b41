"""``coe audit``: coe-provider's policies (the policy pack's) on a plan, the offline way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from coe_provider.cliio import (
    EXIT_AUDIT,
    EXIT_FAILED,
    EXIT_INVALID,
    fail,
    make_console,
    program_failure,
    read_json,
    spec_lines,
    to_stdout,
    write_output,
)
from coe_provider.spec.errors import SpecError


def read_policy_config(path: Path | None) -> Any:
    """Each policy's settings under a ``--policy-pack-config`` file (defaults without one);
    exits with :data:`EXIT_FAILED` on a file that is not JSON, :data:`EXIT_INVALID` on one
    that breaks a rule."""
    from coe_provider.policy import POLICIES
    from coe_provider.policy.levels import PolicyConfigError, reconcile

    document = read_json(path) if path is not None else None
    try:
        return reconcile(POLICIES, document)
    except PolicyConfigError as error:
        fail(EXIT_INVALID, f"{path}: {error}")


def audit_command(file: Path, strict: bool, json_out: Path | None, program: Path | None,
                  policy_config: Path | None) -> None:
    """``coe audit``: plan ``file`` (or read a plan JSON), run the policies, print or write
    the report; exit 4 with ``strict`` on a violation of a mandatory policy."""
    from coe_provider.openstack.auth import OFFLINE_PLACEHOLDER, offline_keystone
    from coe_provider.plan.audit import audit_plan
    from coe_provider.plan.command import PLACEHOLDER_NOTE, read_plan
    from coe_provider.plan.stackfile import plan_stack_file

    settings = read_policy_config(policy_config)
    if file.suffix == ".json":
        document = read_plan(file)
    else:
        try:
            with offline_keystone() as keystone:
                document = plan_stack_file(file, program).as_json()
            if keystone.used:
                make_console(stderr=True).print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))
        except SpecError as error:
            fail(EXIT_INVALID, *spec_lines(error))
        except typer.Exit:
            raise  # an input file was already reported
        except (Exception, SystemExit) as error:
            fail(EXIT_FAILED, program_failure(error))
    report = audit_plan(document, settings)
    if json_out is not None:
        write_output(json_out, json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n",
                     "audit JSON")
    if not to_stdout(json_out):
        from coe_provider.plan.render_audit import audit_tables

        make_console().print(audit_tables(report))
    failures = report.failures
    if strict and failures:
        fail(EXIT_AUDIT, *(f"{f.policy}: {f.message}" for f in failures))
