"""The offline runner: plan records shaped as the engine shows them to a pack, and every
policy run over them with a collecting ``report_violation``.

A resource policy gets each resource's inputs (``ResourceValidationArgs.props``); a stack
policy gets every resource with its outputs, parent and dependencies, the root stack resource
carrying the stack outputs (``StackValidationArgs``). Props keep the plan's camelCase names and
pass through pulumi-policy's own unknown-checking proxy; an unknown (``[unknown]``) becomes the
engine's unknown value again, and secrets stay ``[secret]``: the plan keeps their marks.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError  # what args.not_applicable() raises
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from coe_provider.plan.secrets import UNKNOWN
from coe_provider.policy.levels import Settings, reconcile
from coe_provider.policy.view import STACK

FAILING_LEVELS = (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE)
"""Levels whose violations fail the run (a remediate policy that still fires is mandatory)."""


@dataclass(frozen=True)
class Violation:
    """One line a policy reported."""

    policy: str
    """The policy's name."""

    level: EnforcementLevel
    """Its enforcement level in this run."""

    resource: str
    """Name of the resource the violation is about (``stack`` when none)."""

    message: str
    """The one line: cluster, resource, problem, fix."""

    @property
    def failing(self) -> bool:
        """True when it fails the run (``coe audit --strict``, ``pulumi preview``)."""
        return self.level in FAILING_LEVELS


class PlanResourceValidationArgs(ResourceValidationArgs):
    """Resource args built from a plan record."""

    secrets_redacted = True
    """Secret values read ``[secret]``: the plan kept which values are secret."""


class PlanStackValidationArgs(StackValidationArgs):
    """Stack args built from a plan."""

    secrets_redacted = True
    """Secret values read ``[secret]``: the plan kept which values are secret."""


def _wire(value: Any) -> Any:
    """A plan value back in the form the engine sends (unknowns as the unknown sentinel)."""
    if value == UNKNOWN:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, Mapping):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value


def _options(record: Mapping[str, Any]) -> PolicyResourceOptions:
    options = record.get("options") or {}
    return PolicyResourceOptions(
        protect=bool(options.get("protect", False)),
        ignore_changes=list(options.get("ignoreChanges", [])),
        delete_before_replace=options.get("deleteBeforeReplace"),
        aliases=[], custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(options.get("additionalSecretOutputs", [])),
        parent=record.get("parent") or None)


def resource_args(record: Mapping[str, Any],
                  config: Mapping[str, Any] | None = None) -> ResourceValidationArgs:
    """What the engine passes a resource policy for this plan record (its inputs)."""
    return PlanResourceValidationArgs(
        record["type"], unknown_checking_proxy(_wire(record.get("inputs") or {})),
        record["urn"], record["name"], _options(record), None, config)


def _stack_record(plan: Mapping[str, Any]) -> dict[str, Any]:
    """The root stack resource, whose outputs are the stack outputs."""
    roots = {r.get("parent") for r in plan.get("resources", []) if r.get("parent")}
    urns = {r["urn"] for r in plan.get("resources", [])}
    root = next((urn for urn in sorted(roots - urns) if f"::{STACK}::" in urn), None)
    project, stack = plan.get("project") or "project", plan.get("stack") or "stack"
    urn = root or f"urn:pulumi:{stack}::{project}::{STACK}::{project}-{stack}"
    return {"urn": urn, "type": STACK, "name": urn.rsplit("::", 1)[-1], "parent": "",
            "inputs": {}, "outputs": plan.get("outputs") or {}, "dependencies": [],
            "options": {}}


def stack_args(plan: Mapping[str, Any],
               config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    """What the engine passes a stack policy for this plan: each resource with its outputs
    (the plan's inputs, which a provider's outputs repeat, plus the outputs it recorded)."""
    records = [_stack_record(plan), *plan.get("resources", [])]
    resources: dict[str, PolicyResource] = {}
    for record in records:
        props = {**(record.get("inputs") or {}), **(record.get("outputs") or {})}
        resources[record["urn"]] = PolicyResource(
            record["type"], unknown_checking_proxy(_wire(props)), record["urn"],
            record["name"], _options(record), None, None, [], {})
    for record in records:
        resource = resources[record["urn"]]
        resource.parent = resources.get(record.get("parent") or "")
        resource.dependencies = [resources[urn] for urn in record.get("dependencies", [])
                                 if urn in resources]
    return PlanStackValidationArgs(list(resources.values()), config)


Reported = tuple[str, str | None, EnforcementLevel | None]
"""A message, the URN it is about, and the level when it is not the policy's own."""


def _run(policy: Policy, args: Any, collect: list[Reported]) -> None:
    def report_violation(message: str, urn: str | None = None) -> None:
        collect.append((message, urn, None))

    try:
        result = policy.validate(args, report_violation)  # type: ignore[attr-defined]
        if inspect.isawaitable(result):
            raise TypeError(f"policy {policy.name}: asynchronous validation is not supported")
    except _NotApplicableError:
        pass
    except UnknownValueError as error:
        # As the SDK does: an advisory note, not a violation.
        collect.append((f"can't run policy {policy.name}: {error.message}", None,
                        EnforcementLevel.ADVISORY))


def run_policies(policies: Sequence[Policy], plan: Mapping[str, Any],
                 settings: Mapping[str, Settings] | None = None) -> list[Violation]:
    """Every violation of ``policies`` on ``plan``, policy by policy, in plan order."""
    settings = settings if settings is not None else reconcile(policies, None)
    resources = plan.get("resources", [])
    names = {r["urn"]: r["name"] for r in [_stack_record(plan), *resources]}
    found: list[Violation] = []
    for policy in policies:
        setting = settings[policy.name]
        if setting.level == EnforcementLevel.DISABLED:
            continue
        collect: list[Reported] = []
        if isinstance(policy, ResourceValidationPolicy):
            for record in resources:
                before = len(collect)
                _run(policy, resource_args(record, setting.config), collect)
                # A resource policy's violations are always about its resource.
                collect[before:] = [(message, record["urn"], level)
                                    for message, _, level in collect[before:]]
        elif isinstance(policy, StackValidationPolicy):
            _run(policy, stack_args(plan, setting.config), collect)
        found += [Violation(policy.name, level or setting.level,
                            names.get(urn, urn) if urn else "stack", message)
                  for message, urn, level in collect]
    return found
