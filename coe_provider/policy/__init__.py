"""coe-provider's rules as pulumi-policy policies: one rule set for two runners.

``policypack/`` serves :data:`POLICIES` to ``pulumi preview --policy-pack`` on the real engine;
``coe audit`` runs the same objects over the offline plan (:mod:`coe_provider.policy.plan_args`).
Importing this package builds the policy objects and nothing else: no server, no driver import.
"""

from __future__ import annotations

from pulumi_policy import Policy

from coe_provider.policy.cluster_rules import (
    KUBERNETES_MINOR_SUPPORTED,
    MASTERS_IN_SERVER_GROUP,
    READINESS_GATE_PRESENT,
)
from coe_provider.policy.exposure_rules import (
    API_LISTENER_ADMITS_CLUSTER_SUBNET,
    API_NOT_OPEN_TO_WORLD,
    INTERNAL_PORTS_CLOSED,
    SSH_NOT_OPEN_TO_WORLD,
)
from coe_provider.policy.secret_rules import SECRETS_MARKED_SECRET

POLICIES: list[Policy] = [
    INTERNAL_PORTS_CLOSED,
    SSH_NOT_OPEN_TO_WORLD,
    SECRETS_MARKED_SECRET,
    API_LISTENER_ADMITS_CLUSTER_SUBNET,
    API_NOT_OPEN_TO_WORLD,
    READINESS_GATE_PRESENT,
    MASTERS_IN_SERVER_GROUP,
    KUBERNETES_MINOR_SUPPORTED,
]
"""Every rule, mandatory ones first; ``PolicyPack("coe-provider", POLICIES)`` serves them."""

__all__ = ["POLICIES"]
