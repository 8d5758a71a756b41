"""The policy pack's entry point: serves coe-provider's rules to the Pulumi engine.

``PolicyPack`` starts serving as soon as it is built (it prints its port and blocks), so
nothing may import this file: the rules live in :mod:`coe_provider.policy`.
"""

from pulumi_policy import PolicyPack

from coe_provider.policy import POLICIES

PolicyPack("coe-provider", POLICIES)
