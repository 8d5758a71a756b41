"""The cleanup on delete as a Pulumi dynamic resource: this package's code, run by the engine.

Like the readiness gate (:mod:`coe_provider.health.gate`), the resource's provider runs in the
Python SDK's dynamic-provider host, which the engine starts with the project's own interpreter
(its ``virtualenv:`` or toolchain), so the cleanup needs no ``python3`` on PATH and no path to an
interpreter in the state. ``create`` and ``update`` only record the selection parameters; the
work is in ``delete``, which the engine runs with the state of the last update: the tag, the
network, the retain flag, the cloud and region, and the OpenStack provider's stack settings,
stored as a secret output (``additional_secret_outputs``).

The provider is pickled by reference (its module path) into the state: keep
:class:`CloudCleanupProvider` importable as ``coe_provider.cleanup.resource.CloudCleanupProvider``
(a move must leave an alias here), or stacks that store it cannot be destroyed.
"""

from __future__ import annotations

import sys
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from coe_provider.cleanup.executor import DEFAULT_TIMEOUT, Cleanup, CleanupError
from coe_provider.cleanup.target import CleanupTarget
from coe_provider.openstack import settings as provider_settings

SECRET_INPUT = "cloudSettings"
"""The input (and output) holding the cloud, the region and the provider's settings; the
settings part is a secret input, and the whole output is kept secret."""

INPUTS = ("cluster", "tag", "networkId", "subnetId", "retainVolumes", SECRET_INPUT,
          "deleteTimeoutSeconds")
"""Every input; a change to any is an update in place (:meth:`CloudCleanupProvider.diff`).
Named apart from the readiness gate's, so the offline diff tells the two providers apart."""

DELETE_TIMEOUT_MARGIN_SECONDS = 300
"""Slack between the cleanup's own deadline and the engine's custom timeout for the delete."""


def target_from_props(props: dict[str, Any]) -> CleanupTarget:
    """The selection parameters stored with the resource."""
    settings = props.get(SECRET_INPUT) or {}
    return CleanupTarget(
        cluster=str(props["cluster"]), tag=str(props["tag"]), network_id=str(props["networkId"]),
        retain_volumes=bool(props.get("retainVolumes")),
        subnet_id=props.get("subnetId") or None,
        cloud=settings.get("cloud") or None, region=settings.get("region") or None)


class CloudCleanupFailed(Exception):
    """The cleanup could not finish: the engine stops before the network (one line)."""


class CloudCleanupProvider(ResourceProvider):
    """Create and update record; delete removes the cluster's cloud objects."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Check the parameters and keep them (nothing is made)."""
        target = target_from_props(props)
        return CreateResult(id_=f"{target.cluster}-cloud-cleanup", outs=dict(props))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """Any changed parameter is an update in place: nothing to replace."""
        keys = (set(_olds) | set(_news)) - {"__provider"}
        changed = any(_olds.get(key) != _news.get(key) for key in keys)
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """Keep the new parameters for the delete."""
        target_from_props(_news)
        return UpdateResult(outs=dict(_news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Delete the cluster's cloud objects (see :mod:`coe_provider.cleanup.executor`)."""
        target = target_from_props(_props)
        settings = _props.get(SECRET_INPUT) or {}
        try:
            arguments = provider_settings.decode_arguments(
                settings.get("arguments"), "the cleanup's provider settings")
            conn = provider_settings.connect(target.cloud, target.region, arguments)
            timeout = float(_props.get("deleteTimeoutSeconds") or DEFAULT_TIMEOUT)
            report = Cleanup(conn, target, timeout=timeout).run()
        except CleanupError as error:
            raise CloudCleanupFailed(f"coe cleanup: {error}") from None
        except Exception as error:  # openstacksdk and keystoneauth errors: one line
            raise CloudCleanupFailed(f"coe cleanup: cluster {target.cluster}: "
                                     f"{type(error).__name__}: {error}") from None
        # The dynamic provider host owns stdout (the engine reads its port there): use stderr.
        print("\n".join(report.lines()), file=sys.stderr, flush=True)


class CloudCleanup(Resource):
    """The cleanup of one cluster (``{cluster}-cleanup``): every server depends on it, and it
    depends on the network, so the engine deletes it between the two."""

    def __init__(self, name: str, inputs: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        timeout = int(inputs.get("deleteTimeoutSeconds") or DEFAULT_TIMEOUT)
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            additional_secret_outputs=[SECRET_INPUT],
            custom_timeouts=pulumi.CustomTimeouts(
                delete=f"{timeout + DELETE_TIMEOUT_MARGIN_SECONDS}s")))
        super().__init__(CloudCleanupProvider(), name, inputs, opts)
