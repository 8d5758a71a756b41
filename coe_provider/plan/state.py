"""Carry the previous state forward, as the Pulumi engine and the cloud do.

A plan records what the program asks for. For inputs listed in a resource's ``ignoreChanges``
the engine keeps the value it stored when the resource was created, so a node built from
image v1 keeps v1 after the group moves to v2; and a port the cloud has given an address
keeps it, whatever is added beside it. ``coe plan --state PREVIOUS`` applies both, taking the
stored values from the previous plan (or from ``pulumi stack export``), so that a chain of
plans (and of ``coe diff`` between them) follows what a real update would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from coe_provider.plan.graph import PlanResource
from coe_provider.plan.openstack_answers import OpenStackAnswers, address_of
from coe_provider.plan.secrets import REDACTED


@dataclass(frozen=True)
class PriorState:
    """What a previous plan or ``pulumi stack export`` fixes for the next plan."""

    inputs: dict[str, dict[str, Any]]
    """URN -> stored inputs (see :func:`prior_inputs`)."""

    addresses: dict[tuple[str, str], str]
    """(type, name) -> the address of a port, load balancer or floating IP."""

    outputs: dict[str, Any] = field(default_factory=dict)
    """The stack's outputs (secrets redacted): what the program reads of its running clusters
    (:mod:`coe_provider.cluster.releases`)."""

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> PriorState:
        """Read a plan document or a ``pulumi stack export`` document."""
        return cls(prior_inputs(document), prior_addresses(document), prior_outputs(document))

    def openstack_answers(self) -> OpenStackAnswers:
        """Answers under which these resources keep their addresses and the program reads
        these outputs as the stack's previous ones."""
        return OpenStackAnswers(kept_addresses=dict(self.addresses),
                                previous_outputs=dict(self.outputs))


def stack_of(document: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(stack, project) a plan document or a ``pulumi stack export`` was made for; None
    where the document does not say."""
    if "resources" in document:
        stack, project = document.get("stack"), document.get("project")
        return (str(stack) if stack else None, str(project) if project else None)
    for resource in stored_resources(document):
        # urn:pulumi:<stack>::<project>::<type>::<name>
        head = str(resource.get("urn", "")).removeprefix("urn:pulumi:").split("::")
        if len(head) >= 2:
            return head[0], head[1]
    return None, None


def stack_mismatch(document: Mapping[str, Any], stack: str, project: str) -> str | None:
    """Why the previous plan (or export) ``document`` belongs to another stack than
    ``stack`` of ``project``, or None when it is this stack's (or does not say)."""
    theirs, their_project = stack_of(document)
    if theirs is not None and theirs != stack:
        return f"of stack {theirs}, not {stack}"
    if their_project is not None and their_project != project:
        return f"of project {their_project}, not {project}"
    return None


def stored_resources(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The resources of a plan document or of a ``pulumi stack export`` document."""
    if "resources" in document:
        return list(document["resources"])
    return list((document.get("deployment") or {}).get("resources") or [])


def prior_outputs(document: Mapping[str, Any]) -> dict[str, Any]:
    """The stack outputs of a plan document, or of a ``pulumi stack export`` document (the
    root stack resource's outputs; encrypted values count as redacted)."""
    if "resources" in document:
        return dict(document.get("outputs") or {})
    for resource in stored_resources(document):
        if resource.get("type") == "pulumi:pulumi:Stack":
            return {key: REDACTED if isinstance(value, dict) and "ciphertext" in value else value
                    for key, value in (resource.get("outputs") or {}).items()}
    return {}


def prior_addresses(document: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(type, name) -> address, from the outputs a plan or a stack export recorded."""
    addresses: dict[tuple[str, str], str] = {}
    for resource in stored_resources(document):
        type_token = str(resource.get("type", ""))
        # A stack export names a resource only in its URN (``...::type::name``).
        name = resource.get("name") or str(resource.get("urn", "")).rsplit("::", 1)[-1]
        address = address_of(type_token, resource.get("outputs") or {})
        if address is not None:
            addresses[(type_token, name)] = address
    return addresses


def prior_inputs(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """URN -> stored inputs, from a plan document or a ``pulumi stack export`` document (whose
    encrypted values count as redacted)."""
    return {
        resource["urn"]: {
            key: REDACTED if isinstance(value, dict) and "ciphertext" in value else value
            for key, value in (resource.get("inputs") or {}).items()
        }
        for resource in stored_resources(document)
    }


def carry_forward(resources: list[PlanResource],
                  stored: Mapping[str, Mapping[str, Any]]) -> list[PlanResource]:
    """Resources whose ignored inputs take the stored value where one exists."""
    carried: list[PlanResource] = []
    for resource in resources:
        ignored = resource.options.get("ignoreChanges") or []
        previous = stored.get(resource.urn)
        if not ignored or previous is None:
            carried.append(resource)
            continue
        inputs = dict(resource.inputs)
        for name in ignored:
            if name in previous:
                inputs[name] = previous[name]
            else:
                inputs.pop(name, None)
        carried.append(replace(resource, inputs=inputs))
    return carried
