"""The cleanup's place in the Pulumi graph: the cloud resource tag and the cleanup resource.

The engine deletes a resource only after everything that depends on it. So the cleanup
depends on the network, the subnet, the router interface and the security groups (it is
deleted before them), and every node's server depends on it (servers are deleted before it:
nothing in the cluster is left to recreate a balancer or a volume). The bastion is in neither
set: the cleanup does not wait for it and does not count its port as a node.

The cleanup is a dynamic resource (:mod:`coe_provider.cleanup.resource`) whose delete runs this
package's code in the engine's Python host, with no PATH lookup.

Release 0.1.0 made it a pulumi-command ``local.Command`` named ``{cluster}-cloud-cleanup``
whose stored ``delete`` runs ``python3 -m coe_provider.cleanup``. Dropping that resource from
the program would make the next ``pulumi up`` delete it, which runs the stored delete while every
server is up. So the command stays, same name and type, with no ``delete`` and no secret in
its environment: pulumi-command updates such a change in place (only ``triggers`` replace; its
Update stores the new inputs and runs ``create``, an echo; its Delete runs nothing without a
``delete``: pulumi/pulumi-command@010bd8e provider/pkg/provider/local/commandController.go,
common/inputs.go). A stack of 0.1.0 destroyed before that update still runs its stored
command, which reaches this package's ``python -m coe_provider.cleanup``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_random as random

from coe_provider.cleanup.executor import DEFAULT_TIMEOUT
from coe_provider.cleanup.resource import SECRET_INPUT, CloudCleanup
from coe_provider.cleanup.target import (
    ENV_CLUSTER,
    ENV_NETWORK,
    ENV_RETAIN,
    ENV_SUBNET,
    ENV_TAG,
    tag_prefix,
)
from coe_provider.cluster.network import ClusterNetwork
from coe_provider.openstack.settings import OpenStackSettings

TAG_SUFFIX_BYTES = 4
"""Random bytes (8 hex digits) that make the tag unique among clusters of one project."""

CREATE_COMMAND = (
    'echo "coe: cloud cleanup armed for cluster ${COE_CLEANUP_CLUSTER} '
    '(cloud resource tag ${COE_CLEANUP_TAG})"')
"""What ``pulumi up`` runs: nothing but a line in the log."""

LEGACY_DELETE_COMMAND = '"${COE_PYTHON:-python3}" -m coe_provider.cleanup'
"""What the command of 0.1.0 stored as its delete (the interpreter on PATH where destroy
runs); stacks destroyed before their next update still run it."""


def cloud_resource_tag(cluster: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """``<stack>-<cluster>-<8 hex digits>``, drawn once and kept in the state.

    The readable part is the RandomId's ``prefix``; changes to it are ignored, so renaming the
    stack never changes the tag that running cloud providers already write.
    """
    suffix = random.RandomId(
        f"{cluster}-cloud-tag", byte_length=TAG_SUFFIX_BYTES,
        prefix=tag_prefix(pulumi.get_stack(), cluster),
        opts=pulumi.ResourceOptions(parent=parent, ignore_changes=["prefix"]))
    return suffix.hex


def cleanup_environment(cluster: str, tag: pulumi.Input[str], network: ClusterNetwork,
                        retain_volumes: bool,
                        openstack: OpenStackSettings) -> dict[str, pulumi.Input[str]]:
    """The selection parameters, plus the cloud and region when set (none is secret)."""
    environment: dict[str, pulumi.Input[str]] = {
        ENV_CLUSTER: cluster, ENV_TAG: tag, ENV_NETWORK: network.network_id,
        ENV_SUBNET: network.subnet_id, ENV_RETAIN: "true" if retain_volumes else "false",
    }
    for value, variable in ((openstack.cloud, "OS_CLOUD"), (openstack.region, "OS_REGION_NAME")):
        if value:
            environment[variable] = value
    return environment


def create_retired_command(cluster: str, environment: dict[str, pulumi.Input[str]],
                           depends_on: Sequence[pulumi.Resource],
                           parent: pulumi.Resource) -> command.local.Command:
    """The 0.1.0 cleanup command, kept so its stored delete never runs again: it records
    only, and deletes nothing (see the module docstring)."""
    return command.local.Command(
        f"{cluster}-cloud-cleanup",
        create=CREATE_COMMAND,
        environment=environment,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))


def create_cleanup(cluster: str, environment: dict[str, pulumi.Input[str]],
                   openstack: OpenStackSettings, depends_on: Sequence[pulumi.Resource],
                   parent: pulumi.Resource) -> CloudCleanup:
    """The cleanup resource; ``depends_on`` must hold the network's resources."""
    inputs: dict[str, Any] = {
        "cluster": environment[ENV_CLUSTER], "tag": environment[ENV_TAG],
        "networkId": environment[ENV_NETWORK], "subnetId": environment[ENV_SUBNET],
        "retainVolumes": environment[ENV_RETAIN] == "true",
        "deleteTimeoutSeconds": int(DEFAULT_TIMEOUT),
        SECRET_INPUT: openstack.as_inputs(),
    }
    return CloudCleanup(f"{cluster}-cleanup", inputs,
                        pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)))


def cleanup_output(environment: dict[str, pulumi.Input[str]]) -> pulumi.Output[dict[str, Any]]:
    """The ``cloudCleanup`` output: the same parameters, for ``coe cleanup`` to read back."""
    def as_output(values: dict[str, str]) -> dict[str, Any]:
        return {
            "cluster": values[ENV_CLUSTER], "tag": values[ENV_TAG],
            "networkId": values[ENV_NETWORK], "subnetId": values[ENV_SUBNET],
            "retainVolumes": values[ENV_RETAIN] == "true",
            "cloud": values.get("OS_CLOUD"), "region": values.get("OS_REGION_NAME"),
        }
    return pulumi.Output.all(**environment).apply(as_output)
