"""coe_provider.policy: every policy fires on a bad stack and keeps quiet on every shipped
example, called the way the engine calls it (pulumi-policy args built from plans); coe audit
runs the same policies; the pack directory starts and serves them over the analyzer protocol.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from coe_provider_drivers.k8s_ubuntu.labels import version_range
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.cliio import EXIT_AUDIT, EXIT_INVALID
from coe_provider.plan.audit import audit_plan
from coe_provider.plan.stackfile import plan_stack_file
from coe_provider.policy import POLICIES
from coe_provider.policy.levels import PolicyConfigError, reconcile
from coe_provider.policy.plan_args import resource_args, run_policies, stack_args
from coe_provider.policy.secret_rules import NOT_APPLICABLE
from tests.conftest import EXAMPLES, REPO

STACK_FILES = sorted(p for p in EXAMPLES.glob("*/Pulumi.*.yaml") if p.name != "Pulumi.yaml")
BAD_STACK = Path(__file__).parent / "policy_stacks" / "Pulumi.open.yaml"
BY_NAME = {policy.name: policy for policy in POLICIES}
RULE = "openstack:networking/secGroupRule:SecGroupRule"


def plan_of(stack_file: Path) -> dict[str, Any]:
    return json.loads(plan_stack_file(stack_file).dumps())


@pytest.fixture(scope="module")
def example_plans() -> dict[str, dict[str, Any]]:
    return {f"{p.parent.name}/{p.name}": plan_of(p) for p in STACK_FILES}


@pytest.fixture(scope="module")
def single() -> dict[str, Any]:
    """The one-master example: the base every bad stack below is made from."""
    return plan_of(EXAMPLES / "k8s-single" / "Pulumi.dev.yaml")


def violations(policy_name: str, plan: dict[str, Any],
               config: dict[str, Any] | None = None) -> list[str]:
    """Call one policy's validate as the engine would, with a collecting report_violation."""
    policy = BY_NAME[policy_name]
    found: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append(message)

    if isinstance(policy, ResourceValidationPolicy):
        for record in plan["resources"]:
            policy.validate(resource_args(record, config), report_violation)
    else:
        assert isinstance(policy, StackValidationPolicy)
        policy.validate(stack_args(plan, config), report_violation)
    return found


def named(plan: dict[str, Any], name: str, type_suffix: str = "") -> dict[str, Any]:
    (record,) = [r for r in plan["resources"]
                 if r["name"] == name and r["type"].endswith(type_suffix)]
    return record


def ignore(message: str, urn: str | None = None) -> None:
    """A report_violation that drops what it is given."""


def add_rule(plan: dict[str, Any], name: str, protocol: str, low: int, high: int,
             prefix: str) -> None:
    master_group = named(plan, "dev-master-tcp-6443-from-subnet")
    rule = copy.deepcopy(master_group)
    rule["urn"] = rule["urn"].rsplit("::", 1)[0] + "::" + name
    rule["name"] = name
    rule["inputs"].update({"protocol": protocol, "portRangeMin": low, "portRangeMax": high,
                           "remoteIpPrefix": prefix, "description": "test"})
    plan["resources"].append(rule)


def test_every_policy_has_a_name_a_description_and_a_level() -> None:
    assert len(BY_NAME) == len(POLICIES)
    for policy in POLICIES:
        assert policy.name and policy.description.endswith(".")
        assert policy.enforcement_level in (EnforcementLevel.MANDATORY,
                                            EnforcementLevel.ADVISORY)
    mandatory = {p.name for p in POLICIES if p.enforcement_level is EnforcementLevel.MANDATORY}
    assert mandatory == {"internal-ports-closed", "ssh-not-open-to-world",
                         "secrets-marked-secret", "api-listener-admits-cluster-subnet"}


def test_importing_the_policies_starts_nothing() -> None:
    # PolicyPack would print a port and block: the import must return at once, silent.
    done = subprocess.run([sys.executable, "-c", "import coe_provider.policy"],
                          capture_output=True, text=True, timeout=60, cwd=REPO, check=True)
    assert done.stdout == ""


@pytest.mark.parametrize("policy", [p.name for p in POLICIES])
def test_no_policy_fires_on_any_shipped_example(
        example_plans: dict[str, dict[str, Any]], policy: str) -> None:
    for example, plan in example_plans.items():
        assert violations(policy, plan) == [], example


def test_the_bad_stack_gets_exactly_its_violations() -> None:
    plan = plan_of(BAD_STACK)
    found = {policy.name: violations(policy.name, plan) for policy in POLICIES}
    fix_ssh = ("list your operators' networks in template.sshAllowedCidrs, or reach the nodes "
               "through template.bastion")
    fix_api = "list the networks that need the API in template.apiAllowedCidrs"
    assert found == {
        "internal-ports-closed": [],
        "ssh-not-open-to-world": [
            f"cluster open: security group rule open-{role}-tcp-22-from-0.0.0.0_0 opens SSH "
            f"(tcp 22) to 0.0.0.0/0; {fix_ssh}" for role in ("master", "worker")],
        "secrets-marked-secret": [],
        "api-listener-admits-cluster-subnet": [],
        "api-not-open-to-world": [
            f"cluster open: listener open-api admits the API from 0.0.0.0/0; {fix_api}",
            "cluster open: security group rule open-master-tcp-6443-from-0.0.0.0_0 admits the "
            f"API from 0.0.0.0/0; {fix_api}"],
        "readiness-gate-present": [
            "cluster open: component open has no readiness gate, so pulumi up ends before the "
            "nodes are ready and a failed bootstrap goes unnoticed; set waitForReady: true "
            "(the default)"],
        "masters-in-server-group": [],
        "kubernetes-minor-supported": [],
    }


# One mutation of the one-master example per policy: each must make exactly its policy fire.

def _etcd_open(plan: dict[str, Any]) -> None:
    add_rule(plan, "dev-master-etcd-open", "tcp", 2379, 2380, "198.51.100.0/24")


def _ssh_open(plan: dict[str, Any]) -> None:
    add_rule(plan, "dev-master-ssh-open", "tcp", 22, 22, "::/0")


def _secret_in_clear(plan: dict[str, Any]) -> None:
    named(plan, "dev-master-0", "Instance")["inputs"]["userData"] = (
        "#cloud-config\n-----BEGIN RSA PRIVATE KEY-----\nabc")
    plan["outputs"]["leak"] = "client-key-data: " + "A" * 40


def _api_open(plan: dict[str, Any]) -> None:
    add_rule(plan, "dev-master-api-open", "tcp", 6443, 6443, "0.0.0.0/0")


def _listener_shuts_out_subnet(plan: dict[str, Any]) -> None:
    # A listener written by hand (or by an older release) that admits only an office.
    rule = named(plan, "dev-master-tcp-6443-from-subnet")
    plan["resources"].append({
        **copy.deepcopy(rule), "urn": rule["urn"].rsplit("::", 2)[0]
        + "::openstack:loadbalancer/listener:Listener::dev-api", "name": "dev-api",
        "type": "openstack:loadbalancer/listener:Listener",
        "inputs": {"protocol": "TCP", "protocolPort": 6443,
                   "allowedCidrs": ["198.51.100.0/24"]}})


def _no_gate(plan: dict[str, Any]) -> None:
    plan["resources"] = [r for r in plan["resources"] if r["name"] != "dev-ready"]


def _master_without_group(plan: dict[str, Any]) -> None:
    del named(plan, "dev-master-0", "Instance")["inputs"]["schedulerHints"]


def _old_kubernetes(plan: dict[str, Any]) -> None:
    # A cluster made when 1.34 was supported: its version is kept in state.
    named(plan, "dev", "KubernetesUbuntuCluster")["outputs"]["coeVersion"] = "v1.34.2"


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], list[str]]] = {
    "internal-ports-closed": (_etcd_open, [
        "cluster dev: security group rule dev-master-etcd-open opens etcd (tcp 2379-2380) to "
        "198.51.100.0/24; admit cluster members by remote security group, never by CIDR"]),
    "ssh-not-open-to-world": (_ssh_open, [
        "cluster dev: security group rule dev-master-ssh-open opens SSH (tcp 22) to ::/0; list "
        "your operators' networks in template.sshAllowedCidrs, or reach the nodes through "
        "template.bastion"]),
    "secrets-marked-secret": (_secret_in_clear, [
        "the stack has a kubeconfig client key in clear in stack output leak; mark it secret "
        "(pulumi.Output.secret or additional_secret_outputs)",
        "cluster dev: dev-master-0 property userData is not marked secret; mark it secret "
        "(pulumi.Output.secret or additional_secret_outputs)",
        "cluster dev: dev-master-0 has a private key in clear in property userData; mark it "
        "secret (pulumi.Output.secret or additional_secret_outputs)"]),
    "api-listener-admits-cluster-subnet": (_listener_shuts_out_subnet, [
        "cluster dev: listener dev-api admits only 198.51.100.0/24, which shuts out the "
        "cluster subnet 10.0.0.0/24: Octavia denies every other source, and the nodes reach "
        "their own API through the balancer; admit the cluster subnet in allowedCidrs "
        "(coe-provider's own listeners always do)"]),
    "api-not-open-to-world": (_api_open, [
        "cluster dev: security group rule dev-master-api-open admits the API from 0.0.0.0/0; "
        "list the networks that need the API in template.apiAllowedCidrs"]),
    "readiness-gate-present": (_no_gate, [
        "cluster dev: component dev has no readiness gate, so pulumi up ends before the nodes "
        "are ready and a failed bootstrap goes unnoticed; set waitForReady: true (the "
        "default)"]),
    "masters-in-server-group": (_master_without_group, [
        "cluster dev: master dev-master-0 is in no server group, so Nova may put several "
        "masters on one hypervisor and one host failure can take quorum; give the masters a "
        "server group with the (soft-)anti-affinity policy"]),
    "kubernetes-minor-supported": (_old_kubernetes, [
        "cluster dev: component dev runs Kubernetes v1.34.2: Kubernetes 1.34 is out of "
        "upstream support since 2026-10-27: v1.34.2 gets no more fixes; new clusters should "
        f"use a supported minor (got 'v1.34.2'; {version_range()}); plan an upgrade: set "
        "labels.kube_tag to a supported release"]),
}


def test_every_policy_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(BY_NAME)


@pytest.mark.parametrize("policy", sorted(MUTATIONS))
def test_each_policy_fires_on_its_bad_stack_and_only_it(single: dict[str, Any],
                                                        policy: str) -> None:
    assert violations(policy, single) == []  # quiet on the example it is made from
    plan = copy.deepcopy(single)
    mutate, expected = MUTATIONS[policy]
    mutate(plan)
    assert violations(policy, plan) == expected
    others = {other: violations(other, plan) for other in BY_NAME if other != policy}
    assert others == {other: [] for other in others}


def test_configured_cidrs_admit_and_restrict(single: dict[str, Any]) -> None:
    plan = copy.deepcopy(single)
    _etcd_open(plan)
    assert violations("internal-ports-closed", plan,
                      {"allowedCidrs": ["198.51.100.0/23"]}) == []
    # The example's API sources (203.0.113.0/24) are outside a team's list; the subnet is not.
    assert violations("api-not-open-to-world", single, {"allowedCidrs": ["192.0.2.0/24"]}) == [
        "cluster dev: security group rule dev-master-tcp-6443-from-203.0.113.0_24 admits the "
        "API from 203.0.113.0/24; list the networks that need the API in "
        "template.apiAllowedCidrs"]
    assert violations("api-not-open-to-world", single,
                      {"allowedCidrs": ["203.0.113.0/24"]}) == []


def test_the_engine_shape_unknowns_raise_as_in_preview(single: dict[str, Any]) -> None:
    plan = copy.deepcopy(single)
    add_rule(plan, "dev-master-unknown", "tcp", 2379, 2379, "[unknown]")
    record = named(plan, "dev-master-unknown")
    policy = BY_NAME["internal-ports-closed"]
    assert isinstance(policy, ResourceValidationPolicy)
    with pytest.raises(UnknownValueError):
        policy.validate(resource_args(record), ignore)
    # As the SDK does in preview: an advisory note from each resource policy that read it;
    # the stack policies judge every other resource.
    notes = run_policies(POLICIES, plan)
    assert [(v.policy, v.level, v.resource, v.message) for v in notes] == [
        (policy, EnforcementLevel.ADVISORY, "dev-master-unknown",
         f"can't run policy {policy}: string value at .remoteIpPrefix can't be known during "
         "preview") for policy in ("internal-ports-closed", "ssh-not-open-to-world")]


def test_secrets_policy_says_why_it_cannot_run_on_the_engine() -> None:
    # The engine's args carry secrets unwrapped and unmarked: the policy steps aside.
    policy = BY_NAME["secrets-marked-secret"]
    assert isinstance(policy, StackValidationPolicy)
    with pytest.raises(_NotApplicableError) as raised:
        policy.validate(StackValidationArgs([]), ignore)
    assert raised.value.reason == NOT_APPLICABLE


def test_config_is_reconciled_as_the_cli_does() -> None:
    settings = reconcile(POLICIES, None)
    assert settings["internal-ports-closed"].config == {"allowedCidrs": []}
    assert settings["api-not-open-to-world"].level is EnforcementLevel.ADVISORY
    settings = reconcile(POLICIES, {"all": "mandatory", "readiness-gate-present": "disabled",
                                    "api-not-open-to-world": {"allowedCidrs": ["10.0.0.0/8"]}})
    assert settings["api-not-open-to-world"].level is EnforcementLevel.MANDATORY
    assert settings["api-not-open-to-world"].config == {"allowedCidrs": ["10.0.0.0/8"]}
    assert settings["readiness-gate-present"].level is EnforcementLevel.DISABLED
    cases: list[tuple[dict[str, Any], str]] = [
        ({"nope": "advisory"}, "nope: no such policy"),
        ({"all": "loud"}, "all: must be one of advisory, mandatory, remediate, disabled"),
        ({"ssh-not-open-to-world": {"allowedCidrs": ["ten"]}},
         "ssh-not-open-to-world.allowedCidrs: 'ten' is not a CIDR"),
        ({"readiness-gate-present": {"x": 1}},
         "readiness-gate-present.x: not a property of readiness-gate-present")]
    for document, error in cases:
        with pytest.raises(PolicyConfigError, match="^" + error.replace("(", r"\(")):
            reconcile(POLICIES, document)


def test_audit_runs_the_policies_with_levels_from_the_pack_config(tmp_path: Path) -> None:
    report = audit_plan(plan_of(BAD_STACK))
    assert [(f.severity, f.policy) for f in report.findings] == [
        ("fail", "ssh-not-open-to-world"), ("fail", "ssh-not-open-to-world"),
        ("info", "api-not-open-to-world"), ("info", "api-not-open-to-world"),
        ("info", "readiness-gate-present")]
    strict = CliRunner().invoke(app, ["audit", "--strict", str(BAD_STACK)])
    assert strict.exit_code == EXIT_AUDIT
    assert strict.stderr.splitlines()[0].startswith(
        "ssh-not-open-to-world: cluster open: security group rule open-master-tcp-22-")
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"ssh-not-open-to-world": "advisory"}))
    relaxed = CliRunner().invoke(app, ["audit", "--strict", "--policy-config", str(config),
                                       str(BAD_STACK)])
    assert relaxed.exit_code == 0, relaxed.output
    config.write_text(json.dumps({"ssh-not-open-to-world": {"enforcementLevel": "loud"}}))
    broken = CliRunner().invoke(app, ["audit", "--policy-config", str(config), str(BAD_STACK)])
    assert broken.exit_code == EXIT_INVALID
    assert broken.stderr.strip() == (
        f"{config}: ssh-not-open-to-world.enforcementLevel: must be one of advisory, "
        "mandatory, remediate, disabled (got 'loud')")


# ------------------------------------------------------------------ the pack, as the engine


@pytest.fixture(scope="module")
def pack() -> Iterator[Any]:
    """policypack/__main__.py run as the engine runs it, until it prints its port."""
    process = subprocess.Popen([sys.executable, "-u", "__main__.py"], cwd=REPO / "policypack",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield proto.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def test_the_pack_starts_and_describes_every_policy(pack: Any) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "coe-provider" and info.supportsConfig
    assert [p.name for p in info.policies] == [p.name for p in POLICIES]
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert levels["internal-ports-closed"] == proto.MANDATORY
    assert levels["api-not-open-to-world"] == proto.ADVISORY
    schema = {p.name: dict(p.configSchema.properties) for p in info.policies}
    assert set(schema["api-not-open-to-world"]) == {"allowedCidrs"}


def test_the_pack_judges_a_resource_as_the_engine_sends_it(pack: Any) -> None:
    cluster = "urn:pulumi:prod::proj::pulumi:pulumi:Stack$coe:index:KubernetesUbuntuCluster::prod"
    request = proto.AnalyzeRequest(
        type=RULE, name="prod-etcd", urn=f"urn:pulumi:prod::proj::{RULE}::prod-etcd",
        properties=_struct({"direction": "ingress", "protocol": "tcp", "portRangeMin": 2379,
                            "portRangeMax": 2380, "remoteIpPrefix": "0.0.0.0/0"}),
        options=proto.AnalyzerResourceOptions(parent=cluster))
    response = pack.Analyze(request, timeout=30)
    assert [(d.policyName, d.enforcementLevel, d.message.splitlines()[-1])
            for d in response.diagnostics] == [
        ("internal-ports-closed", proto.MANDATORY,
         "cluster prod: security group rule prod-etcd opens etcd (tcp 2379-2380) to "
         "0.0.0.0/0; admit cluster members by remote security group, never by CIDR")]


def test_the_pack_judges_the_stack_as_the_engine_sends_it(pack: Any) -> None:
    stack = "urn:pulumi:prod::proj::pulumi:pulumi:Stack::proj-prod"
    cluster = "urn:pulumi:prod::proj::pulumi:pulumi:Stack$coe:index:KubernetesUbuntuCluster::prod"
    rule = f"urn:pulumi:prod::proj::coe:index:KubernetesUbuntuCluster${RULE}::prod-api"
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
              "value": "-----BEGIN RSA PRIVATE KEY-----"}
    resources = [
        proto.AnalyzerResource(type="pulumi:pulumi:Stack", name="proj-prod", urn=stack,
                               properties=_struct({"key": secret})),
        # A cluster made when 1.34 was supported, without a readiness gate.
        proto.AnalyzerResource(type="coe:index:KubernetesUbuntuCluster", name="prod", urn=cluster,
                               parent=stack, properties=_struct({"coe": "kubernetes",
                                                                 "coeVersion": "v1.34.2"})),
        proto.AnalyzerResource(type=RULE, name="prod-api", urn=rule, parent=cluster,
                               properties=_struct({"direction": "ingress", "protocol": "tcp",
                                                   "portRangeMin": 6443, "portRangeMax": 6443,
                                                   "remoteIpPrefix": "0.0.0.0/0"}))]
    response = pack.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), timeout=30)
    assert [(d.policyName, d.urn, d.message.splitlines()[-1].split(";")[0])
            for d in response.diagnostics] == [
        ("api-not-open-to-world", rule,
         "cluster prod: security group rule prod-api admits the API from 0.0.0.0/0"),
        ("readiness-gate-present", cluster,
         "cluster prod: component prod has no readiness gate, so pulumi up ends before the "
         "nodes are ready and a failed bootstrap goes unnoticed"),
        ("kubernetes-minor-supported", cluster,
         "cluster prod: component prod runs Kubernetes v1.34.2: Kubernetes 1.34 is out of "
         "upstream support since 2026-10-27: v1.34.2 gets no more fixes")]
    # The secret arrives unwrapped and unmarked: the secrets policy steps aside, saying why.
    assert [(n.policy_name, n.reason) for n in response.not_applicable] == [
        ("secrets-marked-secret", NOT_APPLICABLE)]


def test_the_readme_config_is_the_example_config_and_every_example_passes_it(
        example_plans: dict[str, dict[str, Any]]) -> None:
    config_file = EXAMPLES / "ci" / "policy-config.json"
    config = json.loads(config_file.read_text())
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Policies in CI"):]
    block = section[section.index("```json") + len("```json"):]
    assert json.loads(block[:block.index("```")]) == config
    settings = reconcile(POLICIES, config)
    assert settings["api-not-open-to-world"].level is EnforcementLevel.MANDATORY
    for example, plan in example_plans.items():
        assert audit_plan(plan, settings).findings == [], example

