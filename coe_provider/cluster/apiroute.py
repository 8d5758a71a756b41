"""How software running where ``pulumi up`` runs reaches a cluster's API.

The readiness gate and ``coe status`` talk to the COE's API from the operator's machine (or
CI). They go straight to a public address when the cluster has one (the API load balancer's
floating IP, or the first master's), else through the bastion to the API's address inside the
cluster network. A cluster with neither has no route.
"""

from __future__ import annotations

from enum import Enum

from coe_provider.spec.models import ClusterTemplate


class ApiRoute(Enum):
    """Which way the operator's machine reaches the API."""

    DIRECT = "direct"
    """A public address: the load balancer's floating IP or the first master's."""

    BASTION = "bastion"
    """An SSH tunnel through the bastion to the API's address inside the cluster network."""


def load_balancer_floating_ip_wanted(template: ClusterTemplate) -> bool:
    """Whether the API load balancer gets a floating IP: as asked, else when the template has
    an external network."""
    wanted = template.master_lb_floating_ip_enabled
    return template.external_network is not None if wanted is None else wanted


def has_public_api(template: ClusterTemplate) -> bool:
    """Whether the API answers on a floating IP."""
    if template.external_network is None:
        return False
    if template.master_lb_enabled:
        return load_balancer_floating_ip_wanted(template)
    return template.floating_ip_enabled


def api_route(template: ClusterTemplate) -> ApiRoute | None:
    """The route to the API from outside the cluster network, or None when there is none."""
    if has_public_api(template):
        return ApiRoute.DIRECT
    if template.bastion:
        return ApiRoute.BASTION
    return None
