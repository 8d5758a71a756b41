"""`coe audit`: exposure and secret marking, strict on every example, failing on bad plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.cliio import EXIT_AUDIT
from coe_provider.plan.audit import audit_plan
from tests.conftest import EXAMPLES

STACK_FILES = sorted(p for p in EXAMPLES.glob("*/Pulumi.*.yaml") if p.name != "Pulumi.yaml")


@pytest.mark.parametrize("stack_file", STACK_FILES, ids=[p.parent.name for p in STACK_FILES])
def test_strict_audit_passes_on_every_example(stack_file: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "--strict", str(stack_file)])
    assert result.exit_code == 0, result.output


def rule(name: str, low: int, high: int, prefix: str, protocol: str = "tcp") -> dict[str, Any]:
    return {"urn": f"urn:{name}", "type": "openstack:networking/secGroupRule:SecGroupRule",
            "name": name, "parent": "", "custom": True, "dependencies": [], "options": {},
            "inputs": {"direction": "ingress", "protocol": protocol, "portRangeMin": low,
                       "portRangeMax": high, "remoteIpPrefix": prefix}}


def bad_plan() -> dict[str, Any]:
    server = {"urn": "urn:s", "type": "openstack:compute/instance:Instance", "name": "s",
              "parent": "", "custom": True, "dependencies": [], "options": {},
              "inputs": {"userData": "#cloud-config\n-----BEGIN RSA PRIVATE KEY-----\nabc"}}
    return {"resources": [rule("etcd", 2379, 2380, "0.0.0.0/0"), rule("ssh", 22, 22, "::/0"),
                          rule("gossip", 7946, 7946, "203.0.113.0/24", "udp"),
                          rule("api", 6443, 6443, "0.0.0.0/0"), server],
            "outputs": {"kubeconfig": "client-key-data: " + "A" * 40}, "summary": {}}


def test_audit_finds_internal_ports_open_ssh_and_secrets_in_clear() -> None:
    failures = {(f.policy, f.resource, f.message.split(";")[0])
                for f in audit_plan(bad_plan()).failures}
    assert failures == {
        ("internal-ports-closed", "etcd",
         "security group rule etcd opens etcd (tcp 2379-2380) to 0.0.0.0/0"),
        ("ssh-not-open-to-world", "ssh", "security group rule ssh opens SSH (tcp 22) to ::/0"),
        ("internal-ports-closed", "gossip",
         "security group rule gossip opens swarm gossip (udp) (udp 7946) to 203.0.113.0/24"),
        ("secrets-marked-secret", "s", "s property userData is not marked secret"),
        ("secrets-marked-secret", "s", "s has a private key in clear in property userData"),
        ("secrets-marked-secret", "project-stack",
         "the stack has a kubeconfig client key in clear in stack output kubeconfig"),
    }, "the API may face outside: only an advisory, not a failure"


def test_strict_audit_exits_non_zero_on_a_bad_plan(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_plan()))
    result = CliRunner().invoke(app, ["audit", "--strict", str(path)])
    assert result.exit_code == EXIT_AUDIT, result.output
    relaxed = CliRunner().invoke(app, ["audit", str(path)])
    assert relaxed.exit_code == 0, relaxed.output
