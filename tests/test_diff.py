"""Plan diff: creates, deletes, updates and replacements on hand-made plan pairs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from coe_provider.plan.diff import PlanDiff, diff_plans, failing_kinds, input_changes
from coe_provider.plan.render import diff_markdown, short_type
from coe_provider.plan.replacement import TABLE, InputChange, forcing_paths, replacement_for
from coe_provider.plan.secrets import REDACTED

INSTANCE = "openstack:compute/instance:Instance"
PORT = "openstack:networking/port:Port"
VOLUME = "openstack:blockstorage/volume:Volume"
RULE = "openstack:networking/secGroupRule:SecGroupRule"
LISTENER = "openstack:loadbalancer/listener:Listener"
CERT = "tls:index/selfSignedCert:SelfSignedCert"
TOKEN = "random:index/randomString:RandomString"


def resource(name: str, type_token: str, inputs: dict[str, Any] | None = None,
             options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A resource in plan form."""
    return {"urn": f"urn:pulumi:dev::proj::{type_token}::{name}", "type": type_token,
            "name": name, "parent": "", "custom": True, "inputs": inputs or {},
            "dependencies": [], "options": options or {}}


def plan(*resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """A plan document holding ``resources``."""
    return {"format": 1, "project": "proj", "stack": "dev", "resources": list(resources),
            "outputs": outputs or {}, "summary": {}}


SERVER = resource("c-worker-0", INSTANCE, {
    "name": "c-worker-0", "flavorName": "m1.medium", "imageName": "ubuntu-24.04",
    "userData": REDACTED, "metadata": {"coe_role": "worker"},
    "networks": [{"port": "p-0"}], "blockDevices": [
        {"bootIndex": 0, "sourceType": "image", "uuid": "img"},
        {"bootIndex": -1, "sourceType": "blank", "volumeSize": 50}],
})
NODE_PORT = resource("c-worker-0", PORT, {"name": "c-worker-0", "networkId": "net",
                                          "securityGroupIds": ["sg-1"]})
BASE = plan(SERVER, NODE_PORT, resource("c-etcd", VOLUME, {"size": 10, "volumeType": "ssd"}),
            outputs={"nodeCount": 1})


def changed(**edits: Any) -> dict[str, Any]:
    """A copy of BASE with the inputs of resources edited: {index: {input: value}}."""
    document = copy.deepcopy(BASE)
    for key, values in edits.items():
        inputs = document["resources"][int(key.removeprefix("r"))]["inputs"]
        for name, value in values.items():
            if value is None:
                inputs.pop(name, None)
            else:
                inputs[name] = value
    return document


def kinds(diff: PlanDiff) -> dict[str, list[str]]:
    """Names per change kind."""
    return {kind: [c.name for c in diff.of_kind(kind)] for kind in
            ("creates", "deletes", "updates", "replaces")}


def test_identical_plans_have_no_changes() -> None:
    diff = diff_plans(BASE, copy.deepcopy(BASE))
    assert diff.is_empty()
    assert diff.counts() == {"creates": 0, "deletes": 0, "updates": 0, "replaces": 0}
    assert diff.outputs == []
    assert "No resource changes." in diff_markdown(diff)


def test_creates_and_deletes_are_matched_by_urn() -> None:
    extra = resource("c-worker-1", PORT, {"name": "c-worker-1", "networkId": "net"})
    grown = plan(*copy.deepcopy(BASE["resources"]), extra)
    diff = diff_plans(BASE, grown)
    assert kinds(diff) == {"creates": ["c-worker-1"], "deletes": [], "updates": [],
                           "replaces": []}
    diff = diff_plans(grown, BASE)
    assert kinds(diff)["deletes"] == ["c-worker-1"]
    assert diff.as_json()["deletes"][0]["urn"] == extra["urn"]


def test_in_place_update_lists_the_changed_paths() -> None:
    after = changed(r1={"securityGroupIds": ["sg-1", "sg-2"], "name": "renamed"})
    diff = diff_plans(BASE, after)
    assert kinds(diff)["updates"] == ["c-worker-0"]
    update = diff.updates[0]
    assert update.paths == ["name", "securityGroupIds[1]"]
    assert update.replace_paths == ()
    entry = diff.as_json()["updates"][0]
    assert entry["changes"][0] == {"path": "name", "before": "c-worker-0", "after": "renamed"}


def test_forcenew_input_makes_a_replacement() -> None:
    after = changed(r1={"networkId": "other-net", "name": "renamed"})
    diff = diff_plans(BASE, after)
    assert kinds(diff) == {"creates": [], "deletes": [], "updates": [],
                           "replaces": ["c-worker-0"]}
    assert diff.replaces[0].replace_paths == ("networkId",)
    assert diff.replaces[0].paths == ["name", "networkId"]


def test_nested_forcenew_paths_are_dotted_and_indexed() -> None:
    devices = copy.deepcopy(SERVER["inputs"]["blockDevices"])
    devices[1]["volumeSize"] = 100
    diff = diff_plans(BASE, changed(r0={"blockDevices": devices}))
    assert diff.replaces[0].replace_paths == ("blockDevices[1].volumeSize",)


def test_image_change_rebuilds_in_place_and_is_flagged() -> None:
    diff = diff_plans(BASE, changed(r0={"imageName": "ubuntu-26.04", "metadata": {"a": "b"}}))
    assert kinds(diff)["updates"] == ["c-worker-0"]
    assert diff.updates[0].disruptive == ("imageName",)
    assert diff.updates[0].paths == ["imageName", "metadata.a", "metadata.coe_role"]
    assert "disrupts in place: imageName" in diff_markdown(diff)


def test_volume_grows_in_place_and_is_replaced_when_it_shrinks() -> None:
    assert kinds(diff_plans(BASE, changed(r2={"size": 20})))["updates"] == ["c-etcd"]
    assert kinds(diff_plans(BASE, changed(r2={"size": 5})))["replaces"] == ["c-etcd"]
    assert kinds(diff_plans(BASE, changed(r2={"availabilityZone": "az2"})))["replaces"] == [
        "c-etcd"]


def test_secret_changes_show_only_when_the_marker_differs() -> None:
    same = diff_plans(BASE, changed(r0={"userData": REDACTED}))
    assert same.is_empty()
    assert same.secret_compared_by_marker == 1
    revealed = diff_plans(BASE, changed(r0={"userData": "#cloud-config\n"}))
    assert revealed.replaces[0].replace_paths == ("userData",)
    text = diff_markdown(revealed)
    assert "userData: [secret] changed" in text
    assert "#cloud-config" not in text
    assert "compare equal" in text  # the footnote


def test_absent_and_null_inputs_are_equal() -> None:
    assert input_changes({"a": None}, {}) == []
    assert input_changes({"a": [1]}, {"a": [1, None]}) == []


def test_odd_keys_are_quoted_in_paths() -> None:
    changes = input_changes({"m": {"a.b": 1}}, {"m": {"a.b": 2}})
    assert [c.path for c in changes] == ['m["a.b"]']


def test_ignore_changes_option_hides_paths() -> None:
    after = changed(r0={"imageName": "ubuntu-26.04"})
    after["resources"][0]["options"] = {"ignoreChanges": ["imageName"]}
    assert diff_plans(BASE, after).is_empty()


def test_replace_on_changes_option_forces_replacement() -> None:
    after = changed(r0={"metadata": {"coe_role": "master"}})
    after["resources"][0]["options"] = {"replaceOnChanges": ["metadata"]}
    diff = diff_plans(BASE, after)
    assert diff.replaces[0].replace_paths == ("metadata.coe_role",)


@pytest.mark.parametrize(("type_token", "path", "forces"), [
    (RULE, "description", True),
    (LISTENER, "allowedCidrs[0]", False),
    (LISTENER, "protocolPort", True),
    (CERT, "validityPeriodHours", True),
    (CERT, "earlyRenewalHours", False),
    (TOKEN, "length", True),
    ("random:index/randomId:RandomId", "keepers.node", True),
    ("openstack:compute/serverGroup:ServerGroup", "policies", True),
    ("openstack:networking/subnet:Subnet", "cidr", True),
    ("openstack:networking/subnet:Subnet", "dnsNameservers[0]", False),
    ("openstack:networking/router:Router", "externalNetworkId", False),
    ("example:index:Unknown", "anything", False),
])
def test_replacement_table(type_token: str, path: str, forces: bool) -> None:
    change = InputChange(path, 1, 2)
    assert bool(forcing_paths(type_token, [change])) is forces


def test_every_table_entry_names_its_source() -> None:
    for type_token, entry in TABLE.items():
        assert entry.source, type_token
        assert (entry.paths or entry.every_input or entry.shrink_paths
                or entry.compared_paths), type_token
    assert replacement_for("random:index/randomPet:RandomPet") is not None


def test_fail_on_kinds_are_separate() -> None:
    deleted = plan(*copy.deepcopy(BASE["resources"][:2]))
    diff = diff_plans(BASE, deleted)
    assert failing_kinds(diff, {"delete"}) == ["delete"]
    assert failing_kinds(diff, {"replace"}) == []
    replaced = diff_plans(BASE, changed(r1={"networkId": "x"}))
    assert failing_kinds(replaced, {"delete"}) == []
    assert failing_kinds(replaced, {"replace", "delete"}) == ["replace"]


def test_markdown_folds_long_lists_and_counts_every_kind() -> None:
    many = [resource(f"n-{i}", PORT, {"networkId": "net"}) for i in range(12)]
    diff = diff_plans(BASE, plan(*copy.deepcopy(BASE["resources"]), *many))
    text = diff_markdown(diff)
    assert text.startswith("### coe diff: `proj/dev`")
    assert "**12 to create, 0 to update, 0 to replace, 0 to delete**" in text
    assert "<details>" in text and "</details>" in text
    assert "| type | name | notes |" in text


def test_diff_json_is_deterministic_and_complete() -> None:
    diff = diff_plans(BASE, changed(r1={"networkId": "x"}, r2={"size": 20}))
    document = json.loads(diff.dumps())
    assert set(document) >= {"creates", "deletes", "updates", "replaces", "counts"}
    assert document["replaces"][0]["replacePaths"] == ["networkId"]
    assert diff.dumps() == diff_plans(BASE, changed(r1={"networkId": "x"},
                                                    r2={"size": 20})).dumps()


def test_short_type() -> None:
    assert short_type(INSTANCE) == "openstack.compute.Instance"
    assert short_type(CERT) == "tls.SelfSignedCert"
    assert short_type("coe:index:KubernetesUbuntuCluster") == "coe.KubernetesUbuntuCluster"
