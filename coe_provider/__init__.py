"""coe-provider: container orchestration clusters on OpenStack as Pulumi components.

The successor of OpenStack Magnum's COE drivers: every driver is a
:class:`~coe_provider.cluster.base.CoeCluster` discovered through the ``coe_provider.drivers``
entry-point group.
"""

from coe_provider.cluster.base import CoeCluster
from coe_provider.cluster.contract import (
    BootstrapFile,
    BootstrapPayload,
    DriverProvides,
    NodeContext,
    SecurityRule,
    Source,
)
from coe_provider.cluster.registry import find_driver, get_driver, registered_drivers
from coe_provider.spec.errors import SpecError, SpecIssue
from coe_provider.spec.models import ClusterSpec, ClusterTemplate, NodeGroupSpec

__all__ = [
    "BootstrapFile",
    "BootstrapPayload",
    "ClusterSpec",
    "ClusterTemplate",
    "CoeCluster",
    "DriverProvides",
    "NodeContext",
    "NodeGroupSpec",
    "SecurityRule",
    "Source",
    "SpecError",
    "SpecIssue",
    "find_driver",
    "get_driver",
    "registered_drivers",
]
