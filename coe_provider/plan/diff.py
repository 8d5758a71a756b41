"""Compare two plan documents by URN: what a deployment of the second would create, delete,
update in place and replace.

Resources are matched by URN, as the engine matches them. A resource present in both plans is
updated when an input path differs, and replaced when one of those paths forces replacement
for its type (:mod:`coe_provider.plan.replacement`) or is named by its ``replaceOnChanges``
option. Paths under its ``ignoreChanges`` option are not changes, as for the engine.

Plans hold secrets redacted as one marker, so two different secrets compare equal: a changed
secret input only shows when one side is a secret and the other is not. :class:`PlanDiff`
counts the resources whose secret inputs could only be compared by marker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from coe_provider.plan.replacement import (
    InputChange,
    compared,
    covers,
    disruptive_paths,
    forcing_paths,
)
from coe_provider.plan.secrets import REDACTED

DIFF_FORMAT = 1
"""Version of the diff JSON layout."""

KINDS = ("creates", "deletes", "updates", "replaces")
"""The change kinds, in report order."""

VALUE_LIMIT = 80
"""Values longer than this (as JSON) are summarised instead of shown."""

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-:/@]+$")


@dataclass(frozen=True)
class ResourceChange:
    """One resource that the later plan creates, deletes, updates or replaces."""

    urn: str
    """The resource's URN."""

    type: str
    """Type token."""

    name: str
    """Logical name."""

    custom: bool
    """True for provider resources, False for components."""

    changes: tuple[InputChange, ...] = ()
    """Changed input paths with both values (updates and replacements)."""

    replace_paths: tuple[str, ...] = ()
    """The changed paths that force replacement."""

    disruptive: tuple[str, ...] = ()
    """Changed paths that update in place but disrupt the resource (rebuild, resize)."""

    options: dict[str, Any] = field(default_factory=dict)
    """Resource options that matter for the change (protect, deleteBeforeReplace, ...)."""

    @property
    def paths(self) -> list[str]:
        """Every changed input path."""
        return [change.path for change in self.changes]

    def as_json(self) -> dict[str, Any]:
        """JSON form; values are shortened and secrets stay redacted."""
        document: dict[str, Any] = {"urn": self.urn, "type": self.type, "name": self.name,
                                    "custom": self.custom}
        if self.changes:
            document["paths"] = self.paths
            document["changes"] = [
                {"path": c.path, "before": short_value(c.before), "after": short_value(c.after)}
                for c in self.changes
            ]
        if self.replace_paths:
            document["replacePaths"] = list(self.replace_paths)
        if self.disruptive:
            document["disruptivePaths"] = list(self.disruptive)
        if self.options:
            document["options"] = dict(self.options)
        return document


@dataclass(frozen=True)
class PlanDiff:
    """Every change between two plans."""

    before: dict[str, str]
    """Project and stack of the earlier plan."""

    after: dict[str, str]
    """Project and stack of the later plan."""

    creates: list[ResourceChange]
    """Resources only in the later plan."""

    deletes: list[ResourceChange]
    """Resources only in the earlier plan."""

    updates: list[ResourceChange]
    """Resources in both whose inputs change in place."""

    replaces: list[ResourceChange]
    """Resources in both with a change that forces replacement."""

    outputs: list[str]
    """Stack output paths that differ."""

    secret_compared_by_marker: int
    """Resources in both plans with secret inputs that could only be compared by marker."""

    def of_kind(self, kind: str) -> list[ResourceChange]:
        """The changes of one kind (``creates``, ``deletes``, ``updates``, ``replaces``)."""
        changes: list[ResourceChange] = getattr(self, kind)
        return changes

    def counts(self) -> dict[str, int]:
        """Number of changes per kind."""
        return {kind: len(self.of_kind(kind)) for kind in KINDS}

    def is_empty(self) -> bool:
        """True when the plans describe the same resources with the same inputs."""
        return not any(self.counts().values())

    def as_json(self) -> dict[str, Any]:
        """The diff file's JSON object."""
        document: dict[str, Any] = {"format": DIFF_FORMAT, "before": self.before,
                                    "after": self.after, "counts": self.counts()}
        for kind in KINDS:
            document[kind] = [change.as_json() for change in self.of_kind(kind)]
        document["outputs"] = list(self.outputs)
        document["secretInputsComparedByMarker"] = self.secret_compared_by_marker
        return document

    def dumps(self) -> str:
        """Deterministic JSON text."""
        return json.dumps(self.as_json(), indent=2, sort_keys=True) + "\n"


def join_key(path: str, key: str) -> str:
    """Append a mapping key to a path: ``a.b``, or ``a["odd key"]`` when it needs quoting."""
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def input_changes(before: Any, after: Any, path: str = "") -> list[InputChange]:
    """Every leaf path where ``before`` and ``after`` differ (absent and null are equal)."""
    if before == after:
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        changes: list[InputChange] = []
        for key in sorted(set(before) | set(after), key=str):
            changes += input_changes(before.get(key), after.get(key), join_key(path, str(key)))
        return changes
    if isinstance(before, list) and isinstance(after, list):
        changes = []
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else None
            new = after[index] if index < len(after) else None
            changes += input_changes(old, new, f"{path}[{index}]")
        return changes
    return [InputChange(path or "(all inputs)", before, after)]


def secret_paths(value: Any, path: str = "") -> Iterator[str]:
    """Paths that hold the redaction marker."""
    if value == REDACTED:
        yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from secret_paths(item, join_key(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_paths(item, f"{path}[{index}]")


def short_value(value: Any) -> Any:
    """A value fit for a report: scalars and small structures as they are, else a summary."""
    text = json.dumps(value, sort_keys=True)
    if len(text) <= VALUE_LIMIT:
        return value
    if isinstance(value, str):
        return f"<{len(value)} characters>"
    if isinstance(value, list):
        return f"<list of {len(value)}>"
    if isinstance(value, Mapping):
        return f"<map of {len(value)}>"
    return f"<{len(text)} characters>"


def _identity(plan: Mapping[str, Any]) -> dict[str, str]:
    return {"project": str(plan.get("project", "")), "stack": str(plan.get("stack", ""))}


def _change(resource: Mapping[str, Any], **extra: Any) -> ResourceChange:
    return ResourceChange(urn=resource["urn"], type=resource["type"], name=resource["name"],
                          custom=bool(resource.get("custom", True)), **extra)


def _relevant_options(options: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("protect", "retainOnDelete", "deleteBeforeReplace")
    return {key: options[key] for key in keys if options.get(key)}


def compare_resource(before: Mapping[str, Any],
                     after: Mapping[str, Any]) -> ResourceChange | None:
    """The change of one resource present in both plans, or ``None`` when it is unchanged."""
    options: Mapping[str, Any] = after.get("options") or {}
    ignored = list(options.get("ignoreChanges") or [])
    type_token = after["type"]
    changes = [
        change for change in input_changes(before.get("inputs") or {}, after.get("inputs") or {})
        if not any(covers(pattern, change.path) for pattern in ignored)
        and compared(type_token, change.path)
    ]
    if not changes:
        return None
    forcing = forcing_paths(type_token, changes, options.get("replaceOnChanges") or [])
    disruptive = disruptive_paths(type_token, [c.path for c in changes])
    return _change(after, changes=tuple(changes), replace_paths=tuple(forcing),
                   disruptive=tuple(disruptive), options=_relevant_options(options))


def diff_plans(before: Mapping[str, Any], after: Mapping[str, Any]) -> PlanDiff:
    """Compare two plan documents (as written by ``Plan.dumps``) by URN."""
    old = {r["urn"]: r for r in before.get("resources") or []}
    new = {r["urn"]: r for r in after.get("resources") or []}
    creates = [_change(new[urn]) for urn in sorted(set(new) - set(old))]
    deletes = [_change(old[urn], options=_relevant_options(old[urn].get("options") or {}))
               for urn in sorted(set(old) - set(new))]
    updates: list[ResourceChange] = []
    replaces: list[ResourceChange] = []
    by_marker = 0
    for urn in sorted(set(old) & set(new)):
        shared_secrets = set(secret_paths(old[urn].get("inputs"))) & set(
            secret_paths(new[urn].get("inputs")))
        if shared_secrets:
            by_marker += 1
        change = compare_resource(old[urn], new[urn])
        if change is None:
            continue
        (replaces if change.replace_paths else updates).append(change)
    outputs = [c.path for c in input_changes(before.get("outputs") or {},
                                             after.get("outputs") or {})]
    return PlanDiff(before=_identity(before), after=_identity(after), creates=creates,
                    deletes=deletes, updates=updates, replaces=replaces, outputs=outputs,
                    secret_compared_by_marker=by_marker)


FAIL_KINDS = {"replace": "replaces", "delete": "deletes"}
"""``--fail-on`` values and the change kind each one checks."""


def failing_kinds(diff: PlanDiff, fail_on: set[str]) -> list[str]:
    """The ``--fail-on`` values that the diff triggers.

    ``delete`` looks at deletions only and ``replace`` at replacements only, although a
    replacement deletes the old resource too; give both to fail on either.
    """
    return sorted(kind for kind in fail_on if diff.of_kind(FAIL_KINDS[kind]))
