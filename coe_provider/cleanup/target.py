"""What identifies one cluster's cloud objects, and where that comes from.

The selection parameters are not secret: the cloud resource tag, the cluster's network, the
retain flag and the name of the clouds.yaml entry. Credentials never travel with them (the
provider's own stack settings travel apart, as a secret: see
:mod:`coe_provider.openstack.settings`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TAG_PREFIX_LENGTH = 40
"""Characters of ``<stack>-<cluster>`` kept in front of the random suffix."""

ENV_CLUSTER = "COE_CLEANUP_CLUSTER"
"""Environment variable: the cluster's name (its node ports carry ``coe-cluster=<name>``)."""

ENV_TAG = "COE_CLEANUP_TAG"
"""Environment variable: the cloud resource tag."""

ENV_NETWORK = "COE_CLEANUP_NETWORK_ID"
"""Environment variable: the cluster network's ID."""

ENV_SUBNET = "COE_CLEANUP_SUBNET_ID"
"""Environment variable: the cluster subnet's ID (named when a balancer will not go)."""

ENV_RETAIN = "COE_CLEANUP_RETAIN_VOLUMES"
"""Environment variable: ``true`` keeps the CSI volumes (detached)."""

OUTPUT_KEY = "cloudCleanup"
"""The cluster output holding the selection parameters (``coe cleanup`` reads it)."""

TAG_OUTPUT_KEY = "cloudResourceTag"
"""The cluster output holding the cloud resource tag alone."""

_TAG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def tag_prefix(stack: str, cluster: str) -> str:
    """``<stack>-<cluster>-`` as lowercase letters, digits and '-', bounded in length.

    The random suffix appended to it makes the tag unique; this part only makes it readable.
    Underscores are replaced: the cloud controller manager joins the tag into balancer names
    with ``_`` (``kube_service_<tag>_<namespace>_<service>``), so a tag must not contain one.
    """
    readable = re.sub(r"[^a-z0-9-]+", "-", f"{stack}-{cluster}".lower())
    readable = re.sub(r"-{2,}", "-", readable).strip("-")[:TAG_PREFIX_LENGTH].rstrip("-")
    return f"{readable or 'coe'}-"


@dataclass(frozen=True)
class CleanupTarget:
    """One cluster's selection parameters."""

    cluster: str
    """The cluster's name."""

    tag: str
    """The cloud resource tag: the cloud controller manager's ``--cluster-name`` and Cinder
    CSI's ``--cluster``."""

    network_id: str
    """The cluster network: leftover balancer ports are looked for there."""

    retain_volumes: bool
    """Keep the CSI volumes (detached) instead of deleting them."""

    subnet_id: str | None = None
    """The cluster subnet, deleted after the cleanup."""

    cloud: str | None = None
    """The clouds.yaml entry the OpenStack provider uses (``openstack:cloud``), if set."""

    region: str | None = None
    """The region the OpenStack provider uses (``openstack:region``), if set."""

    def __post_init__(self) -> None:
        if not _TAG.match(self.tag):
            raise ValueError(
                f"cloud resource tag must be lowercase letters, digits and '-' (got {self.tag!r})")
        if not self.network_id:
            raise ValueError("the cluster's network ID must not be empty")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> CleanupTarget:
        """The target the delete step was configured with (see :mod:`.wiring`)."""
        env = os.environ if environ is None else environ
        missing = [key for key in (ENV_CLUSTER, ENV_TAG, ENV_NETWORK) if not env.get(key)]
        if missing:
            raise ValueError(f"environment variable(s) {', '.join(missing)} must be set")
        return cls(cluster=env[ENV_CLUSTER], tag=env[ENV_TAG], network_id=env[ENV_NETWORK],
                   retain_volumes=env.get(ENV_RETAIN, "false") == "true",
                   subnet_id=env.get(ENV_SUBNET) or None,
                   cloud=env.get("OS_CLOUD") or None, region=env.get("OS_REGION_NAME") or None)

    @classmethod
    def from_output(cls, value: Mapping[str, Any]) -> CleanupTarget:
        """The target from a cluster's ``cloudCleanup`` output."""
        try:
            return cls(cluster=str(value["cluster"]), tag=str(value["tag"]),
                       network_id=str(value["networkId"]),
                       retain_volumes=bool(value.get("retainVolumes", False)),
                       subnet_id=value.get("subnetId") or None,
                       cloud=value.get("cloud") or None, region=value.get("region") or None)
        except KeyError as missing:
            raise ValueError(f"{OUTPUT_KEY} lacks the field {missing}") from None


def targets_from_stack_outputs(outputs: Mapping[str, Any]) -> dict[str, CleanupTarget]:
    """Cluster name -> target, from ``pulumi stack output --json`` (no secret is read).

    Clusters without a cloud provider have no ``cloudCleanup`` output and are left out.
    """
    found: dict[str, CleanupTarget] = {}
    for key, value in outputs.items():
        if key.startswith("cluster:") and isinstance(value, Mapping) and OUTPUT_KEY in value:
            try:
                found[key.removeprefix("cluster:")] = CleanupTarget.from_output(value[OUTPUT_KEY])
            except ValueError as error:
                raise ValueError(f"{key}.{OUTPUT_KEY}: {error}") from None
    return found
