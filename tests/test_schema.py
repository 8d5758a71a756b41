"""`coe schema`: the JSON Schema accepts what `coe validate` accepts in the examples, refuses
the shapes validation refuses, and is itself a valid Draft 2020-12 schema."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from coe_provider_drivers.k8s_ubuntu.labels import DEFAULT_KUBE_TAG
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.protocols import Validator
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.cluster.registry import registered_drivers
from coe_provider.spec.config import coe_settings_from_file, load_clusters
from coe_provider.spec.errors import SpecError
from coe_provider.spec.models import ClusterSpec, ClusterTemplate, NodeGroupSpec
from coe_provider.spec.schema import SchemaKind, build_schema, label_def_name
from tests.conftest import EXAMPLES, MINIMAL_TEMPLATE

STACK_FILES = sorted(EXAMPLES.glob("*/Pulumi.*.yaml"))


DRAFTS: list[type[Validator]] = [Draft202012Validator, Draft7Validator]
"""The declared draft, and the one editors' YAML language servers implement."""


def errors(kind: SchemaKind, document: Any,
           draft: type[Validator] = Draft202012Validator) -> list[str]:
    """Each schema error as ``path: message``."""
    return [f"{'.'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in draft(build_schema(kind)).iter_errors(document)]


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def coe_settings(stack: dict[str, Any]) -> dict[str, Any]:
    """The ``coe:`` keys of a stack document, without the prefix (a cluster file's top)."""
    return {key.split(":", 1)[1]: value for key, value in stack.get("config", {}).items()
            if key.startswith("coe:")}


def clusters_of(settings: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from (settings.get("clusters") or {}).values()
    if "cluster" in settings:
        yield settings["cluster"]


@pytest.mark.parametrize("kind", list(SchemaKind))
def test_schema_is_valid_draft_2020_12(kind: SchemaKind) -> None:
    schema = build_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft7Validator.check_schema({**schema, "$schema": "http://json-schema.org/draft-07/schema#"})


def test_examples_are_found() -> None:
    assert len(STACK_FILES) >= 5
    assert sum(1 for path in STACK_FILES if coe_settings(load(path))) >= 4


@pytest.mark.parametrize("draft", DRAFTS)
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.parent.name)
def test_every_example_stack_file_validates(path: Path, draft: type[Validator]) -> None:
    assert errors(SchemaKind.STACK, load(path), draft) == []


@pytest.mark.parametrize("draft", DRAFTS)
@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.parent.name)
def test_every_example_template_file_validates(path: Path, draft: type[Validator]) -> None:
    for cluster in clusters_of(coe_settings(load(path))):
        if "templateFile" in cluster:
            template = path.parent / cluster["templateFile"]
            assert errors(SchemaKind.TEMPLATE, load(template), draft) == [], template


@pytest.mark.parametrize("path", [p for p in STACK_FILES if coe_settings(load(p))],
                         ids=lambda p: p.parent.name)
def test_every_example_as_a_cluster_file(path: Path, tmp_path: Path) -> None:
    """The same clusters as a bare cluster file pass the schema and `coe validate`."""
    settings = coe_settings(load(path))
    assert errors(SchemaKind.CLUSTER, settings) == []
    cluster_file = tmp_path / "clusters.yaml"
    cluster_file.write_text(yaml.safe_dump(settings))
    assert load_clusters(coe_settings_from_file(cluster_file), path.parent)


# ------------------------------------------------------------ bad and good inputs


def k8s_cluster() -> dict[str, Any]:
    return {"driver": "k8s_ubuntu", "template": {**MINIMAL_TEMPLATE},
            "labels": {"cloud_provider_enabled": False}, "waitForReady": False,
            "nodeGroups": [{"name": "workers", "count": 2}]}


def swarm_cluster() -> dict[str, Any]:
    # The minimal template has no route to the API: the readiness gate is off.
    return {"driver": "swarm_ubuntu", "template": {**MINIMAL_TEMPLATE}, "waitForReady": False,
            "nodeGroups": [{"name": "workers", "count": 2}]}


def stack(**clusters: dict[str, Any]) -> dict[str, Any]:
    return {"config": {"openstack:cloud": "mycloud", "coe:clusters": clusters}}


def mutated(base: dict[str, Any], change: Any) -> dict[str, Any]:
    cluster = copy.deepcopy(base)
    change(cluster)
    return cluster


BAD_CLUSTERS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown cluster key": (
        mutated(k8s_cluster(), lambda c: c.update(nodeGroup=[])), "'nodeGroup' was unexpected"),
    "unknown template key": (
        mutated(k8s_cluster(), lambda c: c["template"].update(floatingIPEnabled=True)),
        "'floatingIPEnabled' was unexpected"),
    "masterCount of the wrong type": (
        mutated(k8s_cluster(), lambda c: c.update(masterCount="three")), "not of type 'integer'"),
    "even masterCount": (
        mutated(k8s_cluster(), lambda c: c.update(masterCount=2)), "should not be valid"),
    "k8s label on a swarm cluster": (
        mutated(swarm_cluster(), lambda c: c.update(labels={"kube_tag": "v1.2.3"})),
        "'kube_tag' was unexpected"),
    "k8s label in a swarm cluster's template": (
        mutated(swarm_cluster(), lambda c: c["template"].update(labels={"cni": "calico"})),
        "'cni' was unexpected"),
    "swarm label on a cluster found by coe: kubernetes": (
        mutated(k8s_cluster(), lambda c: (c.pop("driver"), c.update(
            coe="kubernetes", labels={"autolock": True}))), "'autolock' was unexpected"),
    "label of the wrong type": (
        mutated(swarm_cluster(), lambda c: c.update(labels={"data_path_port": "vxlan"})),
        "not of type 'integer'"),
    "unknown driver": (
        mutated(k8s_cluster(), lambda c: c.update(driver="k8s_fedora_coreos")), "is not one of"),
    "neither driver nor coe": (
        mutated(k8s_cluster(), lambda c: c.pop("driver")), "is not valid under any"),
    "no template and no templateFile": (
        mutated(k8s_cluster(), lambda c: c.pop("template")), "'template' is a required property"),
    "template without an image": (
        mutated(k8s_cluster(), lambda c: c["template"].pop("image")), "'image' is a required"),
    "bad node group name": (
        mutated(k8s_cluster(), lambda c: c["nodeGroups"][0].update(name="Big_Workers")),
        "does not match"),
}


@pytest.mark.parametrize("name", BAD_CLUSTERS)
def test_schema_refuses_what_validation_refuses(name: str, tmp_path: Path) -> None:
    cluster, expected = BAD_CLUSTERS[name]
    for draft in DRAFTS:
        found = errors(SchemaKind.STACK, stack(prod=cluster), draft)
        assert any(expected in message for message in found), (draft.__name__, found)
    with pytest.raises(SpecError):
        load_clusters({"clusters": {"prod": cluster}}, tmp_path)


def test_schema_refuses_bad_coe_settings() -> None:
    both = {"config": {"coe:clusters": {"a": k8s_cluster()},
                       "coe:cluster": {"name": "b", **k8s_cluster()}}}
    assert any("should not be valid" in m for m in errors(SchemaKind.STACK, both))
    typo = {"config": {"coe:clustres": {"a": k8s_cluster()}}}
    assert any("'coe:clustres' is not one of" in m for m in errors(SchemaKind.STACK, typo))
    assert errors(SchemaKind.CLUSTER, {"clusters": {"a": k8s_cluster()}, "extra": 1})
    assert errors(SchemaKind.CLUSTER, {})


GOOD_CLUSTERS: dict[str, dict[str, Any]] = {
    "swarm found by coe and os": mutated(swarm_cluster(), lambda c: (c.pop("driver"), c.update(
        coe="swarm", os="debian", labels={"default_addr_pool": "10.201.0.0/16"}))),
    "driver null, coe given": mutated(swarm_cluster(), lambda c: c.update(
        driver=None, coe="swarm")),
    "bastion as a mapping": mutated(k8s_cluster(), lambda c: c["template"].update(
        bastion={"flavor": "m1.small"}, sshAllowedCidrs=["192.0.2.0/24"])),
    "labels in the template and the cluster": mutated(k8s_cluster(), lambda c: c[
        "template"].update(labels={"cni": "flannel"})),
}


@pytest.mark.parametrize("name", GOOD_CLUSTERS)
def test_schema_accepts_what_validation_accepts(name: str, tmp_path: Path) -> None:
    cluster = GOOD_CLUSTERS[name]
    assert load_clusters({"clusters": {"prod": cluster}}, tmp_path)
    assert errors(SchemaKind.STACK, stack(prod=cluster)) == []
    assert errors(SchemaKind.CLUSTER, {"cluster": {"name": "prod", **cluster}}) == []


def test_partial_template_next_to_a_template_file(tmp_path: Path) -> None:
    """With templateFile, the cluster's template may hold only the fields it overrides."""
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(MINIMAL_TEMPLATE))
    cluster = {"driver": "swarm_ubuntu", "templateFile": "template.yaml",
               "template": {"flavor": "m1.large"}, "waitForReady": False}
    assert load_clusters({"clusters": {"prod": cluster}}, tmp_path)
    assert errors(SchemaKind.STACK, stack(prod=cluster)) == []
    assert errors(SchemaKind.TEMPLATE, {"flavor": "m1.large"}) == []
    mixed = {"labels": {"kube_tag": DEFAULT_KUBE_TAG, "autolock": True}}
    for draft in DRAFTS:
        assert errors(SchemaKind.TEMPLATE, mixed, draft), draft.__name__


STRUCTURAL_CORPUS = [
    "01-master-count-even", "02-master-count-zero", "03-master-count-text",
    "05-master-count-too-many", "07-missing-image", "09-missing-template",
    "23-unknown-driver", "24-unknown-coe", "25-unknown-label", "26-label-wrong-kind-bool",
    "27-label-wrong-kind-choice", "33-count-beyond-limit", "39-group-name-uppercase",
    "42-group-name-reserved", "43-group-name-missing", "45-node-groups-not-a-list",
    "46-template-not-a-mapping", "47-misspelled-field", "48-misspelled-template-field",
    "50-negative-volume", "54-bad-taint", "55-cluster-name-invalid", "61-clusters-empty",
    "64-unknown-coe-setting",
]
"""Bad-input corpus cases whose mistake is one of shape, which the schema sees too; the rest
(CIDRs, overlaps, counts against each other) need `coe validate`."""


@pytest.mark.parametrize("case", STRUCTURAL_CORPUS)
def test_schema_refuses_structural_corpus_cases(case: str) -> None:
    path = Path(__file__).parent / "corpus" / f"{case}.yaml"
    assert errors(SchemaKind.STACK, load(path)), f"{case} passes the schema"


# ------------------------------------------------------------ descriptions and defaults


def test_every_field_has_a_description_and_defaults_show() -> None:
    defs = build_schema()["$defs"]
    drivers = registered_drivers()
    for name in ["Cluster", "ClusterTemplate", "NodeGroupSpec",
                 *(label_def_name(driver) for driver in drivers)]:
        for field, schema in defs[name]["properties"].items():
            assert schema.get("description"), f"{name}.{field} has no description"
            assert "``" not in schema["description"]
    template = defs["ClusterTemplate"]["properties"]
    assert template["subnetCidr"]["default"] == ClusterTemplate.model_fields[
        "subnet_cidr"].default
    assert template["dnsNameservers"]["default"] == ClusterTemplate(
        image="i", flavor="f").dns_nameservers
    assert defs["NodeGroupSpec"]["properties"]["count"]["default"] == NodeGroupSpec.model_fields[
        "count"].default
    assert set(defs["Cluster"]["properties"]) == {
        field.alias for field in ClusterSpec.model_fields.values()} | {"templateFile"}
    for driver, info in drivers.items():
        labels = defs[label_def_name(driver)]["properties"]
        assert {n: s["default"] for n, s in labels.items()} == json.loads(
            info.cls.label_model().model_dump_json())


# ------------------------------------------------------------ the command


def test_coe_schema_prints_and_writes(tmp_path: Path) -> None:
    runner = CliRunner()
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout) == build_schema(SchemaKind.STACK)
    target = tmp_path / "coe-template.schema.json"
    written = runner.invoke(app, ["schema", "--kind", "template", "--output", str(target)])
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_text()) == build_schema(SchemaKind.TEMPLATE)
    wrong = runner.invoke(app, ["schema", "--kind", "bay"])
    assert wrong.exit_code == 2
