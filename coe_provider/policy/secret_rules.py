"""Secret material reaches the state only as Pulumi secrets.

pulumi-policy hands a pack every property with its secrets already unwrapped and unmarked
(``pulumi_policy.deserialize``; pulumi/pulumi-policy#241, open), so a pack on the real engine
cannot tell a marked secret from a value in clear. This policy therefore runs where the marks
are kept, on the offline plan (``coe audit``), whose args say so with ``secrets_redacted``;
on the engine it reports itself not applicable, with that reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from coe_provider.plan.secrets import REDACTED
from coe_provider.policy.view import FLOATING_IP, STACK, cluster_component, line

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),
    "kubeconfig client key": re.compile(r"client-key-data:\s*\S{20,}"),
    "kubeadm bootstrap token": re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"),
    "swarm join token": re.compile(r"SWMTKN-1-[0-9a-z]{20,}"),
    "application credential secret": re.compile(r"application-credential-secret\s*=\s*\S+"),
}
"""What secret material looks like when it is readable."""

SECRET_INPUT_NAMES = re.compile(
    r"^(userData|adminPass|password|secret|privateKey\w*|caPrivateKeyPem|token|result|"
    r"kubeconfig|stringData)$")
"""Properties that carry secret material by their nature."""

CHECKED_PACKAGES = ("openstack:", "command:", "kubernetes:", "pulumi:providers:kubernetes")
"""Providers whose secret-named properties must be marked (random and tls mark their own)."""

NOT_APPLICABLE = ("pulumi-policy gives a pack every secret unwrapped and unmarked "
                  "(pulumi/pulumi-policy#241); run coe audit --strict on the offline plan "
                  "for this rule")


def secrets_visible(args: StackValidationArgs) -> bool:
    """True when the runner kept secret marks (secret values read as ``[secret]``)."""
    return bool(getattr(args, "secrets_redacted", False))


def _items(value: Any) -> Iterator[tuple[Any, Any]]:
    """Keys (or indices) and values, leaving out values not known yet: an unknown value holds
    no readable secret, and must not stop the check of the others."""
    keys = list(iter(value)) if isinstance(value, Mapping) else range(len(value))
    for key in keys:
        try:
            yield key, value[key]
        except UnknownValueError:
            continue


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in _items(value):
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index, item in _items(value):
            yield from _strings(item, f"{path}[{index}]")


def secret_named(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """Each property that carries secret material by its name, and whether it is marked."""
    if resource_type == FLOATING_IP:
        return []
    return [(name, value == REDACTED) for name, value in _items(props)
            if SECRET_INPUT_NAMES.match(name)]


def _check(resource: PolicyResource, report: ReportViolation) -> None:
    component = cluster_component(resource)
    cluster = component.name if component is not None else None
    where = "stack output" if resource.resource_type == STACK else "property"
    subject = "the stack" if resource.resource_type == STACK else resource.name
    fix = "mark it secret (pulumi.Output.secret or additional_secret_outputs)"
    if resource.resource_type.startswith(CHECKED_PACKAGES):
        for name, marked in secret_named(resource.resource_type, resource.props):
            if not marked:
                report(line(cluster, subject, f"{where} {name} is not marked secret", fix),
                       resource.urn)
    for path, text in _strings(resource.props, ""):
        for what, pattern in SECRET_PATTERNS.items():
            if pattern.search(text):
                report(line(cluster, subject, f"has a {what} in clear in {where} {path}", fix),
                       resource.urn)


def _secrets(args: StackValidationArgs, report: ReportViolation) -> None:
    if not secrets_visible(args):
        args.not_applicable(NOT_APPLICABLE)
    for resource in args.resources:
        _check(resource, report)


SECRETS_MARKED_SECRET = StackValidationPolicy(
    name="secrets-marked-secret",
    description="Private keys, tokens, kubeconfig client keys and credential secrets reach "
                "the state and the outputs only as Pulumi secrets.",
    validate=_secrets,
    enforcement_level=EnforcementLevel.MANDATORY,
)
"""Fails ``coe audit --strict`` when secret material is in clear."""
