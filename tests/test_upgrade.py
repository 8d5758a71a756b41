"""Upgrading coe-provider never breaks a running cluster: each example the previous release
shipped, planned with the current code and the plan that release recorded as its state (as
``pulumi up`` after an upgrade), plans with no refusal, no replacement, deletion or update of
what exists and the same ``coeVersion``; releases stay what the cluster was built with; and
removing masters without ``drainOnDelete`` is refused before anything is registered."""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.labels import DEFAULT_KUBE_TAG
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.cluster.registry import get_driver, registered_drivers
from coe_provider.cluster.releases import kept_releases, previous_cluster, previous_masters
from coe_provider.plan.diff import ResourceChange, diff_plans, short_value
from coe_provider.plan.secrets import reveal
from coe_provider.plan.stackfile import plan_stack_file, run_stack_file
from coe_provider.plan.state import PriorState
from coe_provider.spec.errors import SpecError
from tests.test_secrets_at_rest import CREDENTIAL

RELEASE = Path(__file__).parent / "data" / "upgrade" / "0.1.0"
"""Plans recorded by coe-provider 0.1.0 of its own examples (see its README)."""

STACK_FILES = {
    "k8s-ha": "Pulumi.prod.yaml", "k8s-python": "Pulumi.dev.yaml",
    "k8s-single": "Pulumi.dev.yaml", "mixed": "Pulumi.prod.yaml", "swarm": "Pulumi.prod.yaml",
}
"""Each example 0.1.0 shipped, with its stack file."""

RELEASE_0_1_0_K8S = {"kube_tag": "v1.31.2", "cni_version": "v3.28.2",
                     "cloud_provider_tag": "v1.31.1"}
"""What 0.1.0 installed by default (its labels.py at 581c030)."""


LISTENER = "openstack:loadbalancer/listener:Listener"
"""0.2.0 adds the cluster subnet to a listener's allowedCidrs that shut it out."""

def recorded(example: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RELEASE / f"{example}.json").read_text())
    return document


def coe_versions(outputs: dict[str, Any]) -> dict[str, str]:
    """Every ``coeVersion`` in the stack outputs, by where it is."""
    return outputs_named(outputs, "coeVersion")


def outputs_named(outputs: dict[str, Any], name: str) -> dict[str, Any]:
    """Every value under the key ``name`` in the stack outputs, by where it is."""
    found: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == name:
                    found[path] = item
                walk(item, f"{path}.{key}" if path else key)

    walk(outputs, "")
    return found


def copy_example(example: str, tmp_path: Path) -> Path:
    """The 0.1.0 example's directory, copied so a test may edit its stack file."""
    target = tmp_path / example
    shutil.copytree(RELEASE / "examples" / example, target)
    return target / STACK_FILES[example]


def edit_cluster(stack_file: Path, name: str, **changes: Any) -> None:
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["coe:clusters"][name].update(changes)
    stack_file.write_text(yaml.safe_dump(document))


def state_file(example: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{example}-state.json"
    path.write_text(json.dumps(recorded(example)))
    return path


@pytest.mark.parametrize("example", sorted(STACK_FILES))
def test_a_stack_of_the_previous_release_plans_unchanged(example: str) -> None:
    old = recorded(example)
    stack_file = RELEASE / "examples" / example / STACK_FILES[example]
    new = plan_stack_file(stack_file, state=RELEASE / f"{example}.json").as_json()
    diff = diff_plans(old, new)
    assert diff.deletes == [] and diff.replaces == []
    # The one deliberate change to a running resource (0.2.0's CHANGELOG): a listener whose
    # allowedCidrs shut out the cluster's own subnet admits it, in place. Nothing else changes.
    subnets = {r["inputs"]["cidr"] for r in old["resources"]
               if r["type"] == "openstack:networking/subnet:Subnet"}
    for update in diff.updates:
        assert update.type == LISTENER, update
        assert len(update.changes) == 1, update
        change = update.changes[0]
        assert change.path.startswith("allowedCidrs[") and change.before is None, update
        assert change.after in subnets, update
    # New in this release, created beside what runs: the readiness gate and the cleanup.
    assert {change.type for change in diff.creates} <= {
        "pulumi-python:dynamic:Resource", "command:local:Command", "random:index/randomId:RandomId"}
    before, after = coe_versions(old["outputs"]), coe_versions(new["outputs"])
    assert before and before == after


def test_a_0_1_0_cluster_without_kube_tag_keeps_0_1_0_releases_on_new_nodes(
        tmp_path: Path) -> None:
    stack_file = copy_example("k8s-ha", tmp_path)
    template = stack_file.parent / "template.yaml"
    document = yaml.safe_load(template.read_text())
    del document["labels"]["kube_tag"]
    template.write_text(yaml.safe_dump(document))
    edit_cluster(stack_file, "prod", nodeGroups=[
        {"name": "default-worker", "count": 4, "minCount": 1, "maxCount": 10},
        {"name": "gpu", "count": 2, "minCount": 0, "maxCount": 4, "flavor": "g1.xlarge",
         "labels": {"accelerator": "nvidia"}, "taints": ["nvidia.com/gpu=true:NoSchedule"]}])
    prior = PriorState.of(recorded("k8s-ha"))
    run = run_stack_file(stack_file, None, prior.openstack_answers())
    detail = reveal(run.stack_outputs["cluster:prod"])
    assert detail["coeVersion"] == "v1.31.2"
    assert detail["releases"] == {**RELEASE_0_1_0_K8S, "containerd_version": "1.7.12-0ubuntu4",
                                  "addons_path": "boot"}
    new_worker = next(r for r in run.resources if r.name == "prod-default-worker-3"
                      and r.type == "openstack:compute/instance:Instance")
    user_data = str(reveal(new_worker.inputs["userData"]))
    assert "1.31.2" in user_data
    assert DEFAULT_KUBE_TAG.removeprefix("v") not in user_data


def test_a_cluster_keeps_its_record_when_the_defaults_move(tmp_path: Path) -> None:
    """A cluster made by this release records its releases; planned again by a release whose
    defaults differ (here: a record naming other releases), it keeps the recorded ones."""
    stack_file = copy_example("k8s-single", tmp_path)
    document = yaml.safe_load(stack_file.read_text())
    cluster = next(iter(document["config"]["coe:clusters"].values()))
    cluster["template"]["labels"].pop("kube_tag")
    stack_file.write_text(yaml.safe_dump(document))
    first = plan_stack_file(stack_file).as_json()
    name = next(iter(document["config"]["coe:clusters"]))
    assert first["outputs"][f"cluster:{name}"]["releases"]["kube_tag"] == DEFAULT_KUBE_TAG
    kept = {"kube_tag": "v1.35.2", "cni_version": "v3.30.0", "cloud_provider_tag": "v1.35.0",
            "containerd_version": "distribution"}
    first["outputs"][f"cluster:{name}"]["releases"] = kept
    first["outputs"][f"cluster:{name}"]["coeVersion"] = "v1.35.2"
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_stack_file(stack_file, state=state).as_json()
    # A record without addons_path was written before the add-ons became releases: the
    # cluster's add-ons were applied at boot, and it keeps that path.
    assert second["outputs"][f"cluster:{name}"]["releases"] == {**kept, "addons_path": "boot"}
    assert second["outputs"][f"cluster:{name}"]["coeVersion"] == "v1.35.2"


@pytest.mark.parametrize(("example", "cluster"), [("k8s-ha", "prod"), ("swarm", "swarm")])
def test_removing_running_masters_without_drain_is_refused(example: str, cluster: str,
                                                           tmp_path: Path) -> None:
    stack_file = copy_example(example, tmp_path)
    edit_cluster(stack_file, cluster, masterCount=1)
    with pytest.raises(SpecError) as refused:
        plan_stack_file(stack_file, state=state_file(example, tmp_path))
    message = str(refused.value)
    assert f"{cluster}.masterCount: removes running masters {cluster}-master-1, " \
           f"{cluster}-master-2" in message
    assert "drainOnDelete" in message


def test_replacing_a_running_master_without_drain_is_refused(tmp_path: Path) -> None:
    stack_file = copy_example("k8s-ha", tmp_path)
    edit_cluster(stack_file, "prod", masterReplace=[1])
    with pytest.raises(SpecError, match=r"prod\.masterReplace: replaces running masters "
                                        r"prod-master-1"):
        plan_stack_file(stack_file, state=state_file("k8s-ha", tmp_path))


def test_removing_masters_with_drain_on_delete_proceeds(tmp_path: Path) -> None:
    stack_file = copy_example("k8s-ha", tmp_path)
    edit_cluster(stack_file, "prod", masterCount=1, drainOnDelete=True,
                 template={"sshAllowedCidrs": ["192.0.2.10/32"], "bastion": True})
    plan = plan_stack_file(stack_file, state=state_file("k8s-ha", tmp_path)).as_json()
    deleted = {change.name for change in diff_plans(recorded("k8s-ha"), plan).deletes}
    assert {"prod-master-1", "prod-master-2"} <= deleted


def test_a_new_stack_is_not_refused_for_fewer_masters() -> None:
    """Without previous outputs nothing runs: the same stack file plans."""
    stack_file = RELEASE / "examples" / "k8s-ha" / STACK_FILES["k8s-ha"]
    plan = plan_stack_file(stack_file).as_json()
    assert coe_versions(plan["outputs"])["cluster:prod"] == "v1.31.2"


def test_coe_validate_warns_on_a_minor_out_of_support_and_strict_fails() -> None:
    runner = CliRunner()
    stack_file = str(RELEASE / "examples" / "k8s-ha" / STACK_FILES["k8s-ha"])
    result = runner.invoke(app, ["validate", stack_file])
    assert result.exit_code == 0, result.output
    assert "warning: clusters.prod.labels.kube_tag: Kubernetes 1.31 is out of upstream " \
           "support" in result.stderr
    strict = runner.invoke(app, ["validate", "--strict", stack_file])
    assert strict.exit_code == 1
    # kube_tag's minor, and the containerd it pins (Ubuntu's 1.7.12) outside containerd's matrix.
    assert "--strict: 2 warning(s)" in strict.stderr


def test_coe_version_is_the_release() -> None:
    """``coe --version`` says the release pyproject.toml declares (and the CHANGELOG heads)."""
    import tomllib

    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())[
        "project"]["version"]
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"coe-provider {declared}"
    changelog = (Path(__file__).parents[1] / "CHANGELOG.md").read_text()
    assert f"\n## {declared} " in changelog


def test_the_warning_reaches_the_pulumi_log(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A running 0.1.0 cluster keeps 1.31: pulumi preview and up say it is out of support."""
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warned.append(message))
    stack_file = RELEASE / "examples" / "k8s-ha" / STACK_FILES["k8s-ha"]
    plan_stack_file(stack_file, state=state_file("k8s-ha", tmp_path))
    assert [line for line in warned if line.startswith(
        "prod.labels.kube_tag: Kubernetes 1.31 is out of upstream support")]


def test_a_stack_export_gives_the_root_stack_outputs_as_previous_outputs() -> None:
    export = {"version": 3, "deployment": {"resources": [
        {"urn": "urn:pulumi:prod::p::pulumi:pulumi:Stack::p-prod", "type": "pulumi:pulumi:Stack",
         "outputs": {"clusters": {"c": {"name": "c", "driver": "k8s_ubuntu",
                                        "coeVersion": "v1.35.2"}},
                     "kubeconfig": {"ciphertext": "AAA"}}},
    ]}}
    outputs = PriorState.of(export).outputs
    assert outputs["kubeconfig"] == "[secret]"
    previous = previous_cluster(outputs, "c", "k8s_ubuntu")
    assert previous == {"name": "c", "driver": "k8s_ubuntu", "coeVersion": "v1.35.2"}
    assert previous_cluster(outputs, "c", "swarm_ubuntu") is None


def test_running_masters_come_from_the_nodes_output_or_the_master_count() -> None:
    with_nodes = {"nodes": [{"name": "c-master-0", "role": "master"},
                            {"name": "c-master-2", "role": "master"},
                            {"name": "c-w-0", "role": "worker"}]}
    assert previous_masters(with_nodes, "c") == {"c-master-0", "c-master-2"}
    from_count = {"nodeGroups": [{"name": "master", "count": 3}, {"name": "w", "count": 5}]}
    assert previous_masters(from_count, "c") == {"c-master-0", "c-master-1", "c-master-2"}


def test_a_record_wins_over_the_first_release_table() -> None:
    assert kept_releases(None, {"kube_tag": "v1.31.2"}) is None
    assert kept_releases({"coeVersion": "v1.31.2"}, {"kube_tag": "v1.31.2"}) == {
        "kube_tag": "v1.31.2"}
    assert kept_releases({"coeVersion": "v1.35.2", "releases": {"kube_tag": "v1.35.2"}},
                         {"kube_tag": "v1.31.2"}) == {"kube_tag": "v1.35.2"}


def test_an_explicit_kube_tag_change_reaches_new_nodes_only(tmp_path: Path) -> None:
    stack_file = copy_example("k8s-ha", tmp_path)
    template = stack_file.parent / "template.yaml"
    document = yaml.safe_load(template.read_text())
    document["labels"]["kube_tag"] = "v1.31.5"
    template.write_text(yaml.safe_dump(document))
    edit_cluster(stack_file, "prod", nodeGroups=[
        {"name": "default-worker", "count": 4, "minCount": 1, "maxCount": 10},
        {"name": "gpu", "count": 2, "minCount": 0, "maxCount": 4, "flavor": "g1.xlarge",
         "labels": {"accelerator": "nvidia"}, "taints": ["nvidia.com/gpu=true:NoSchedule"]}])
    state = state_file("k8s-ha", tmp_path)
    plan = plan_stack_file(stack_file, state=state).as_json()
    diff = diff_plans(recorded("k8s-ha"), plan)
    assert diff.deletes == [] and diff.replaces == []
    assert {update.type for update in diff.updates} <= {LISTENER}  # admits the subnet
    assert "prod-default-worker-3" in {change.name for change in diff.creates}
    detail = plan["outputs"]["cluster:prod"]
    assert detail["coeVersion"] == "v1.31.2"  # the control plane still runs it
    assert detail["releases"]["kube_tag"] == "v1.31.5"  # what new nodes install
    prior = PriorState.of(recorded("k8s-ha"))
    run = run_stack_file(stack_file, None, prior.openstack_answers())
    new_worker = next(r for r in run.resources if r.name == "prod-default-worker-3"
                      and r.type == "openstack:compute/instance:Instance")
    assert "1.31.5" in str(reveal(new_worker.inputs["userData"]))


@pytest.mark.parametrize("driver", sorted(registered_drivers()))
def test_every_release_a_driver_records_is_one_of_its_labels(driver: str) -> None:
    """The record pins labels: a key that is no label would be silently dropped."""
    cls = get_driver(driver).cls
    labels = cls.label_model()
    recorded_now = cls.release_labels(labels)
    assert set(recorded_now) <= set(cls.label_model.model_fields)
    first = cls.first_release_labels(labels)
    # A record-less cluster's table covers every label its record will hold (for Kubernetes
    # the boot-time add-ons path too, which adds addons_path).
    assert set(first) >= set(recorded_now)
    assert set(first) == set(cls.release_labels(labels.model_copy(update=first)))


RELEASE_0_2_0 = Path(__file__).parent / "data" / "upgrade" / "0.2.0"
"""Plans recorded by coe-provider 0.2.0 (commit b4607d0) of its own examples (see its README)."""

STACK_FILES_0_2_0 = {**STACK_FILES, "two-regions": "Pulumi.prod.yaml"}
"""Each example 0.2.0 shipped with a stack file."""

SERVER = "openstack:compute/instance:Instance"


def described(changes: list[ResourceChange]) -> list[str]:
    """One line per changed resource (and per changed input): what a failure reports."""
    return [f"{change.type} {change.name}" + "".join(
        f"\n  {c.path}: {short_value(c.before)!r} -> {short_value(c.after)!r}"
        for c in change.changes) for change in changes]


@functools.cache
def upgraded_from_0_2_0(example: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """0.2.0's recorded plan of an example, and the current code's plan of the same stack file
    with that plan as its state (``coe plan --state``), as ``pulumi up`` after an upgrade.
    Planning refuses nothing: a refusal raises here and fails the test."""
    state = RELEASE_0_2_0 / f"{example}.json"
    old: dict[str, Any] = json.loads(state.read_text())
    stack_file = RELEASE_0_2_0 / "examples" / example / STACK_FILES_0_2_0[example]
    return old, plan_stack_file(stack_file, state=state).as_json()


def test_the_0_2_0_data_covers_every_example_it_shipped() -> None:
    shipped = {path.parent.name: path.name
               for path in (RELEASE_0_2_0 / "examples").glob("*/Pulumi.*.yaml")}
    assert shipped == STACK_FILES_0_2_0
    assert sorted(path.stem for path in RELEASE_0_2_0.glob("*.json")) == sorted(shipped)


@pytest.mark.parametrize("example", sorted(STACK_FILES_0_2_0))
def test_a_0_2_0_stack_plans_with_no_replacement_deletion_or_update(example: str) -> None:
    """0.2.0 → next has no deliberate change to a running resource: none is replaced, deleted
    or updated in place (a Helm release's values or version included)."""
    diff = diff_plans(*upgraded_from_0_2_0(example))
    assert described(diff.replaces) == []
    assert described(diff.deletes) == []
    assert described(diff.updates) == []


@pytest.mark.parametrize("example", sorted(STACK_FILES_0_2_0))
def test_a_0_2_0_stack_creates_nothing_beside_what_runs(example: str) -> None:
    """Nothing new is added to a running 0.2.0 cluster (a new resource there would be a
    deliberate change, to be named here)."""
    diff = diff_plans(*upgraded_from_0_2_0(example))
    assert described(diff.creates) == []


@pytest.mark.parametrize("example", sorted(STACK_FILES_0_2_0))
def test_a_0_2_0_stack_keeps_its_coe_version_and_release_record(example: str) -> None:
    old, new = upgraded_from_0_2_0(example)
    for name in ("coeVersion", "releases"):
        before = outputs_named(old["outputs"], name)
        assert before, name
        assert outputs_named(new["outputs"], name) == before, name


@pytest.mark.parametrize("example", sorted(STACK_FILES_0_2_0))
def test_0_2_0_servers_are_untouched_and_keep_their_user_data_pinned(example: str) -> None:
    """The plan redacts userData, so a changed cloud-init (the current code's is not 0.2.0's)
    cannot show in the diff; it leaves running servers alone only because they ignore
    userData. Each running server keeps every ignored input, userData among them, and
    shows no change."""
    old, new = upgraded_from_0_2_0(example)
    before = {r["urn"]: r for r in old["resources"] if r["type"] == SERVER}
    after = {r["urn"]: r for r in new["resources"] if r["type"] == SERVER}
    assert before and set(after) == set(before)
    for urn, server in before.items():
        ignored = set(after[urn]["options"].get("ignoreChanges") or [])
        assert "userData" in ignored, urn
        assert set(server["options"].get("ignoreChanges") or []) <= ignored, urn
        assert after[urn]["inputs"]["userData"] == server["inputs"]["userData"], urn
    diff = diff_plans(old, new)
    assert [c.name for c in diff.updates + diff.replaces if c.type == SERVER] == []


@pytest.mark.parametrize("plan", sorted((RELEASE.parent).glob("*/*.json")),
                         ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_the_recorded_plans_hold_no_credential_in_clear(plan: Path) -> None:
    document = json.loads(plan.read_text())
    assert document["resources"]
    for part in ("resources", "outputs"):
        assert [m.group(0) for m in CREDENTIAL.finditer(json.dumps(document[part]))] == []


def test_a_0_2_0_swarm_with_drain_sees_only_its_drain_commands_updated() -> None:
    """0.3.0's one deliberate in-place update: a Swarm cluster with ``drainOnDelete`` stores
    the fixed removal script in each node's drain command (no create: nothing runs)."""
    state = RELEASE_0_2_0 / "variants" / "swarm-drain.json"
    old: dict[str, Any] = json.loads(state.read_text())
    stack_file = RELEASE_0_2_0 / "variants" / "swarm-drain" / "Pulumi.prod.yaml"
    diff = diff_plans(old, plan_stack_file(stack_file, state=state).as_json())
    assert described(diff.replaces) == [] and described(diff.deletes) == []
    assert described(diff.creates) == []
    drains = {f"swarm-{name}-drain" for name in (
        "master-0", "master-1", "master-2", "default-worker-0", "default-worker-1")}
    assert {change.name for change in diff.updates} == drains
    for change in diff.updates:
        assert change.type == "command:remote:Command"
        assert [c.path for c in change.changes] == ["delete"], described([change])
