"""The pack's configuration: the schema of each policy's properties, and reading them.

Pulumi fills each policy's config with the schema's defaults, then applies ``all`` and the
policy's own entry of ``--policy-pack-config``; ``coe audit --policy-config`` reads the same
file the same way (:mod:`coe_provider.policy.levels`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema

from coe_provider.policy.view import network, strings

ALLOWED_CIDRS = "allowedCidrs"
"""The config property every exposure policy takes."""


def allowed_cidrs_schema(description: str, default: list[str] | None = None) -> PolicyConfigSchema:
    """A config schema with one property: a list of CIDRs."""
    prop: dict[str, Any] = {"type": "array", "items": {"type": "string"},
                            "description": description}
    if default is not None:
        prop["default"] = default
    return PolicyConfigSchema(properties={ALLOWED_CIDRS: prop})


def allowed_cidrs(config: Mapping[str, Any]) -> list[str] | None:
    """The configured CIDRs (``None`` when not configured); a bad entry fails with its value."""
    if ALLOWED_CIDRS not in config:
        return None
    cidrs = strings(config[ALLOWED_CIDRS])
    for cidr in cidrs:
        try:
            network(cidr)
        except ValueError:
            raise ValueError(f"{ALLOWED_CIDRS}: {cidr!r} is not a CIDR") from None
    return cidrs
