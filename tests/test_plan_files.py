"""`coe diff` and `coe plan --state` on files that are not what they expect: a file that is not
a plan, plans of two different stacks, a previous plan of another stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from coe_provider.cli import app
from coe_provider.openstack.auth import keystone_url
from coe_provider.plan.state import stack_mismatch, stack_of
from tests.conftest import EXAMPLES


def coe(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(arg) for arg in args])


def plan_file(path: Path, stack: str = "dev", project: str = "proj") -> Path:
    path.write_text(json.dumps({"format": 1, "project": project, "stack": stack,
                                "resources": [], "outputs": {}, "summary": {}}))
    return path


def test_diff_of_a_file_that_is_not_a_plan_says_so(tmp_path: Path) -> None:
    good = plan_file(tmp_path / "a.json")
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config: {}\n")
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"version": 3, "deployment": {"resources": []}}))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"name": "x"}))
    hint = "make one with coe plan FILE --json PLAN.json"
    for path, words in ((stack, "not a coe plan file: not JSON"),
                        (export, "a pulumi stack export, not a coe plan file"),
                        (other, "not a coe plan file: no list of resources")):
        result = coe("diff", good, path)
        assert (result.exit_code, result.stderr) == (2, f"error: {path}: {words} ({hint})\n")


def test_diff_between_two_stacks_warns(tmp_path: Path) -> None:
    dev = plan_file(tmp_path / "dev.json", "dev")
    prod = plan_file(tmp_path / "prod.json", "prod")
    result = coe("diff", dev, prod)
    assert result.exit_code == 0
    assert result.stderr == (f"warning: {dev} is a plan of proj/dev and {prod} of proj/prod "
                             "(project/stack): the diff compares two different stacks\n")
    same = coe("diff", dev, plan_file(tmp_path / "dev2.json", "dev"))
    assert same.exit_code == 0 and "warning" not in same.stderr


def test_plan_state_of_another_stack_is_refused(tmp_path: Path) -> None:
    stack_file = EXAMPLES / "k8s-single" / "Pulumi.dev.yaml"
    state = plan_file(tmp_path / "prod-plan.json", "prod", "k8s-single")
    result = coe("plan", stack_file, "--state", state)
    assert result.exit_code == 2
    assert result.stderr == (f"error: {state} is the state of stack prod, not dev "
                             f"({stack_file}); give the previous plan (or pulumi stack export) "
                             "of this stack\n")


def test_stack_of_plans_and_exports() -> None:
    export: dict[str, Any] = {"deployment": {"resources": [
        {"urn": "urn:pulumi:prod::coe-provider::pulumi:pulumi:Stack::coe-provider-prod"}]}}
    assert stack_of(export) == ("prod", "coe-provider")
    assert stack_mismatch(export, "prod", "coe-provider") is None
    assert stack_mismatch(export, "dev", "coe-provider") == "of stack prod, not dev"
    assert stack_mismatch(export, "prod", "other") == "of project coe-provider, not other"
    assert stack_mismatch({"deployment": {}}, "dev", "x") is None


NO_URL_STACK = """\
config:
  coe:clusters:
    dev:
      driver: k8s_ubuntu
      template: {image: i, flavor: f, externalNetwork: public, floatingIpEnabled: true}
      nodeGroups: [{name: workers, count: 1}]
"""
"""A Kubernetes stack with the cloud provider on (the default) and no Keystone URL anywhere."""

PLACEHOLDER_LINE = (
    "note: no Keystone URL for the cloud provider (the openstack_auth_url label, "
    "openstack:authUrl, OS_AUTH_URL or a clouds.yaml entry): planned with the placeholder "
    "https://keystone.invalid:5000/v3; coe validate and pulumi up need the real one")


def test_offline_plan_without_keystone_url_uses_a_placeholder_and_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OS_AUTH_URL", "OS_CLOUD"):
        monkeypatch.delenv(name, raising=False)
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(NO_URL_STACK)
    planned = coe("plan", stack, "--json", tmp_path / "plan.json")
    assert planned.exit_code == 0, planned.output
    assert PLACEHOLDER_LINE in planned.stderr.splitlines()
    document = json.loads((tmp_path / "plan.json").read_text())
    assert any(r["type"] == "openstack:identity/applicationCredential:ApplicationCredential"
               for r in document["resources"])
    # validate keeps requiring the real URL, and so does the program outside coe plan.
    checked = coe("validate", stack)
    assert checked.exit_code == 1
    assert "clusters.dev.labels.openstack_auth_url: cloud_provider_enabled needs the Keystone " \
           "URL" in checked.stderr
    assert keystone_url(None) is None


def test_plan_with_a_keystone_url_says_nothing_of_a_placeholder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_AUTH_URL", "https://keystone.example.com:5000/v3")
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(NO_URL_STACK)
    planned = coe("plan", stack, "--json", tmp_path / "plan.json")
    assert planned.exit_code == 0, planned.output
    assert "placeholder" not in planned.stderr
