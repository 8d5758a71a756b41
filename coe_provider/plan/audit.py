"""Security audit of a plan: what faces outside the cluster, and coe-provider's policies.

It reads a plan document (the JSON ``coe plan`` writes), where every value Pulumi knows to be
secret is already redacted, and runs :data:`coe_provider.policy.POLICIES` over it, shaped as
the engine shows resources to a policy pack: the same rules and messages as
``pulumi preview --policy-pack policypack``. Mandatory violations fail ``--strict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from coe_provider.policy import POLICIES
from coe_provider.policy.levels import Settings, reconcile
from coe_provider.policy.plan_args import run_policies
from coe_provider.policy.secret_rules import secret_named


@dataclass(frozen=True)
class Finding:
    """One policy violation."""

    severity: str
    """``fail`` (a mandatory policy: fails ``--strict``) or ``info`` (advisory)."""

    policy: str
    """The policy that reported it."""

    resource: str
    """The resource's name (``stack`` for the stack as a whole)."""

    message: str
    """One line: the cluster, the resource, the problem and the fix."""

    def as_json(self) -> dict[str, str]:
        """JSON form."""
        return {"severity": self.severity, "policy": self.policy, "resource": self.resource,
                "message": self.message}


@dataclass
class AuditReport:
    """Everything the audit found."""

    exposure: list[dict[str, Any]] = field(default_factory=list)
    """Ingress rules by CIDR, listeners and floating IPs, as the plan summary lists them."""

    secret_inputs: list[dict[str, Any]] = field(default_factory=list)
    """Every input that carries secret material, and whether it is marked secret."""

    findings: list[Finding] = field(default_factory=list)
    """Policy violations, mandatory first."""

    @property
    def failures(self) -> list[Finding]:
        """Findings that fail ``--strict``."""
        return [f for f in self.findings if f.severity == "fail"]

    def as_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"exposure": self.exposure, "secretInputs": self.secret_inputs,
                "findings": [f.as_json() for f in self.findings]}


def secret_inputs(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input that carries secret material by its name, and whether it is marked."""
    return [{"resource": r["name"], "type": r["type"], "input": name, "marked": marked}
            for r in plan.get("resources", [])
            for name, marked in secret_named(r["type"], r.get("inputs") or {})]


def audit_plan(plan: dict[str, Any], settings: Mapping[str, Settings] | None = None) -> AuditReport:
    """Audit one plan document; ``settings`` come from the pack's config (levels, CIDRs)."""
    violations = run_policies(POLICIES, plan, settings or reconcile(POLICIES, None))
    findings = [Finding("fail" if v.failing else "info", v.policy, v.resource, v.message)
                for v in violations]
    return AuditReport(exposure=list(plan.get("summary", {}).get("exposure", [])),
                       secret_inputs=secret_inputs(plan),
                       findings=sorted(findings, key=lambda f: f.severity != "fail"))
