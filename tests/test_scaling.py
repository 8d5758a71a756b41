"""Scaling through plans and diffs: stable identity, named removal, controlled replacement,
drain before delete. Each step plans with the previous plan as the stored state, as the
engine would, and diffs against it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from coe_provider.plan.diff import PlanDiff, diff_plans
from coe_provider.plan.document import build_plan
from coe_provider.plan.graph import PlanResource, delete_order, deleted_before
from coe_provider.plan.replacement import InputChange, forcing_paths
from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from coe_provider.plan.state import PriorState
from coe_provider.spec.errors import SpecError
from tests.conftest import REPO

BASE: dict[str, Any] = {
    "driver": "k8s_ubuntu",
    "template": {"image": "ubuntu-24.04", "flavor": "m1.medium", "externalNetwork": "public",
                 "masterLbEnabled": True, "labels": {"cloud_provider_enabled": False}},
    "masterCount": 1,
    "nodeGroups": [{"name": "a", "count": 3, "minCount": 1, "maxCount": 6},
                   {"name": "b", "count": 2}],
}

Plan = dict[str, Any]


def plan(cluster: dict[str, Any], previous: Plan | None = None) -> Plan:
    """The plan of ``cluster``, with ``previous`` as the stored state (as ``coe plan
    --state`` reads it)."""
    config, secret_keys = config_from_stack_file({"config": {"coe:clusters": {"c": cluster}}})
    prior = PriorState.of(previous) if previous else None
    run = run_program_directory(REPO, "scaling", config, secret_keys,
                                openstack=prior.openstack_answers() if prior else None)
    document: Plan = json.loads(build_plan(run, prior.inputs if prior else None).dumps())
    return document


def addresses(document: Plan) -> dict[str, str]:
    """Port and load balancer name -> the address the plan gave it."""
    found = {}
    for resource in document["resources"]:
        outputs = resource.get("outputs") or {}
        if "allFixedIps" in outputs:
            found[resource["name"]] = outputs["allFixedIps"][0]
        elif "vipAddress" in outputs:
            found[resource["name"]] = outputs["vipAddress"]
    return found


def changed(cluster: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    after = copy.deepcopy(cluster)
    edit(after)
    return after


def names(diff: PlanDiff, kind: str) -> list[str]:
    return sorted(f"{c.type.split(':')[-1]}:{c.name}" for c in diff.of_kind(kind))


def only_the_gate_rechecks(diff: PlanDiff) -> None:
    """The readiness gate is updated in place (it checks the new node set again); nothing
    else is updated and nothing replaced."""
    assert names(diff, "updates") == ["Resource:c-ready"]
    assert {path.split("[")[0] for path in diff.updates[0].paths} <= {
        "expectedNodes", "serverIds"}
    assert diff.replaces == []


@pytest.fixture(scope="module")
def base_plan() -> Plan:
    return plan(BASE)


def group(cluster: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in cluster["nodeGroups"] if g["name"] == name)


def test_growing_3_to_5_creates_only_nodes_3_and_4(base_plan: Plan) -> None:
    after = plan(changed(BASE, lambda c: group(c, "a").update(count=5)), base_plan)
    diff = diff_plans(base_plan, after)
    assert names(diff, "creates") == ["Instance:c-a-3", "Instance:c-a-4",
                                      "Port:c-a-3", "Port:c-a-4"]
    assert diff.deletes == []
    only_the_gate_rechecks(diff)


def test_growing_an_earlier_group_moves_no_address(base_plan: Plan) -> None:
    """With the previous plan as state, every existing port and the load balancer keep their
    addresses (as on the cloud); the new ports take free ones. Only the new nodes' addresses
    appear among the changed outputs: group b, constructed after a, does not shift."""
    after = plan(changed(BASE, lambda c: group(c, "a").update(count=5)), base_plan)
    before_addresses, after_addresses = addresses(base_plan), addresses(after)
    assert {name: after_addresses[name] for name in before_addresses} == before_addresses
    new = {after_addresses["c-a-3"], after_addresses["c-a-4"]}
    assert len(new) == 2 and not new & set(before_addresses.values())
    diff = diff_plans(base_plan, after)
    assert [path for path in diff.outputs if "nodeAddresses" in path] == [
        "cluster:c.nodeAddresses.a[3]", "cluster:c.nodeAddresses.a[4]"]


def test_a_freed_address_is_reused_only_after_its_port_is_gone(base_plan: Plan) -> None:
    """Removing node 1 frees its address in the next plan; a node added then may take it,
    and nothing else moves."""
    removed_cluster = changed(BASE, lambda c: group(c, "a").update(count=2, remove=[1]))
    removed = plan(removed_cluster, base_plan)
    kept = addresses(removed)
    assert kept == {name: address for name, address in addresses(base_plan).items()
                    if name != "c-a-1"}
    grown = addresses(plan(changed(removed_cluster, lambda c: group(c, "a").update(count=3)),
                           removed))
    assert {name: grown[name] for name in kept} == kept
    assert grown["c-a-3"] not in kept.values()


def test_shrinking_3_to_2_deletes_only_node_2(base_plan: Plan) -> None:
    after = plan(changed(BASE, lambda c: group(c, "a").update(count=2)), base_plan)
    diff = diff_plans(base_plan, after)
    assert names(diff, "deletes") == ["Instance:c-a-2", "Port:c-a-2"]
    assert diff.creates == []
    only_the_gate_rechecks(diff)


def test_remove_1_deletes_only_node_1_and_growing_again_uses_index_3(base_plan: Plan) -> None:
    removed_cluster = changed(BASE, lambda c: group(c, "a").update(count=2, remove=[1]))
    removed = plan(removed_cluster, base_plan)
    diff = diff_plans(base_plan, removed)
    assert names(diff, "deletes") == ["Instance:c-a-1", "Port:c-a-1"]
    assert diff.creates == []
    only_the_gate_rechecks(diff)
    grown = plan(changed(removed_cluster, lambda c: group(c, "a").update(count=3)), removed)
    diff = diff_plans(removed, grown)
    assert names(diff, "creates") == ["Instance:c-a-3", "Port:c-a-3"]
    assert diff.deletes == []
    only_the_gate_rechecks(diff)


def test_flavor_change_replaces_nothing_by_itself(base_plan: Plan) -> None:
    after = plan(changed(BASE, lambda c: group(c, "a").update(flavor="m1.xlarge")), base_plan)
    diff = diff_plans(base_plan, after)
    assert diff.is_empty(), diff.as_json()


def test_replace_list_names_the_only_replacements(base_plan: Plan) -> None:
    step1 = plan(changed(BASE, lambda c: group(c, "a").update(flavor="m1.xlarge", replace=[0])),
                 base_plan)
    diff = diff_plans(base_plan, step1)
    assert names(diff, "replaces") == ["Instance:c-a-0"]
    assert diff.creates == diff.deletes == diff.updates == []
    # Next step: node 1 joins the rolling upgrade; node 0 stays on the new flavor.
    step2 = plan(changed(BASE, lambda c: group(c, "a").update(flavor="m1.xlarge",
                                                                replace=[0, 1])), step1)
    diff = diff_plans(step1, step2)
    assert names(diff, "replaces") == ["Instance:c-a-1"]
    assert diff.creates == diff.deletes == diff.updates == []


def test_image_change_in_one_group_touches_no_other_group(base_plan: Plan) -> None:
    after = plan(changed(BASE, lambda c: group(c, "b").update(image="ubuntu-26.04",
                                                              replace=[1])), base_plan)
    diff = diff_plans(base_plan, after)
    touched = {c.name for kind in ("creates", "deletes", "updates", "replaces")
               for c in diff.of_kind(kind)}
    assert touched == {"c-b-1"}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: group(c, "a").update(count=7), "clusters.c.nodeGroups[0].count: must be <= "),
    (lambda c: group(c, "a").update(count=0), "clusters.c.nodeGroups[0].count: must be >= "),
    (lambda c: c.update(masterCount=2), "clusters.c.masterCount: must be odd"),
], ids=["above-max", "below-min", "even-masters"])
def test_out_of_bounds_changes_are_refused_before_registration(
        edit: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        plan(changed(BASE, edit))
    assert any(str(issue).startswith(message) for issue in caught.value.issues)
    from pulumi.runtime import settings as runtime_settings

    assert runtime_settings.SETTINGS.monitor.recorded == {}


def drained(cluster: dict[str, Any]) -> dict[str, Any]:
    def edit(c: dict[str, Any]) -> None:
        c["drainOnDelete"] = True
        c["masterCount"] = 3
        c["template"].update(bastion=True, sshAllowedCidrs=["192.0.2.0/24"])
    return changed(cluster, edit)


def test_drain_command_is_ordered_before_server_deletion() -> None:
    document = plan(drained(BASE))
    by_name = {(r["type"].split(":")[-1], r["name"]): r for r in document["resources"]}
    workers = [r for r in document["resources"] if r["type"].endswith("instance:Instance")
               and r["inputs"]["metadata"].get("coe_role") == "worker"]
    assert len(workers) == 5
    for server in workers:
        command = by_name[("Command", f"{server['name']}-drain")]
        # The command depends on the server, so the engine deletes the command (running its
        # delete script) before the server; it also holds the first master and the bastion.
        assert server["urn"] in command["dependencies"]
        assert by_name[("Instance", "c-master-0")]["urn"] in command["dependencies"]
        assert by_name[("Instance", "c-bastion")]["urn"] in command["dependencies"]
        assert command["inputs"]["delete"].count("kubectl drain") == 1
        assert command["inputs"]["connection"] == "[secret]" or \
            command["inputs"]["connection"]["privateKey"] == "[secret]"
    master = by_name[("Command", "c-master-1-drain")]
    assert "kubeadm reset -f" in master["inputs"]["delete"]


def test_on_destroy_the_first_master_leaves_last() -> None:
    """Every other removal command is deleted (runs its drain) before the first master's,
    which takes the COE down with the cluster."""
    document = plan(drained(BASE))
    resources = [PlanResource.from_json(r) for r in document["resources"]]
    commands = {r.name: r.urn for r in resources if r.type.endswith("remote:Command")}
    assert len(commands) == 8
    first = commands.pop("c-master-0-drain")
    assert set(commands.values()) <= deleted_before(resources)[first]
    order = [urn for urn in delete_order(resources) if urn in {first, *commands.values()}]
    assert order[-1] == first


def test_removal_commands_keep_the_connection_they_were_created_with() -> None:
    """A new connection would make pulumi-command replace the command, and the replacement
    runs the removal on a live node; coe diff knows that a connection change replaces."""
    document = plan(drained(BASE))
    commands = [r for r in document["resources"] if r["type"] == "command:remote:Command"]
    assert commands and all(r["options"].get("ignoreChanges") == ["connection"]
                            for r in commands)
    change = InputChange("connection.proxy.host", "192.0.2.1", "192.0.2.2")
    assert forcing_paths("command:remote:Command", [change]) == ["connection.proxy.host"]


def test_shrinking_with_drain_deletes_the_command_with_the_node() -> None:
    before = plan(drained(BASE))
    after = plan(changed(drained(BASE), lambda c: group(c, "a").update(count=2)), before)
    diff = diff_plans(before, after)
    assert names(diff, "deletes") == ["Command:c-a-2-drain", "Instance:c-a-2", "Port:c-a-2"]


def test_bastion_is_the_only_ssh_path() -> None:
    document = plan(drained(BASE))
    rules = [r for r in document["resources"] if r["type"].endswith("secGroupRule:SecGroupRule")
             and r["inputs"].get("portRangeMin") == 22]
    from_cidrs = [r["name"] for r in rules if r["inputs"].get("remoteIpPrefix")]
    assert from_cidrs == ["c-bastion-tcp-22-from-192.0.2.0_24"]
    floating = sorted(r["name"] for r in document["resources"]
                      if r["type"].endswith("floatingIp:FloatingIp"))
    assert floating == ["c-api", "c-bastion"]
