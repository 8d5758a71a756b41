"""The `coe` command: drivers, validate, plan and diff, with their exit codes.

Plans take seconds each, so every program run is made once per module and shared.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner, Result

from coe_provider.cli import app
from coe_provider.cluster.registry import registered_drivers
from coe_provider.plan.document import build_plan
from coe_provider.plan.render import plan_markdown, plan_summary, resource_tree
from coe_provider.plan.runner import ProgramRun
from coe_provider.plan.secrets import is_secret, reveal
from coe_provider.plan.stackfile import run_stack_file
from tests.conftest import EXAMPLES

HA_STACK = EXAMPLES / "k8s-ha" / "Pulumi.prod.yaml"
"""The example every plan test reuses."""

PEM_PRIVATE = "PRIVATE KEY-----"
"""The tail of every PEM private key header and footer."""

runner = CliRunner()


def coe(*args: str | Path) -> Result:
    """Run the command in-process."""
    return runner.invoke(app, [str(arg) for arg in args])


def example_stack_files() -> list[Path]:
    """The stack file of every example program."""
    return sorted(p for d in EXAMPLES.iterdir() if (d / "__main__.py").is_file()
                  for p in d.glob("Pulumi.*.yaml"))


@functools.cache
def planned(stack_file: Path, out_dir: Path) -> tuple[Result, str, str]:
    """`coe plan --json --markdown` of a stack file: the result, the JSON and the Markdown."""
    stem = f"{stack_file.parent.name}-{stack_file.stem}"
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    result = coe("plan", stack_file, "--json", json_path, "--markdown", md_path)
    assert result.exit_code == 0, result.output
    return result, json_path.read_text(), md_path.read_text()


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the plans of this module are written."""
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="module")
def ha_run() -> ProgramRun:
    """One run of the k8s-ha example, with its secrets still wrapped."""
    return run_stack_file(HA_STACK)


# ---------------------------------------------------------------------------------- drivers


def test_drivers_lists_every_registered_driver() -> None:
    result = coe("drivers", "--json")
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert [d["name"] for d in listed] == list(registered_drivers())
    assert set(listed[0]) == {"name", "coe", "os", "os_distros", "server_type", "version",
                              "module"}
    table = coe("drivers")
    assert table.exit_code == 0 and "k8s_ubuntu" in table.stdout


# --------------------------------------------------------------------------------- validate


def test_validate_accepts_every_example(tmp_path: Path) -> None:
    result = coe("validate", HA_STACK)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [line for line in result.stdout.splitlines()
                                          if ": OK (driver " in line]
    assert result.stdout.startswith("prod: OK (driver k8s_ubuntu")


BAD_FILES = {
    "rules.yaml": ("clusters:\n  c1:\n    driver: k8s_ubuntu\n    template: {image: i, "
                   "flavor: f, externalNetwork: public}\n    masterCount: 2\n"
                   "    nodeGroups: [{name: Bad_Name, count: 1}]\n",
                   ["clusters.c1.masterCount: must be odd for etcd quorum (got 2)",
                    "clusters.c1.nodeGroups[0].name: node group name must be lowercase"]),
    "invalid.yaml": ("clusters: [\n", ["invalid YAML"]),
    "duplicate.yaml": ("clusters: {}\nclusters: {}\n", ["duplicate key 'clusters'"]),
    "list.yaml": ("- 1\n- 2\n", ["must hold a YAML mapping (got list)"]),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_validate_reports_path_and_rule_without_traceback(tmp_path: Path, name: str) -> None:
    text, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_text(text)
    result = coe("validate", path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for fragment in expected:
        assert fragment in result.stderr
    if name == "rules.yaml":
        # Every problem in one run: the field errors and the rules that look across fields.
        lines = result.stderr.splitlines()
        assert [line.split(":", 1)[0] for line in lines] == [
            "clusters.c1.masterCount", "clusters.c1.nodeGroups[0].name",
            "clusters.c1.waitForReady", "clusters.c1.labels.openstack_auth_url"]


CLOUD_STACK = """\
config:
  openstack:cloud: {cloud}
  coe:clusters:
    dev:
      driver: k8s_ubuntu
      template: {{image: i, flavor: f, externalNetwork: public, floatingIpEnabled: true}}
      nodeGroups: [{{name: workers, count: 1}}]
"""
"""A stack whose cloud provider finds Keystone only through the stack's openstack:cloud."""


@pytest.mark.parametrize("cloud", ["mycloud", "elsewhere"])
def test_validate_reads_the_stacks_provider_settings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: str) -> None:
    for variable in ("OS_AUTH_URL", "OS_CLOUD"):
        monkeypatch.delenv(variable, raising=False)
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  mycloud:\n    auth: {auth_url: 'https://ks.example/v3'}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(CLOUD_STACK.format(cloud=cloud))
    import pulumi

    # The caller's own configuration (an earlier plan in this process may have left one).
    pulumi.runtime.set_all_config({}, [])
    result = coe("validate", stack)
    if cloud == "mycloud":
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("dev: OK (driver k8s_ubuntu")
    else:
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.stderr.startswith("clusters.dev.labels.openstack_auth_url: ")
        assert "(cloud 'elsewhere': Cloud elsewhere was not found; " in result.stderr
    # The stack's settings were the command's only: the caller's configuration is unchanged.
    assert pulumi.Config("openstack").get("cloud") is None


def test_validate_unreadable_file(tmp_path: Path) -> None:
    result = coe("validate", tmp_path / "missing.yaml")
    assert result.exit_code == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.output


# ------------------------------------------------------------------------------------- plan


@pytest.mark.parametrize("stack_file", example_stack_files(),
                         ids=lambda p: p.parent.name)
def test_plan_runs_every_example(stack_file: Path, out_dir: Path) -> None:
    result, text, markdown = planned(stack_file, out_dir)
    document = json.loads(text)
    assert document["resources"], "the example registered nothing"
    assert document["summary"]["total"] > 0
    assert markdown.startswith("### coe plan: ")
    assert "Resources by type" in result.stdout and "critical path" in result.stdout


def test_every_example_has_a_stack_file() -> None:
    programs = [d for d in EXAMPLES.iterdir() if (d / "__main__.py").is_file()]
    assert programs
    for directory in programs:
        assert list(directory.glob("Pulumi.*.yaml")), directory


def test_plan_json_is_deterministic(out_dir: Path, tmp_path: Path) -> None:
    _, first, _ = planned(HA_STACK, out_dir)
    again = tmp_path / "again.json"
    result = coe("plan", HA_STACK, "--json", again)
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == first.encode()


def test_plan_shows_tree_and_summary(out_dir: Path) -> None:
    result, _, _ = planned(HA_STACK, out_dir)
    out = result.stdout
    assert out.startswith("k8s-ha/prod\n")
    assert "prod-master-0  openstack.compute.Instance" in out
    for heading in ("Resources by type", "resources per worker node", "critical path length",
                    "Reachable from outside the cluster",
                    "Data-source calls answered with placeholders"):
        assert heading in out
    assert "203.0.113.0/24" in out  # the API listener's allowed CIDR
    assert "\x1b[" not in out  # plain text when not a terminal


def _secret_strings(value: Any, inside: bool = False) -> Iterator[str]:
    """Every string leaf of every secret in a wire-form value."""
    if is_secret(value):
        yield from _secret_strings(reveal(value), True)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_strings(item, inside)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_strings(item, inside)
    elif inside and isinstance(value, str) and len(value) >= 8:
        yield value


def test_no_secret_in_clear_in_any_plan_output(ha_run: ProgramRun, out_dir: Path) -> None:
    secrets = set(_secret_strings(ha_run.stack_outputs))
    for resource in ha_run.resources:
        secrets.update(_secret_strings(resource.inputs))
    kubeconfig = reveal(ha_run.stack_outputs["cluster:prod"])["kubeconfig"]
    assert kubeconfig in secrets and any(PEM_PRIVATE in s for s in secrets)
    plan = build_plan(ha_run)
    document = plan.as_json()
    console = Console(record=True, width=200, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(resource_tree(document), plan_summary(document))
    result, cli_json, cli_markdown = planned(HA_STACK, out_dir)
    outputs = {"json": plan.dumps(), "markdown": plan_markdown(document),
               "terminal": console.export_text(), "cli json": cli_json,
               "cli markdown": cli_markdown, "cli terminal": result.output}
    assert cli_json == plan.dumps()  # the CLI run holds the very same secrets
    for name, text in outputs.items():
        assert PEM_PRIVATE not in text, name
        leaked = [s[:20] for s in secrets if s in text]
        assert not leaked, f"{name} shows secrets {leaked}"
    assert '"[secret]"' in cli_json


def test_cluster_file_outside_a_project_runs_the_root_program(tmp_path: Path) -> None:
    shutil.copy(HA_STACK.parent / "template.yaml", tmp_path / "shared.yaml")
    cluster = tmp_path / "edge.yaml"
    cluster.write_text(yaml.safe_dump({"clusters": {"edge": {
        "driver": "k8s_ubuntu", "templateFile": "shared.yaml", "masterCount": 1,
        "template": {"masterLbEnabled": False, "labels": {"cloud_provider_enabled": False}},
        "nodeGroups": [{"name": "w", "count": 1}], "waitForReady": False}}}))
    assert coe("validate", cluster).exit_code == 0
    result = coe("plan", cluster, "--json", "-")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["project"], document["stack"]) == ("coe-provider", "edge")
    subnet = next(r for r in document["resources"]
                  if r["type"] == "openstack:networking/subnet:Subnet")
    assert subnet["inputs"]["cidr"] == "10.0.0.0/22"  # from the template file next to it


def test_plan_spec_error_exits_1_with_rules(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  coe:clusters:\n    c1:\n      driver: k8s_ubuntu\n"
                     "      template: {image: i, flavor: f, externalNetwork: public,\n"
                     "                 labels: {cloud_provider_enabled: false}}\n"
                     "      masterCount: 2\n      nodeGroups: [{name: Bad_Name, count: 1}]\n")
    result = coe("plan", stack)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("clusters.c1.masterCount: must be odd")
    assert any(line.startswith("clusters.c1.nodeGroups[0].name:")
               for line in result.stderr.splitlines())
    assert "Traceback" not in result.output


def test_plan_program_failure_exits_2_with_a_short_message(tmp_path: Path) -> None:
    program = tmp_path / "prog"
    program.mkdir()
    (program / "__main__.py").write_text("raise RuntimeError('no cloud for you')\n")
    stack = program / "Pulumi.dev.yaml"
    stack.write_text("config: {}\n")
    result = coe("plan", stack)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: the program failed: RuntimeError: no cloud for you"
    other = coe("plan", HA_STACK, "--program", program)
    assert other.exit_code == 2 and "no cloud for you" in other.stderr
    missing = coe("plan", HA_STACK, "--program", tmp_path)
    assert missing.exit_code == 2 and "no __main__.py" in missing.stderr
    no_state = coe("plan", HA_STACK, "--state", tmp_path / "none.json")
    assert no_state.exit_code == 2
    assert no_state.stderr.splitlines() == [
        f"error: cannot read {tmp_path / 'none.json'}: No such file or directory"]


# ------------------------------------------------------------------------------------- diff


def test_scaling_a_node_group_only_creates_the_new_nodes(out_dir: Path,
                                                          tmp_path: Path) -> None:
    _, base_json, _ = planned(HA_STACK, out_dir)
    copy_dir = tmp_path / "k8s-ha"
    shutil.copytree(HA_STACK.parent, copy_dir)
    stack = yaml.safe_load(HA_STACK.read_text())
    groups = stack["config"]["coe:clusters"]["prod"]["nodeGroups"]
    assert groups[0]["name"] == "default-worker" and groups[0]["count"] == 3
    groups[0]["count"] = 5
    (copy_dir / HA_STACK.name).write_text(yaml.safe_dump(stack, sort_keys=False))
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    before.write_text(base_json)
    assert coe("plan", copy_dir / HA_STACK.name, "--json", after).exit_code == 0
    result = coe("diff", before, after, "--json", "-", "--fail-on", "delete,replace")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # Only the readiness gate is updated: it checks the grown node set again.
    assert [(u["name"], sorted({c["path"].split("[")[0] for c in u["changes"]}))
            for u in document["updates"]] == [("prod-ready", ["expectedNodes", "serverIds"])]
    assert document["replaces"] == [] and document["deletes"] == []
    new_nodes = ("prod-default-worker-3", "prod-default-worker-4")
    created = {(c["type"], c["name"]) for c in document["creates"]}
    assert {name for _, name in created} <= {
        n for n in (c["name"] for c in document["creates"])
        if n in new_nodes or n.startswith(tuple(f"{node}-" for node in new_nodes))}
    for node in new_nodes:
        assert ("openstack:compute/instance:Instance", node) in created
        assert ("openstack:networking/port:Port", node) in created


def _plan_file(path: Path, resources: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"format": 1, "project": "p", "stack": "s",
                                "resources": resources, "outputs": {}, "summary": {}}))
    return path


def _port(name: str, network: str) -> dict[str, Any]:
    type_token = "openstack:networking/port:Port"
    return {"urn": f"urn:pulumi:s::p::{type_token}::{name}", "type": type_token, "name": name,
            "parent": "", "custom": True, "inputs": {"networkId": network},
            "dependencies": [], "options": {}}


def test_diff_exit_codes_follow_fail_on(tmp_path: Path) -> None:
    base = _plan_file(tmp_path / "base.json", [_port("a", "n1"), _port("b", "n1")])
    deleted = _plan_file(tmp_path / "deleted.json", [_port("a", "n1")])
    replaced = _plan_file(tmp_path / "replaced.json", [_port("a", "n2"), _port("b", "n1")])
    assert coe("diff", base, base, "--fail-on", "delete,replace").exit_code == 0
    assert coe("diff", base, deleted).exit_code == 0
    assert coe("diff", base, deleted, "--fail-on", "delete").exit_code == 3
    assert coe("diff", base, deleted, "--fail-on", "replace").exit_code == 0
    assert coe("diff", base, replaced, "--fail-on", "delete").exit_code == 0
    result = coe("diff", base, replaced, "--fail-on", "delete", "--fail-on", "replace")
    assert result.exit_code == 3 and "--fail-on replace" in result.stderr
    assert coe("diff", base, replaced, "--fail-on", "everything").exit_code == 2


def test_diff_markdown_for_a_pull_request(tmp_path: Path) -> None:
    base = _plan_file(tmp_path / "base.json", [_port("a", "n1")])
    after = _plan_file(tmp_path / "after.json", [_port("a", "n2"), _port("c", "n1")])
    result = coe("diff", base, after, "--markdown", "-")
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("### coe diff: `p/s`")
    assert "**1 to create, 0 to update, 1 to replace, 0 to delete**" in text
    assert "| openstack.networking.Port | a | networkId: n1 → n2 |" in text
    assert "[secret]" in text  # the footnote on secrets compared by marker


def test_diff_rejects_files_that_are_not_plans(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    result = coe("diff", bad, bad)
    assert result.exit_code == 2 and "not a coe plan file" in result.stderr
    assert coe("diff", tmp_path / "none.json", bad).exit_code == 2
