"""What ``coe plan --state`` reads from a previous plan or a ``pulumi stack export``, and how
the plan's answers hand out addresses around the ones it keeps."""

from __future__ import annotations

import pytest

from coe_provider.plan.openstack_answers import (
    FLOATING_IP,
    LOAD_BALANCER,
    PORT,
    SUBNET,
    OpenStackAnswers,
    nth_free,
)
from coe_provider.plan.state import PriorState, prior_addresses


@pytest.mark.parametrize(("ordinal", "taken", "expected"), [
    (0, [], 0),
    (4, [], 4),
    (0, [0], 1),
    (0, [0, 1, 2], 3),
    (1, [0, 2], 3),
    (2, [1, 3, 4], 5),
    (3, [7, 9], 3),
    (5, [0, 1, 2, 3, 4, 5, 6], 12),
])
def test_nth_free_skips_taken_offsets(ordinal: int, taken: list[int], expected: int) -> None:
    assert nth_free(ordinal, taken) == expected
    # Checked against counting by hand.
    free = [offset for offset in range(64) if offset not in taken]
    assert free[ordinal] == expected


def test_addresses_come_from_a_plan_and_from_a_stack_export() -> None:
    plan_document = {"resources": [
        {"urn": "u1", "type": PORT, "name": "c-a-0", "outputs": {"allFixedIps": ["10.0.0.12"]}},
        {"urn": "u2", "type": LOAD_BALANCER, "name": "c-api",
         "outputs": {"vipAddress": "10.0.0.10"}},
        {"urn": "u3", "type": SUBNET, "name": "c", "inputs": {"cidr": "10.0.0.0/24"}},
    ]}
    assert prior_addresses(plan_document) == {(PORT, "c-a-0"): "10.0.0.12",
                                              (LOAD_BALANCER, "c-api"): "10.0.0.10"}
    export = {"version": 3, "deployment": {"resources": [
        {"urn": "urn:pulumi:prod::coe::coe:index:Cluster$openstack:networking/port:Port::c-a-0",
         "type": PORT, "outputs": {"allFixedIps": ["10.0.0.57"], "macAddress": "fa:16:3e:0"}},
        {"urn": "urn:pulumi:prod::coe::openstack:networking/floatingIp:FloatingIp::c-fip",
         "type": FLOATING_IP, "outputs": {"address": "203.0.113.7"}},
        {"urn": "urn:pulumi:prod::coe::pulumi:pulumi:Stack::coe-prod",
         "type": "pulumi:pulumi:Stack", "outputs": {"address": "not a resource's"}},
    ]}}
    prior = PriorState.of(export)
    assert prior.addresses == {(PORT, "c-a-0"): "10.0.0.57",
                               (FLOATING_IP, "c-fip"): "203.0.113.7"}


def test_kept_addresses_are_kept_and_never_handed_out_again() -> None:
    answers = OpenStackAnswers(kept_addresses={(PORT, "old-0"): "10.0.0.10",
                                               (PORT, "old-1"): "10.0.0.12"})
    answers.outputs(SUBNET, "urn:subnet", "net", {"cidr": "10.0.0.0/24"})
    subnet_id = next(iter(answers.subnets))
    for name in ("old-0", "new-0", "old-1", "new-1", "new-2"):
        answers.constructed(PORT, name)
    given = {name: answers.outputs(PORT, f"urn:{name}", name,
                                   {"fixedIps": [{"subnetId": subnet_id}]})[1]["allFixedIps"][0]
             for name in ("new-2", "old-1", "new-0", "old-0", "new-1")}
    assert given == {"old-0": "10.0.0.10", "old-1": "10.0.0.12", "new-0": "10.0.0.11",
                     "new-1": "10.0.0.13", "new-2": "10.0.0.14"}
    assert answers.reported["urn:new-1"] == {"allFixedIps": ["10.0.0.13"]}
