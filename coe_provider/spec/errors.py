"""Errors raised for bad input: every message names the path of the field and the rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import ValidationError


@dataclass(frozen=True)
class SpecIssue:
    """One broken rule in user input."""

    path: str
    """Dotted path of the field in the user's own spelling, e.g. ``clusters.prod.masterCount``."""

    rule: str
    """What the rule demands, e.g. ``must be odd for etcd quorum (got 2)``."""

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}" if self.path else self.rule


class SpecError(pulumi.RunError, ValueError):
    """Raised when a cluster description breaks one or more rules.

    It is raised before any resource is registered; ``issues`` holds every broken rule found.
    As a :class:`pulumi.RunError`, ``pulumi up`` reports it as plain lines, with no traceback.
    """

    issues: tuple[SpecIssue, ...]
    """Every broken rule, in the order found."""

    def __init__(self, issues: Iterable[SpecIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def single(cls, path: str, rule: str) -> SpecError:
        """Build an error with one issue."""
        return cls([SpecIssue(path, rule)])


def join_path(*parts: str | int) -> str:
    """Join path segments with dots, skipping empty ones; list indices print as ``[n]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part:
            text = f"{text}.{part}" if text else part
    return text


def issues_from_pydantic(error: ValidationError, prefix: str) -> list[SpecIssue]:
    """Turn pydantic's errors into issues whose paths use the YAML (camelCase) spelling."""
    issues: list[SpecIssue] = []
    for detail in error.errors(include_url=False):
        location: Sequence[str | int] = detail["loc"]
        path = join_path(prefix, *location)
        issues.append(SpecIssue(path, _rule_text(detail)))
    return issues


def _rule_text(detail: Any) -> str:
    """Phrase a pydantic error as a rule, with the offending value where it helps."""
    kind = detail["type"]
    message = str(detail["msg"])
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; fields are camelCase)"
    if kind == "missing":
        return "required field is missing"
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if kind in {"int_parsing", "int_type", "bool_parsing", "bool_type", "string_type",
                "list_type", "dict_type", "model_type", "float_parsing", "int_from_float"}:
        return f"{message[0].lower()}{message[1:]} (got {detail.get('input')!r})"
    return message
