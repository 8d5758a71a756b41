"""coe-provider: container orchestration clusters on OpenStack as Pulumi components.

The successor of OpenStack Magnum's COE drivers: every driver is a
:class:`~coe_provider.cluster.base.CoeCluster` discovered through the ``coe_provider.drivers``
entry-point group.

The public names below are loaded on first use (PEP 562): importing any submodule runs this
file, and the readiness gate's and the cleanup's processes, ``coe status`` and ``coe --help``
must not pay for the base component, pulumi_openstack and the models they do not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names for type checkers; "X as X" re-exports them
    from coe_provider.cluster.base import CoeCluster as CoeCluster
    from coe_provider.cluster.contract import BootstrapFile as BootstrapFile
    from coe_provider.cluster.contract import BootstrapPayload as BootstrapPayload
    from coe_provider.cluster.contract import DriverProvides as DriverProvides
    from coe_provider.cluster.contract import NodeContext as NodeContext
    from coe_provider.cluster.contract import SecurityRule as SecurityRule
    from coe_provider.cluster.contract import Source as Source
    from coe_provider.cluster.registry import find_driver as find_driver
    from coe_provider.cluster.registry import get_driver as get_driver
    from coe_provider.cluster.registry import registered_drivers as registered_drivers
    from coe_provider.spec.errors import SpecError as SpecError
    from coe_provider.spec.errors import SpecIssue as SpecIssue
    from coe_provider.spec.models import ClusterSpec as ClusterSpec
    from coe_provider.spec.models import ClusterTemplate as ClusterTemplate
    from coe_provider.spec.models import NodeGroupSpec as NodeGroupSpec

_HOMES = {
    "BootstrapFile": "coe_provider.cluster.contract",
    "BootstrapPayload": "coe_provider.cluster.contract",
    "ClusterSpec": "coe_provider.spec.models",
    "ClusterTemplate": "coe_provider.spec.models",
    "CoeCluster": "coe_provider.cluster.base",
    "DriverProvides": "coe_provider.cluster.contract",
    "NodeContext": "coe_provider.cluster.contract",
    "NodeGroupSpec": "coe_provider.spec.models",
    "SecurityRule": "coe_provider.cluster.contract",
    "Source": "coe_provider.cluster.contract",
    "SpecError": "coe_provider.spec.errors",
    "SpecIssue": "coe_provider.spec.errors",
    "find_driver": "coe_provider.cluster.registry",
    "get_driver": "coe_provider.cluster.registry",
    "registered_drivers": "coe_provider.cluster.registry",
}
"""Each public name and the module that defines it."""

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use, then keep the name here."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's own names and the lazily loaded public ones."""
    return sorted({*globals(), *_HOMES})
