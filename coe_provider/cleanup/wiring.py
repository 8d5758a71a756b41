"""The cleanup's place in the Pulumi graph: the cloud resource tag and the cleanup command.

The engine deletes a resource only after everything that depends on it. So the cleanup
command depends on the network, the subnet, the router interface and the security groups
(it is deleted before them), and every server depends on the cleanup command (servers are
deleted before it: nothing in the cluster is left to recreate a balancer or a volume).

The command is a pulumi-command ``local.Command``: ``create`` only records, ``delete`` runs
``python3 -m coe_provider.cleanup`` where ``pulumi destroy`` runs. The engine runs the delete
with the environment stored at the last create or update, so that environment holds only
non-secret selection parameters, plus the provider's stack settings as one secret (see
:mod:`coe_provider.openstack.settings`); the rest comes from clouds.yaml / ``OS_*`` at delete
time.
The command names no absolute interpreter path: a path into one machine's virtualenv would be
stored in the state, differ on the next machine and be wrong there. ``COE_PYTHON`` (read at
delete time, not stored) picks another interpreter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_random as random

from coe_provider.cleanup.target import (
    ENV_CLUSTER,
    ENV_NETWORK,
    ENV_RETAIN,
    ENV_SUBNET,
    ENV_TAG,
    tag_prefix,
)
from coe_provider.cluster.network import ClusterNetwork
from coe_provider.openstack.settings import provider_settings_environment

TAG_SUFFIX_BYTES = 4
"""Random bytes (8 hex digits) that make the tag unique among clusters of one project."""

CREATE_COMMAND = (
    'echo "coe: cloud cleanup armed for cluster ${COE_CLEANUP_CLUSTER} '
    '(cloud resource tag ${COE_CLEANUP_TAG})"')
"""What ``pulumi up`` runs: nothing but a line in the log."""

DELETE_COMMAND = '"${COE_PYTHON:-python3}" -m coe_provider.cleanup'
"""What the delete runs: the interpreter on PATH where destroy runs (or ``$COE_PYTHON``)."""

DELETE_TIMEOUT = "30m"
"""Upper bound the engine puts on the delete (the cleanup's own waits end sooner)."""


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
                        retain_volumes: bool) -> dict[str, pulumi.Input[str]]:
    """The selection parameters, plus the provider's cloud and region when configured."""
    environment: dict[str, pulumi.Input[str]] = {
        ENV_CLUSTER: cluster, ENV_TAG: tag, ENV_NETWORK: network.network_id,
        ENV_SUBNET: network.subnet_id, ENV_RETAIN: "true" if retain_volumes else "false",
    }
    provider = pulumi.Config("openstack")
    for key, variable in (("cloud", "OS_CLOUD"), ("region", "OS_REGION_NAME")):
        value = provider.get(key)
        if value:
            environment[variable] = value
    return environment


def create_cleanup_command(cluster: str, environment: dict[str, pulumi.Input[str]],
                           depends_on: Sequence[pulumi.Resource],
                           parent: pulumi.Resource) -> command.local.Command:
    """The cleanup command; ``depends_on`` must hold the network's resources.

    Its environment is ``environment`` and the provider's own stack settings, if any.
    """
    return command.local.Command(
        f"{cluster}-cloud-cleanup",
        create=CREATE_COMMAND,
        delete=DELETE_COMMAND,
        environment={**environment, **provider_settings_environment()},
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=list(depends_on),
            custom_timeouts=pulumi.CustomTimeouts(delete=DELETE_TIMEOUT)))


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
