"""Kubernetes add-ons as Helm releases of the program (issue 26): the releases and typed objects
a cluster plans, the two readiness stages, the destroy order, the versions kept in state, the
boot-time path of running and unreachable clusters, and the offline view of releases."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.addons import ADDON_TABLE, CLOUD_PROVIDER_CHARTS
from coe_provider_drivers.k8s_ubuntu.labels import KubernetesLabels, program_route

from coe_provider.health.workloads import Workload, not_ready_reason
from coe_provider.plan.diff import diff_plans
from coe_provider.plan.graph import PlanResource, deleted_before
from coe_provider.plan.secrets import contains_secret, reveal
from coe_provider.spec.errors import SpecError
from tests.conftest import EXAMPLES, shell_functions
from tests.validators import files_in


def _stack_files() -> Any:
    """Where the stack-file runners live: plan/stackfile.py once issue 25 moved the command
    bodies out of cli.py, cli.py before."""
    try:
        return importlib.import_module("coe_provider.plan.stackfile")
    except ImportError:
        return importlib.import_module("coe_provider.cli")


plan_stack_file = _stack_files().plan_stack_file
run_stack_file = _stack_files().run_stack_file

RELEASE = "kubernetes:helm.sh/v3:Release"
INSTANCE = "openstack:compute/instance:Instance"
GATE = "pulumi-python:dynamic:Resource"
BOOTSTRAP = Path(__file__).parents[1] / "drivers" / "k8s_ubuntu" / "templates" / "bootstrap.sh"


def ha_stack(tmp_path: Path, **changes: Any) -> Path:
    """The k8s-ha example copied, its cluster ``prod`` updated with ``changes`` (``labels``
    merge into the template's labels)."""
    target = tmp_path / "k8s-ha"
    shutil.copytree(EXAMPLES / "k8s-ha", target)
    stack_file = target / "Pulumi.prod.yaml"
    labels = changes.pop("labels", None)
    if labels:
        template = target / "template.yaml"
        document = yaml.safe_load(template.read_text())
        document["labels"].update(labels)
        template.write_text(yaml.safe_dump(document))
    if changes:
        document = yaml.safe_load(stack_file.read_text())
        document["config"]["coe:clusters"]["prod"].update(changes)
        stack_file.write_text(yaml.safe_dump(document))
    return stack_file


def plan_of(stack_file: Path, state: Path | None = None) -> dict[str, Any]:
    document: dict[str, Any] = plan_stack_file(stack_file, state=state).as_json()
    return document


def of_type(plan: dict[str, Any], token: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == token]


def named(plan: dict[str, Any], name: str) -> dict[str, Any]:
    found = [r for r in plan["resources"] if r["name"] == name and r["custom"]]
    assert len(found) == 1, name
    return found[0]


@pytest.fixture(scope="module")
def ha_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return plan_of(ha_stack(tmp_path_factory.mktemp("ha")))


def test_a_new_cluster_with_a_route_gets_the_releases_from_the_table(
        ha_plan: dict[str, Any]) -> None:
    releases = {r["name"]: r["inputs"] for r in of_type(ha_plan, RELEASE)}
    row = ADDON_TABLE["1.36"]
    assert sorted(releases) == ["prod-openstack-cinder-csi",
                                "prod-openstack-cloud-controller-manager",
                                "prod-tigera-operator"]
    cni = releases["prod-tigera-operator"]
    assert (cni["chart"], cni["version"], cni["repositoryOpts"]["repo"]) == (
        "tigera-operator", row.calico.chart, "https://docs.tigera.io/calico/charts")
    pools = cni["values"]["installation"]["calicoNetwork"]["ipPools"]
    assert pools == [{"cidr": "10.100.0.0/16", "encapsulation": "IPIP",
                      "natOutgoing": "Enabled", "nodeSelector": "all()"}]
    ccm = releases["prod-openstack-cloud-controller-manager"]
    csi = releases["prod-openstack-cinder-csi"]
    assert ccm["version"] == row.cloud_controller.chart == "2.36.0"
    assert csi["version"] == row.cinder_csi.chart == "2.36.0"
    # The cloud resource tag, as the cleanup selects by it.
    tag = named(ha_plan, "prod-cloud-tag")
    assert tag["type"].startswith("random:")
    assert ccm["values"]["cluster"]["name"] == csi["values"]["clusterID"]
    assert ccm["values"]["cluster"]["name"].startswith("prod-")
    assert ccm["values"]["secret"] == {"enabled": True, "create": False, "name": "cloud-config"}
    assert ccm["values"]["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    tolerated = {t["key"] for t in ccm["values"]["tolerations"]}
    assert "node.cloudprovider.kubernetes.io/uninitialized" in tolerated
    assert csi["values"]["storageClass"] == {"enabled": False}
    outputs = ha_plan["outputs"]["cluster:prod"]["releases"]
    assert outputs["addons_path"] == "program"
    assert outputs["cni_chart_version"] == row.calico.chart
    assert outputs["cinder_csi_chart_version"] == "2.36.0"


def test_the_kubernetes_provider_is_stable_and_does_not_hang_on_a_gone_cluster(
        ha_plan: dict[str, Any]) -> None:
    provider = named(ha_plan, "prod-kubernetes")
    assert provider["type"] == "pulumi:providers:kubernetes"
    assert provider["inputs"]["clusterIdentifier"] == "prod"
    assert provider["inputs"]["deleteUnreachable"] in (True, "true")
    assert contains_secret(provider["inputs"]["kubeconfig"]) or \
        provider["inputs"]["kubeconfig"] == "[secret]"
    for release in of_type(ha_plan, RELEASE):
        assert release["options"]["provider"].startswith(provider["urn"])


def test_two_readiness_stages_around_the_releases(ha_plan: dict[str, Any]) -> None:
    api = named(ha_plan, "prod-api-ready")
    ready = named(ha_plan, "prod-ready")
    assert api["inputs"]["stage"] == "api"
    assert "workloads" not in api["inputs"]
    release_urns = {r["urn"] for r in of_type(ha_plan, RELEASE)}
    before = deleted_before([PlanResource.from_json(r) for r in ha_plan["resources"]])
    # Every release waits for the API (and the CNI's for nothing else); the final gate for
    # every release.
    assert release_urns <= before[api["urn"]]
    assert api["urn"] in named(ha_plan, "prod-tigera-operator")["dependencies"]
    assert release_urns <= set(ready["dependencies"])
    workloads = {(w["kind"], w["namespace"], w["name"]) for w in ready["inputs"]["workloads"]}
    assert ("DaemonSet", "calico-system", "calico-node") in workloads
    assert ("DaemonSet", "kube-system", "openstack-cloud-controller-manager") in workloads
    assert ("Deployment", "kube-system", "openstack-cinder-csi-controllerplugin") in workloads


@pytest.mark.parametrize("drain", [False, True])
def test_destroy_removes_releases_before_servers_and_cleans_after_every_server(
        tmp_path: Path, drain: bool) -> None:
    changes: dict[str, Any] = {"drainOnDelete": True, "template": {
        "sshAllowedCidrs": ["192.0.2.10/32"], "floatingIpEnabled": True}} if drain else {}
    plan = plan_of(ha_stack(tmp_path, **changes))
    resources = [PlanResource.from_json(r) for r in plan["resources"]]
    before = deleted_before(resources)
    servers = [r["urn"] for r in of_type(plan, INSTANCE) if r["name"].startswith("prod-")]
    releases = [r["urn"] for r in of_type(plan, RELEASE)]
    typed = [r["urn"] for r in plan["resources"] if r["type"].startswith("kubernetes:")]
    cleanup = named(plan, "prod-cleanup")["urn"]
    assert servers and len(releases) == 3
    for server in servers:
        assert set(typed) <= before[server], server
        assert server in before[cleanup]
    if drain:
        removals = [r["urn"] for r in plan["resources"] if r["name"].endswith("-remove")
                    or r["type"] == "command:remote:Command"]
        assert removals
        for removal in removals:
            assert removal in before[cleanup]


def manifest(resource: dict[str, Any]) -> dict[str, Any]:
    """A typed object's manifest, from its recorded inputs (secrets given a value)."""
    inputs = reveal(resource["inputs"])
    if inputs.get("stringData") == "[secret]":
        inputs["stringData"] = {"cloud.conf": "[Global]\n"}
    return {key: value for key, value in inputs.items() if not key.startswith("__")}


def cluster_minor(plan: dict[str, Any]) -> str:
    """The cluster's Kubernetes minor, from its release record (``1.36``)."""
    tag = str(plan["outputs"]["cluster:prod"]["releases"]["kube_tag"])
    return ".".join(tag.removeprefix("v").split(".")[:2])


def test_typed_objects_validate_for_the_clusters_minor(ha_plan: dict[str, Any]) -> None:
    typed = [r for r in ha_plan["resources"]
             if r["type"].startswith("kubernetes:") and r["type"] != RELEASE]
    assert {r["type"] for r in typed} == {"kubernetes:core/v1:Secret",
                                          "kubernetes:storage.k8s.io/v1:StorageClass"}
    for resource in typed:
        kubernetes_validate.validate(manifest(resource), cluster_minor(ha_plan), strict=True)
    storage = next(r for r in typed if r["type"].endswith("StorageClass"))["inputs"]
    assert storage["provisioner"] == "cinder.csi.openstack.org"
    assert storage["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"}


def test_flannel_gets_a_privileged_namespace_that_validates(tmp_path: Path) -> None:
    plan = plan_of(ha_stack(tmp_path, labels={"cni": "flannel"}))
    release = named(plan, "prod-flannel")["inputs"]
    assert release["namespace"] == "kube-flannel"
    assert release["values"]["podCidr"] == "10.100.0.0/16"
    namespace = named(plan, "prod-kube-flannel")
    kubernetes_validate.validate(manifest(namespace), cluster_minor(plan), strict=True)
    assert named(plan, "prod-flannel")["dependencies"].count(namespace["urn"]) == 1


def test_master_user_data_fetches_no_manifest_on_the_programs_path(tmp_path: Path) -> None:
    run = run_stack_file(ha_stack(tmp_path))
    master = next(r for r in run.resources if r.type == INSTANCE and r.name == "prod-master-0")
    files = files_in(str(reveal(master.inputs["userData"])))
    assert "COE_ADDONS=program" in files["/etc/coe/driver.env"] \
        or "COE_ADDONS=program" in files.get("/etc/coe/node.env", "")
    environment = files["/etc/coe/driver.env"] + files.get("/etc/coe/node.env", "")
    assert "CLOUD_PROVIDER_CLUSTER_NAME" not in environment


@pytest.mark.parametrize(("path", "fetched"), [("program", False), ("boot", True)])
def test_the_first_master_applies_add_ons_only_on_the_boot_path(
        tmp_path: Path, path: str, fetched: bool) -> None:
    script = shell_functions(BOOTSTRAP, "init_cluster")
    stubs = """
coe_log() { :; }
coe_retry() { shift 2; "$@"; }
kubeadm_attempt() { :; }
kubectl() { :; }
apply_cni() { echo FETCHED-CNI; }
deploy_cloud_provider() { echo FETCHED-CPO; }
"""
    result = subprocess.run(
        ["bash", "-c", f"{stubs}\n{script}\nCLOUD_PROVIDER_ENABLED=true COE_ADDONS={path} "
                       "init_cluster"], capture_output=True, text=True, check=True)
    assert ("FETCHED-CNI" in result.stdout) is fetched
    assert ("FETCHED-CPO" in result.stdout) is fetched


def test_without_wait_for_ready_the_boot_path_stays(tmp_path: Path) -> None:
    plan = plan_of(ha_stack(tmp_path, waitForReady=False))
    assert of_type(plan, RELEASE) == []
    assert not [r for r in plan["resources"] if r["type"].startswith(("kubernetes:",
                                                                       "pulumi:providers:kub"))]
    assert plan["outputs"]["cluster:prod"]["releases"]["addons_path"] == "boot"


def test_the_route_decides_the_path() -> None:
    from coe_provider.spec.models import ClusterSpec

    document = yaml.safe_load((EXAMPLES / "k8s-ha" / "template.yaml").read_text())
    spec = ClusterSpec.model_validate({"template": document, "masterCount": 1})
    assert program_route(spec)
    no_wait = spec.model_copy(update={"wait_for_ready": False})
    assert not program_route(no_wait)
    tunnelled = spec.model_copy(update={"template": spec.template.model_copy(update={
        "external_network": None, "bastion": True})})
    assert not program_route(tunnelled)


def test_validate_refuses_a_version_without_a_chart_unless_the_chart_is_given(
        tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"labels\.cni_version: .*v3\.27\.0 has no "
                                        r"tigera-operator chart.*cni_chart_version"):
        plan_of(ha_stack(tmp_path / "a", labels={"cni_version": "v3.27.0"}))
    with pytest.raises(SpecError, match=r"labels\.cloud_provider_tag: v1\.31\.1 has no "
                                        r"openstack-cloud-controller-manager chart"):
        plan_of(ha_stack(tmp_path / "b", labels={"cloud_provider_tag": "v1.31.1"}))
    plan = plan_of(ha_stack(tmp_path / "c", labels={
        "cloud_provider_tag": "v1.31.1", "cloud_provider_chart_version": "2.31.1",
        "cinder_csi_chart_version": "2.31.1", "cni_version": "v3.27.0",
        "cni_chart_version": "v3.27.0"}))
    versions = {r["name"]: r["inputs"]["version"] for r in of_type(plan, RELEASE)}
    assert versions["prod-openstack-cloud-controller-manager"] == "2.31.1"
    assert versions["prod-tigera-operator"] == "v3.27.0"
    # On the boot-time path no chart is needed.
    plan_of(ha_stack(tmp_path / "d", waitForReady=False, labels={"cni_version": "v3.27.0"}))


def test_every_table_release_has_its_charts() -> None:
    for minor, row in ADDON_TABLE.items():
        assert CLOUD_PROVIDER_CHARTS[row.cloud_controller.release] == (
            row.cloud_controller.chart, row.cinder_csi.chart), minor
        labels = KubernetesLabels(kube_tag=f"v{minor}.0")
        assert labels.resolved_cni_chart_version == row.calico.chart
        assert labels.resolved_cloud_provider_tag == row.cloud_controller.release


def test_a_version_label_upgrades_exactly_that_release(tmp_path: Path) -> None:
    first = plan_of(ha_stack(tmp_path / "a"))
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_of(ha_stack(tmp_path / "b", labels={"cni_version": "v3.31.5"}), state=state)
    diff = diff_plans(first, second)
    assert not diff.creates and not diff.deletes and not diff.replaces
    assert [change.name for change in diff.updates] == ["prod-tigera-operator"]
    assert second["outputs"]["cluster:prod"]["releases"]["cni_chart_version"] == "v3.31.5"


def test_a_running_cluster_keeps_its_chart_versions_when_the_table_moves(
        tmp_path: Path) -> None:
    first = plan_of(ha_stack(tmp_path / "a"))
    record = first["outputs"]["cluster:prod"]["releases"]
    record.update({"cni_version": "v3.30.0", "cni_chart_version": "v3.30.0",
                   "cloud_provider_chart_version": "2.35.0"})
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_of(ha_stack(tmp_path / "b"), state=state)
    versions = {r["name"]: r["inputs"]["version"] for r in of_type(second, RELEASE)}
    assert versions["prod-tigera-operator"] == "v3.30.0"
    assert versions["prod-openstack-cloud-controller-manager"] == "2.35.0"
    assert second["outputs"]["cluster:prod"]["releases"] == record


def test_a_running_boot_time_cluster_gets_no_release(tmp_path: Path) -> None:
    """A cluster whose record has no addons_path (made before the releases) keeps the
    boot-time path: no release is installed over its boot-applied add-ons."""
    first = plan_of(ha_stack(tmp_path / "a", waitForReady=False))
    record = first["outputs"]["cluster:prod"]["releases"]
    record.pop("addons_path")
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_of(ha_stack(tmp_path / "b"), state=state)
    assert of_type(second, RELEASE) == []
    assert second["outputs"]["cluster:prod"]["releases"]["addons_path"] == "boot"


def test_workload_readiness_follows_the_rollout_rule() -> None:
    deployment = Workload("Deployment", "kube-system", "x")
    daemonset = Workload("DaemonSet", "kube-system", "y")
    assert deployment.path == "/apis/apps/v1/namespaces/kube-system/deployments/x"
    rolled = {"metadata": {"generation": 2}, "spec": {"replicas": 2},
              "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 2}}
    assert not_ready_reason(deployment, rolled) is None
    stale = {**rolled, "status": {**rolled["status"], "observedGeneration": 1}}
    assert not_ready_reason(deployment, stale) == "its controller has not seen the latest spec"
    short = {**rolled, "status": {**rolled["status"], "availableReplicas": 1}}
    assert not_ready_reason(deployment, short) == "1/2 replicas available, 2 updated"
    assert not_ready_reason(daemonset, {"status": {}}) == "no node runs it yet"
    assert not_ready_reason(daemonset, {"status": {
        "desiredNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3}}) == \
        "2/3 pods ready, 3 updated"


def test_the_offline_plan_answers_a_release_as_helm_does(ha_plan: dict[str, Any]) -> None:
    from coe_provider.plan import kubernetes_answers

    identifier, state = kubernetes_answers.outputs(
        RELEASE, "urn:x", {"chart": "flannel", "name": "flannel", "namespace": "kube-flannel",
                           "version": "v0.28.9"})
    assert identifier == "kube-flannel/flannel"
    assert state["status"] == {"name": "flannel", "namespace": "kube-flannel",
                               "chart": "flannel", "version": "v0.28.9", "revision": 1,
                               "status": "deployed"}


def test_audit_knows_releases_and_their_secrets(ha_plan: dict[str, Any]) -> None:
    from coe_provider.plan.audit import audit_plan

    assert [f for f in audit_plan(ha_plan).failures if f.policy == "secrets-marked-secret"] == []
    clear = json.loads(json.dumps(ha_plan))
    for resource in clear["resources"]:
        if resource["type"] == "kubernetes:core/v1:Secret":
            resource["inputs"]["stringData"] = {
                "cloud.conf": "[Global]\napplication-credential-secret=abc\n"}
        if resource["type"] == RELEASE and resource["name"] == "prod-tigera-operator":
            resource["inputs"]["values"]["token"] = "abcdef.0123456789abcdef"
    failures = [f.message for f in audit_plan(clear).failures
                if f.policy == "secrets-marked-secret"]
    assert any("prod-cloud-config property stringData is not marked secret" in message
               for message in failures), failures
    assert any("prod-tigera-operator has a kubeadm bootstrap token in clear in property "
               "values.token" in message for message in failures), failures


def test_plan_lists_releases_with_redacted_values(ha_plan: dict[str, Any]) -> None:
    from rich.console import Console

    from coe_provider.plan.render import plan_markdown, plan_summary

    rows = {row["resource"]: row for row in ha_plan["summary"]["releases"]}
    assert rows["prod-openstack-cinder-csi"]["repository"] == \
        "https://kubernetes.github.io/cloud-provider-openstack"
    assert rows["prod-tigera-operator"]["version"] == ADDON_TABLE["1.36"].calico.chart
    markdown = plan_markdown(ha_plan)
    assert "Helm releases (3)" in markdown and "openstack-cloud-controller-manager" in markdown
    console = Console(width=400, record=True)
    console.print(plan_summary(ha_plan))
    text = console.export_text()
    assert "Helm releases" in text and "tigera-operator" in text
    secretly = json.loads(json.dumps(ha_plan))
    secretly["summary"]["releases"][0]["values"] = {"password": "[secret]"}
    assert "[secret]" in plan_markdown(secretly)


def test_diff_names_the_release_upgrade(tmp_path: Path) -> None:
    from coe_provider.plan.render import diff_markdown

    first = plan_of(ha_stack(tmp_path / "a"))
    state = tmp_path / "state.json"
    state.write_text(json.dumps(first))
    second = plan_of(ha_stack(tmp_path / "b", labels={"cloud_provider_tag": "v1.35.0"}),
                     state=state)
    diff = diff_plans(first, second)
    assert sorted(change.name for change in diff.updates) == [
        "prod-openstack-cinder-csi", "prod-openstack-cloud-controller-manager"]
    assert "| prod-openstack-cinder-csi | values.csi.plugin.image.tag: v1.36.0 → v1.35.0; " \
        "version: 2.36.0 → 2.35.0 | Helm upgrade 2.36.0 → 2.35.0 |" in diff_markdown(diff)


def test_addons_path_program_needs_a_route(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"labels\.addons_path: program needs waitForReady"):
        plan_of(ha_stack(tmp_path, waitForReady=False, labels={"addons_path": "program"}))


def test_coe_validate_names_the_missing_chart(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from coe_provider.cli import app

    stack_file = ha_stack(tmp_path, labels={"cloud_provider_tag": "v1.31.1"})
    result = CliRunner().invoke(app, ["validate", str(stack_file)])
    assert result.exit_code != 0
    assert "cloud_provider_tag: v1.31.1 has no openstack-cloud-controller-manager chart" in \
        " ".join(result.output.split())
