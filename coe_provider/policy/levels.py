"""Each policy's enforcement level and config, from a ``--policy-pack-config`` file, the way
the Pulumi CLI reconciles them: the schema's defaults, then ``all``, then the policy's entry.

Source: pulumi/pulumi pkg/resource/analyzer/config.go (parsePolicyPackConfig,
ReconcilePolicyPackConfig): a value is a level string, or an object with an optional
``enforcementLevel`` and the policy's properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, Policy

from coe_provider.policy.config import allowed_cidrs

ALL = "all"
"""The config key that sets every policy's level."""


class PolicyConfigError(ValueError):
    """The policy config breaks a rule; the message is one ``path: rule`` line."""


@dataclass(frozen=True)
class Settings:
    """What one policy runs with."""

    level: EnforcementLevel
    """Its enforcement level (``DISABLED`` policies do not run)."""

    config: dict[str, Any] = field(default_factory=dict)
    """Its properties, as ``args.get_config()`` returns them."""


def _level(value: Any, path: str) -> EnforcementLevel:
    try:
        return EnforcementLevel(value)
    except ValueError:
        names = ", ".join(level.value for level in EnforcementLevel)
        raise PolicyConfigError(f"{path}: must be one of {names} (got {value!r})") from None


def _entry(value: Any, path: str) -> tuple[EnforcementLevel | None, dict[str, Any]]:
    if isinstance(value, str):
        return _level(value, path), {}
    if not isinstance(value, Mapping):
        raise PolicyConfigError(f"{path}: must be an enforcement level or an object")
    properties = dict(value)
    level = properties.pop("enforcementLevel", None)
    return (_level(level, f"{path}.enforcementLevel") if level is not None else None), properties


def _check_properties(policy: Policy, properties: dict[str, Any], path: str) -> None:
    schema = policy.config_schema.properties if policy.config_schema else {}
    for name, value in properties.items():
        if name not in schema:
            known = ", ".join(sorted(schema)) or "none"
            raise PolicyConfigError(f"{path}.{name}: not a property of {policy.name} "
                                    f"(properties: {known})")
        if schema[name].get("type") == "array" and not (
                isinstance(value, Sequence) and not isinstance(value, str)):
            raise PolicyConfigError(f"{path}.{name}: must be a list")
    try:
        allowed_cidrs(properties)
    except ValueError as error:
        raise PolicyConfigError(f"{path}.{error}") from None


def reconcile(policies: Sequence[Policy], document: Mapping[str, Any] | None,
              default: EnforcementLevel = EnforcementLevel.ADVISORY) -> dict[str, Settings]:
    """Policy name -> its settings under ``document`` (a ``--policy-pack-config`` object)."""
    document = document or {}
    names = {policy.name for policy in policies}
    unknown = sorted(set(document) - names - {ALL})
    if unknown:
        raise PolicyConfigError(f"{unknown[0]}: no such policy (policies: "
                                f"{', '.join(sorted(names))})")
    every = _entry(document[ALL], ALL)[0] if ALL in document else None
    settings: dict[str, Settings] = {}
    for policy in policies:
        schema = policy.config_schema.properties if policy.config_schema else {}
        config = {name: prop["default"] for name, prop in schema.items() if "default" in prop}
        level = every or policy.enforcement_level or default
        if policy.name in document:
            given, properties = _entry(document[policy.name], policy.name)
            _check_properties(policy, properties, policy.name)
            level = given or level
            config.update(properties)
        settings[policy.name] = Settings(level, config)
    return settings
