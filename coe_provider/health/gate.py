"""The readiness gate: one resource per cluster whose create (and update) returns only when
the COE reports every declared node ready, and fails ``pulumi up`` otherwise.

It is a Pulumi dynamic resource. The engine runs its provider through the Python SDK's own
dynamic-provider host, launched with the interpreter of the project's virtualenv, so the gate
runs this package's code from wherever ``pulumi up`` runs, with no path to an interpreter in
the state; and its :meth:`ReadinessProvider.diff` decides what counts as a change (the node
set and the route), so a second ``pulumi up``, or one from another machine, waits again only
when the cluster changed. The provider is pickled by reference (its module path): keep
:class:`ReadinessProvider` at ``coe_provider.health.gate``, or states that name it cannot be
deleted.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from coe_provider.cluster.registry import probe_for
from coe_provider.health import console as console_logs
from coe_provider.health.check import BootstrapFailures, Probe, wait_until_ready
from coe_provider.health.console import ConsoleWatch
from coe_provider.health.https import ApiReader
from coe_provider.health.report import ClusterHealth, ProbeResult
from coe_provider.health.target import WATCHED_INPUTS, ExpectedNode, HealthTarget
from coe_provider.health.workloads import Workload, workload_problems
from coe_provider.openstack import settings as provider_settings
from coe_provider.openstack.settings import decode_arguments

PUBLIC_INPUTS = (*WATCHED_INPUTS, "timeoutSeconds")
"""Inputs repeated in the outputs (never the credentials or the SSH key), so the next diff
can compare them."""

CONSOLE_API_TIMEOUT = console_logs.REQUEST_TIMEOUT_SECONDS
"""Seconds an OpenStack API call of the console look may take."""

API_STAGE = "api"
"""The ``stage`` of a gate that waits only until the API answers (``/readyz``): the first of
two, before the program installs the add-ons the nodes need to become ready."""

ENGINE_TIMEOUT_MARGIN_SECONDS = 300
"""Slack between the gate's own timeout (``readyTimeout``, which it holds to within one COE
check and :data:`coe_provider.health.console.DEADLINE_SLACK_SECONDS`) and the engine's custom
timeout for its create and update, so the gate's own message, not the engine's, ends a slow
``pulumi up``."""


def _progress(health: ClusterHealth) -> None:
    # The dynamic provider host owns stdout (the engine reads its port there): use stderr.
    ready = sum(1 for node in health.declared if node.ready)
    print(f"coe readiness gate {health.cluster}: {health.status.value}, {ready}/"
          f"{len(health.declared)} declared nodes ready", file=sys.stderr, flush=True)


def console_watch(props: dict[str, Any], deadline: float | None = None) -> ConsoleWatch | None:
    """The look at the nodes' console logs, through Nova with the provider's settings (None
    when the servers cannot be told apart); no look runs past ``deadline`` (monotonic)."""
    names = [str(node["name"]) for node in props["expectedNodes"]]
    server_ids = [str(server) for server in props.get("serverIds") or []]
    if len(server_ids) != len(names):
        return None
    settings = props.get("openstack") or {}

    def connect() -> Any:
        arguments = decode_arguments(settings.get("arguments"), "the gate's provider settings")
        # Bounded calls: a look must never hold up the checks of the COE.
        return provider_settings.connect(settings.get("cloud"), settings.get("region"),
                                         {**arguments, "api_timeout": CONSOLE_API_TIMEOUT})

    return ConsoleWatch(dict(zip(names, server_ids, strict=True)), connect,
                        interval=console_logs.LOOK_EVERY_SECONDS, deadline=deadline)


def with_workloads(probe: Probe, workloads: Sequence[dict[str, Any]]) -> Probe:
    """``probe``, with one cluster-wide problem per add-on workload that is not ready."""
    if not workloads:
        return probe
    watched = [Workload.from_dict(item) for item in workloads]

    def probe_all(client: ApiReader) -> ProbeResult:
        result = probe(client)
        return ProbeResult(members=result.members,
                           problems=[*result.problems, *workload_problems(client, watched)])

    return probe_all


class ReadinessProvider(ResourceProvider):
    """Create and update wait for the cluster; delete has nothing to undo."""

    serialize_as_secret_always = False

    def _wait(self, props: dict[str, Any]) -> dict[str, Any]:
        target = HealthTarget.from_props(props)
        watch = console_watch(props, time.monotonic() + float(props["timeoutSeconds"]))
        failures: BootstrapFailures | None = watch.failures if watch else None
        if props.get("stage") == API_STAGE:
            # Only the API: no node can be ready before the add-ons. The first master's
            # console still tells a bootstrap that stopped.
            first = [target.expected[0].name] if target.expected else []

            def first_master_failed(names: list[str]) -> Mapping[str, str]:
                del names
                return watch.failures(first) if watch else {}

            failures = first_master_failed if watch else None
            target = dataclasses.replace(target, expected=())
        # ClusterNotReady fails the operation; the engine shows its message (one line per
        # node that is not ready, no secret).
        health = wait_until_ready(target, with_workloads(probe_for(target.driver),
                                                         props.get("workloads") or []),
                                  float(props["timeoutSeconds"]), progress=_progress,
                                  bootstrap_failures=failures)
        outputs = {key: props.get(key) for key in PUBLIC_INPUTS}
        outputs["report"] = health.to_json()
        return outputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Wait until every declared node is ready."""
        return CreateResult(id_=f"{props['cluster']}-ready", outs=self._wait(props))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        """The node set or the route changed: wait for the cluster as it is declared now."""
        return UpdateResult(outs=self._wait(_news))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        """A change only when a watched input changed (see :data:`WATCHED_INPUTS`)."""
        changed = [key for key in WATCHED_INPUTS if _olds.get(key) != _news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing was made: the gate only looked."""


class ReadinessGate(Resource):
    """The readiness gate of one cluster (``{cluster}-ready``)."""

    report: pulumi.Output[dict[str, Any]]
    """The last check: status, and per node ready or not, its version and when it became
    ready (no secrets)."""

    def __init__(self, name: str, inputs: dict[str, Any], timeout: int,
                 opts: pulumi.ResourceOptions) -> None:
        duration = f"{timeout + ENGINE_TIMEOUT_MARGIN_SECONDS}s"
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            custom_timeouts=pulumi.CustomTimeouts(create=duration, update=duration)))
        super().__init__(ReadinessProvider(), name,
                         {**inputs, "timeoutSeconds": timeout, "report": None}, opts)


def gate_inputs(cluster: str, driver: str, api_host: pulumi.Input[str], api_port: int,
                credentials: pulumi.Input[dict[str, str]], expected: Sequence[ExpectedNode],
                server_ids: Sequence[pulumi.Input[str]],
                bastion_host: pulumi.Input[str] | None, ssh_user: str,
                ssh_private_key: pulumi.Input[str] | None,
                openstack: provider_settings.OpenStackSettings | None = None,
                stage: str | None = None,
                workloads: Sequence[Workload] = ()) -> dict[str, Any]:
    """The gate's inputs, in the shape :meth:`HealthTarget.from_props` reads; credentials, the
    SSH key and the OpenStack provider's settings as Pulumi secrets. ``server_ids`` are in the
    order of ``expected``; ``openstack`` is the cluster's provider (default: the stack's).
    ``stage`` :data:`API_STAGE` waits for the API only; ``workloads`` are add-on workloads the
    gate waits for beside the nodes. Both are left out when unset, so a gate made before them
    sees no change."""
    openstack = openstack or provider_settings.OpenStackSettings.of_stack()
    staging: dict[str, Any] = {}
    if stage is not None:
        staging["stage"] = stage
    if workloads:
        staging["workloads"] = [workload.to_dict() for workload in workloads]
    return {
        **staging,
        "cluster": cluster,
        "driver": driver,
        "apiHost": api_host,
        "apiPort": api_port,
        "credentials": pulumi.Output.secret(credentials),
        "expectedNodes": [node.to_dict() for node in expected],
        "serverIds": list(server_ids),
        "bastionHost": bastion_host,
        "sshUser": ssh_user if bastion_host is not None else None,
        "sshPrivateKey": (pulumi.Output.secret(ssh_private_key)
                          if bastion_host is not None and ssh_private_key is not None
                          else None),
        # For the look at console logs (:mod:`coe_provider.health.console`).
        "openstack": openstack.as_inputs(),
    }
