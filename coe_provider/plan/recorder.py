"""A mock resource monitor that records every registration: the raw graph of a program."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from coe_provider.cluster.releases import READ_STACK_OUTPUTS
from coe_provider.plan import kubernetes_answers
from coe_provider.plan.openstack_answers import OpenStackAnswers
from coe_provider.plan.provider_answers import ProviderAnswers
from coe_provider.plan.secrets import contains_secret, is_secret, wrap_secret

STACK_TYPE = "pulumi:pulumi:Stack"
"""Type token of the root stack resource."""


@dataclass
class RecordedResource:
    """One registration as the engine would receive it."""

    urn: str
    """The resource's URN."""

    type: str
    """Type token."""

    name: str
    """Logical name."""

    parent: str
    """Parent URN ('' for none)."""

    custom: bool
    """True for provider resources, False for components."""

    inputs: dict[str, Any]
    """Inputs in wire form: secrets still wrapped, so they can be redacted or revealed."""

    dependencies: list[str]
    """URNs this resource depends on (explicit and through its inputs)."""

    options: dict[str, Any]
    """Resource options that change how the engine treats it."""

    outputs: dict[str, Any] = field(default_factory=dict)
    """Registered outputs of a component; for a port, load balancer or floating IP, the
    address the plan answered."""

    state: dict[str, Any] = field(default_factory=dict)
    """A custom resource's outputs as the engine would store them: what the plan answered,
    secret where the engine makes it so (not written to the plan document)."""


_current = threading.local()


class PlanMocks(Mocks):
    """Answers registrations and invokes as the providers would."""

    def __init__(self, providers: ProviderAnswers, openstack: OpenStackAnswers) -> None:
        self.providers = providers
        """pulumi-tls and pulumi-random answers (real cryptography)."""
        self.openstack = openstack
        """OpenStack answers (addresses, IDs, placeholders)."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        urn: str = getattr(_current, "urn", args.name)
        if not args.custom and args.resource_id is None and not args.typ.startswith(
                ("tls:", "random:", "openstack:", "command:")):
            return "", {}
        if self.providers.answers(args.typ):
            from coe_provider.plan.openstack_answers import stable_id

            return stable_id(urn), self.providers.outputs(args.typ, urn, args.inputs)
        if kubernetes_answers.answers(args.typ):
            return kubernetes_answers.outputs(args.typ, urn, args.inputs)
        return self.openstack.outputs(args.typ, urn, args.name, args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        if args.token == READ_STACK_OUTPUTS:
            # The engine's builtin answer: the stack's outputs as the last update left them.
            return {"name": args.args.get("name"),  # type: ignore[return-value]
                    "outputs": self.openstack.previous_outputs}
        # A bare mapping means "no check failures" to the SDK's mock monitor.
        return self.openstack.call(args.token, args.args)  # type: ignore[return-value]


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping what each registration asked for."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.recorded: dict[str, RecordedResource] = {}
        """Every registration by URN."""
        self.stack_outputs: dict[str, Any] = {}
        """The root stack's exports, in wire form."""
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type != STACK_TYPE:
            record = RecordedResource(
                urn=urn, type=request.type, name=request.name, parent=request.parent,
                custom=bool(request.custom),
                inputs=integral_numbers(json_format.MessageToDict(request.object)),
                dependencies=sorted(set(request.dependencies)),
                options=_options(request),
            )
            with self._lock:
                self.recorded[urn] = record
        _current.urn = urn
        try:
            response = super().RegisterResource(request)
        finally:
            _current.urn = None
        if request.type != STACK_TYPE and request.custom:
            record.state = stored_state(
                integral_numbers(json_format.MessageToDict(response.object)), record.inputs,
                list(request.additionalSecretOutputs))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs = integral_numbers(json_format.MessageToDict(request.outputs))
        with self._lock:
            if request.urn in self.recorded:
                self.recorded[request.urn].outputs = outputs
            else:
                self.stack_outputs = outputs
        return super().RegisterResourceOutputs(request)


def stored_state(state: dict[str, Any], inputs: dict[str, Any],
                 secret_outputs: list[str]) -> dict[str, Any]:
    """Outputs with the secrecy the engine gives them: an output whose same-named input holds a
    secret is secret (recursively through objects: the engine's ``annotateSecrets``), and so is
    every output named in ``additionalSecretOutputs``."""
    def annotate(outs: Any, ins: Any) -> Any:
        if is_secret(outs) or not isinstance(outs, dict) or not isinstance(ins, dict):
            return outs
        result = dict(outs)
        for key, value in ins.items():
            if key not in result:
                continue
            if isinstance(result[key], dict) and isinstance(value, dict) and not is_secret(value):
                result[key] = annotate(result[key], value)
            elif contains_secret(value):
                result[key] = wrap_secret(result[key])
        return result

    annotated: dict[str, Any] = annotate(state, inputs)
    for key in secret_outputs:
        if key in annotated:
            annotated[key] = wrap_secret(annotated[key])
    return annotated


def integral_numbers(value: Any) -> Any:
    """The wire format carries every number as a double; give whole numbers back as ints."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integral_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral_numbers(item) for item in value]
    return value


def _options(request: Any) -> dict[str, Any]:
    """The options a reviewer cares about, only where set."""
    options: dict[str, Any] = {}
    if request.protect:
        options["protect"] = True
    if request.deleteBeforeReplace:
        options["deleteBeforeReplace"] = True
    if list(request.ignoreChanges):
        options["ignoreChanges"] = sorted(request.ignoreChanges)
    if list(request.replaceOnChanges):
        options["replaceOnChanges"] = sorted(request.replaceOnChanges)
    if getattr(request, "retainOnDelete", False):
        options["retainOnDelete"] = True
    if request.deletedWith:
        options["deletedWith"] = request.deletedWith
    if list(request.additionalSecretOutputs):
        options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
    # Explicit providers only (default providers register no reference): the URN, not the ID.
    if request.provider:
        options["provider"] = provider_urn(request.provider)
    if request.providers:
        options["providers"] = {package: provider_urn(reference)
                                for package, reference in sorted(request.providers.items())}
    return options


def provider_urn(reference: str) -> str:
    """The URN of a provider reference (``<urn>::<id>``)."""
    return reference.rsplit("::", 1)[0] if reference.count("::") > 1 else reference
