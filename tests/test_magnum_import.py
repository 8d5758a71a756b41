"""`coe import magnum`: Magnum's API and CLI documents -> validated coe-provider files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from coe_provider.cli import app
from coe_provider.magnum.convert import import_magnum, merged_labels
from coe_provider.magnum.documents import (
    MagnumInputError,
    parse_labels,
    read_documents,
    template_document,
)
from coe_provider.magnum.readme import END, START, render_mapping
from coe_provider.magnum.report import Status
from tests.conftest import REPO

FIXTURES = Path(__file__).resolve().parent / "magnum"
"""Documents in the shapes of Magnum's API and CLI output."""

UBUNTU = FIXTURES / "template-k8s-ubuntu.json"
FCOS = FIXTURES / "template-k8s-fcos.json"
SWARM = FIXTURES / "template-swarm.json"
CLUSTER = FIXTURES / "cluster-k8s.json"
MERGE = FIXTURES / "cluster-merge.json"
NODEGROUPS = FIXTURES / "nodegroups.json"

runner = CliRunner()


def coe(*args: str | Path) -> Result:
    """Run the command in-process."""
    return runner.invoke(app, [str(arg) for arg in args])


def report_of(*args: str | Path) -> tuple[Result, dict[str, Any]]:
    """The command run with --json and --output, and its JSON report."""
    result = coe("import", "magnum", *args, "--json")
    return result, json.loads(result.stdout)


def rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rows by ``source:field``."""
    return {f"{row['source']}:{row['field']}": row for row in report["rows"]}


def test_template_mode_accounts_for_every_field_and_label(tmp_path: Path) -> None:
    out = tmp_path / "k8s-template.yaml"
    result, report = report_of("--template", UBUNTU, "--output", out)
    assert result.exit_code == 0, result.output
    document = json.loads(UBUNTU.read_text())
    by_key = rows(report)
    for key in document:
        assert f"template:{key}" in by_key, key
    for label in document["labels"]:
        assert f"template:labels.{label}" in by_key, label
    assert by_key["template:image_id"]["target"] == "template.image"
    assert by_key["template:labels.calico_ipv4pool"]["written"] == "10.100.0.0/16"
    assert by_key["template:labels.master_lb_allowed_cidrs"]["written"] == [
        "192.0.2.0/24", "198.51.100.0/24"]
    assert by_key["template:labels.boot_volume_size"]["written"] == 20
    assert by_key["template:uuid"]["status"] == "dropped"
    assert by_key["template:labels.auto_scaling_enabled"]["status"] == "default"
    written = yaml.safe_load(out.read_text())
    assert written["image"] == "7b1f6e5a-1d2c-4e3f-8a9b-0c1d2e3f4a5b"  # IDs stay IDs
    assert written["labels"]["cni"] == "calico"
    assert written["volumeType"] == "ssd"
    assert written["masterAvailabilityZone"] == "nova"
    # The template file validates inside a cluster that uses it.
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump({"config": {"coe:clusters": {"dev": {
        "driver": report["driver"], "templateFile": out.name,
        "template": {"labels": {"cloud_provider_enabled": False}},
        # The template gives the API no floating IP: no route for the readiness gate.
        "waitForReady": False,
        "nodeGroups": [{"name": "default-worker", "count": 1}]}}}}))
    check = coe("validate", stack)
    assert check.exit_code == 0, check.output


def test_cluster_with_nodegroups_writes_a_stack_file_that_validates_and_plans(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_AUTH_URL", "https://keystone.example.com:5000/v3")
    out = tmp_path / "Pulumi.prod.yaml"
    result, report = report_of("--template", UBUNTU, "--cluster", CLUSTER,
                               "--nodegroups", NODEGROUPS, "--output", out)
    assert result.exit_code == 0, result.output
    by_key = rows(report)
    for key in json.loads(CLUSTER.read_text()):
        assert f"cluster:{key}" in by_key, key
    assert by_key["template:flavor_id"]["status"] == "overridden"
    assert by_key["cluster:flavor_id"]["written"] == "m1.large"
    assert by_key["template:labels.kube_tag"]["status"] == "overridden"
    assert by_key["cluster:labels.kube_tag"]["written"] == "v1.36.1"
    cluster = yaml.safe_load(out.read_text())["config"]["coe:clusters"]["prod-cluster"]
    assert cluster["masterCount"] == 3
    assert cluster["template"]["masterFlavor"] == "m1.xlarge"
    assert cluster["template"]["apiAllowedCidrs"] == ["192.0.2.0/24"]
    groups = {group["name"]: group for group in cluster["nodeGroups"]}
    assert groups["default-worker"] == {"name": "default-worker", "availabilityZone": "nova",
                                        "minCount": 1, "maxCount": 10, "count": 2}
    assert groups["gpu-pool"]["availabilityZone"] == "az-gpu"
    assert groups["gpu-pool"]["taints"] == ["nvidia.com/gpu=true:NoSchedule"]
    assert groups["gpu-pool"]["flavor"] == "g1.xlarge"
    assert coe("validate", out).exit_code == 0
    plan = coe("plan", out, "--json", tmp_path / "plan.json")
    assert plan.exit_code == 0, plan.output
    planned = json.loads((tmp_path / "plan.json").read_text())
    servers = [r for r in planned["resources"] if r["type"].endswith("instance:Instance")]
    assert len(servers) == 3 + 2 + 1


def test_fedora_coreos_is_refused_with_the_driver_to_move_to(tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    result = coe("import", "magnum", "--template", FCOS, "--output", out)
    assert result.exit_code == 1
    assert "move to driver k8s_ubuntu" in result.output and "--image" in result.output
    assert not out.exists()


def test_fedora_coreos_with_a_new_image_reports_what_it_cannot_carry(tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    result, report = report_of("--template", FCOS, "--image", "ubuntu-24.04", "--output", out)
    assert result.exit_code == 1
    by_key = rows(report)
    assert by_key["template:image_id"]["written"] == "ubuntu-24.04"
    assert "--image replaces" in by_key["template:image_id"]["note"]
    kube = by_key["template:labels.kube_tag"]
    assert kube["status"] == "unsupported"
    assert "predates kubeadm's v1beta4" in kube["note"] and "v1.35.8" in kube["note"]
    assert set(report["notCarried"]) == {
        "labels.kube_tag", "labels.kube_dashboard_enabled", "labels.ingress_controller"}
    assert not out.exists()
    dropped = coe("import", "magnum", "--template", FCOS, "--image", "ubuntu-24.04",
                  "--output", out, "--allow-drop")
    assert dropped.exit_code == 1 and out.exists()
    assert "kube_tag" not in yaml.safe_load(out.read_text())["labels"]


def test_swarm_template_moves_to_swarm_ubuntu(tmp_path: Path) -> None:
    out = tmp_path / "swarm.yaml"
    result, report = report_of("--template", SWARM, "--image", "ubuntu-24.04",
                               "--output", out)
    assert result.exit_code == 0, result.output
    assert report["driver"] == "swarm_ubuntu"
    by_key = rows(report)
    assert by_key["template:labels.swarm_strategy"]["status"] == "default"
    assert by_key["template:docker_storage_driver"]["status"] == "replaced"
    written = yaml.safe_load(out.read_text())
    assert written["httpProxy"] == "http://proxy.example.com:3128"
    assert written["volumeType"] == "standard"
    assert written["masterLbFloatingIpEnabled"] is False  # Magnum: floating_ip_enabled


def test_merge_labels_update_the_template_labels() -> None:
    documents = read_documents(UBUNTU, MERGE, None)
    assert documents.cluster is not None
    labels, origin = merged_labels(documents.template, documents.cluster)
    assert labels["etcd_volume_size"] == "20" and origin["etcd_volume_size"] == "cluster"
    assert labels["calico_ipv4pool"] == "10.100.0.0/16" and origin["calico_ipv4pool"] == (
        "template")
    imported = import_magnum(documents)
    assert imported.report.ok, imported.report.problems
    assert imported.cluster is not None
    assert imported.cluster["template"]["etcdVolumeSize"] == 20
    assert imported.cluster["nodeGroups"][0]["availabilityZone"] == "az2"
    replaced = dict(documents.cluster, merge_labels=False)
    labels, _ = merged_labels(documents.template, replaced)
    assert set(labels) == {"kube_tag", "etcd_volume_size", "availability_zone"}


def test_cinder_csi_cannot_be_left_out_alone() -> None:
    template = template_document(json.loads(UBUNTU.read_text()))
    template["labels"]["cinder_csi_enabled"] = "false"
    imported = import_magnum(read_documents(UBUNTU, None, None).__class__(template=template))
    [row] = [r for r in imported.report.rows if r.field == "labels.cinder_csi_enabled"]
    assert row.outcome.status is Status.UNSUPPORTED
    assert "one" in row.outcome.note or "both" in row.outcome.note


def test_unknown_labels_and_fields_block() -> None:
    template = template_document(json.loads(UBUNTU.read_text()))
    template["labels"]["my_site_label"] = "x"
    template["some_new_field"] = 1
    imported = import_magnum(read_documents(UBUNTU, None, None).__class__(template=template))
    assert {row.field for row in imported.report.blocking} == {
        "labels.my_site_label", "some_new_field"}


@pytest.mark.parametrize("text", [
    "kube_tag=v1.36.1,master_lb_allowed_cidrs=10.0.0.0/8,192.168.0.0/16",
    "{'kube_tag': 'v1.36.1', 'master_lb_allowed_cidrs': '10.0.0.0/8,192.168.0.0/16'}",
    '{"kube_tag": "v1.36.1", "master_lb_allowed_cidrs": "10.0.0.0/8,192.168.0.0/16"}',
])
def test_labels_in_every_form(text: str) -> None:
    assert parse_labels(text, "t") == {"kube_tag": "v1.36.1",
                                       "master_lb_allowed_cidrs": "10.0.0.0/8,192.168.0.0/16"}


def test_bad_documents_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "t.json"
    broken.write_text("{not json")
    result = coe("import", "magnum", "--template", broken)
    assert result.exit_code == 2 and "not JSON" in result.output
    with pytest.raises(MagnumInputError, match="no coe"):
        template_document({"image_id": "x"})


def test_readme_mapping_is_generated_from_the_rules() -> None:
    readme = (REPO / "README.md").read_text()
    section = START + readme.split(START, 1)[1].split(END, 1)[0] + END
    assert section == render_mapping(), (
        "README.md is stale: run python3 -m coe_provider.magnum.readme --write README.md")


def test_a_mirrored_magnum_template_keeps_its_prefix_and_insecure_registry() -> None:
    """Magnum's container_infra_prefix (a label) and insecure_registry (a template field)
    become the Kubernetes driver's labels of the same name."""
    template = template_document(json.loads(UBUNTU.read_text()))
    template["labels"]["container_infra_prefix"] = "registry.cloud.internal/magnum/"
    template["insecure_registry"] = "registry.cloud.internal:5000"
    imported = import_magnum(read_documents(UBUNTU, None, None).__class__(template=template))
    found = {row.field: row.outcome for row in imported.report.rows}
    assert found["labels.container_infra_prefix"].status is Status.CARRIED
    assert found["insecure_registry"].status is Status.CARRIED
    assert not imported.report.blocking
