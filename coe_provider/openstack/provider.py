"""Which OpenStack provider a cluster's resources use, and the same settings for the code
that reaches OpenStack outside the engine's provider (the readiness gate, the cleanup).

* No ``openstack`` field and no provider in ``opts``: the stack's default provider and its
  ``openstack:*`` settings, exactly as before (no provider resource, the same URNs).
* ``clusters.<name>.openstack: {cloud, region}``: the cluster's own provider
  (``{cluster}-openstack``), handed to every child through the component's ``providers``.
* A :class:`ClusterProvider` in ``opts`` (``provider=`` / ``providers=``): used as given.
  Any other OpenStack provider in ``opts`` is refused: the component cannot read its settings,
  so the gate and the cleanup would talk to another cloud or region than the servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_openstack as openstack

from coe_provider.openstack.settings import OpenStackSettings
from coe_provider.spec.errors import SpecError
from coe_provider.spec.models import ClusterOpenStack


class ClusterProvider(openstack.Provider):
    """An OpenStack provider whose cloud and region the component can read."""

    def __init__(self, name: str, settings: ClusterOpenStack,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, cloud=settings.cloud, region=settings.region, opts=opts)
        self.settings: OpenStackSettings = OpenStackSettings(settings.cloud, settings.region)
        """What the gate and the cleanup use (clouds.yaml / ``OS_*`` give the credentials)."""


def _explicit(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The OpenStack provider given in ``opts``, if any."""
    if opts is None:
        return None
    candidates: list[Any] = [opts.provider] if opts.provider is not None else []
    providers = opts.providers
    if isinstance(providers, Mapping):
        candidates += list(providers.values())
    elif providers:
        candidates += list(providers)
    for provider in candidates:
        if isinstance(provider, pulumi.ProviderResource) and provider.package == "openstack":
            return provider
    return None


def cluster_provider(name: str, field: ClusterOpenStack | None,
                     opts: pulumi.ResourceOptions | None
                     ) -> tuple[pulumi.ResourceOptions | None, OpenStackSettings]:
    """The component's options (with its own provider when it has one) and the settings its
    gate and cleanup use. Raises :class:`SpecError` for a provider it cannot read."""
    explicit = _explicit(opts)
    path = f"{name}.openstack"
    if explicit is not None:
        if field is not None:
            raise SpecError.single(path, "is set and opts passes an OpenStack provider too; "
                                         "keep one")
        if not isinstance(explicit, ClusterProvider):
            raise SpecError.single(path, "an OpenStack provider passed in opts cannot be read "
                                         "by the readiness gate and the cleanup; set "
                                         f"{path}: {{cloud, region}} (or pass a "
                                         "coe_provider.openstack.provider.ClusterProvider)")
        return opts, explicit.settings
    if field is None:
        return opts, OpenStackSettings.of_stack()
    provider = ClusterProvider(f"{name}-openstack", field, pulumi.ResourceOptions(
        parent=opts.parent if opts is not None else None))
    own = pulumi.ResourceOptions(providers={"openstack": provider})
    return pulumi.ResourceOptions.merge(opts, own) if opts else own, provider.settings
