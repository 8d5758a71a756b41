"""Terminal tables of a security audit."""

from __future__ import annotations

from rich.console import Group

from coe_provider.plan.audit import AuditReport
from coe_provider.plan.render import _table


def audit_tables(report: AuditReport) -> Group:
    """Exposure, secret-bearing inputs, and policy violations, one table each."""
    exposure = _table("Reachable from outside the cluster",
                      ["kind", "resource", "protocol", "ports", "from"])
    for item in report.exposure:
        exposure.add_row(item["kind"], item["resource"], item["protocol"], item["ports"],
                         ", ".join(item["cidrs"]))
    secrets = _table("Inputs that carry secret material", ["resource", "input", "marked secret"])
    for item in report.secret_inputs:
        secrets.add_row(item["resource"], item["input"], "yes" if item["marked"] else "NO")
    findings = _table("Policy violations (coe_provider.policy, as in the policy pack)",
                      ["severity", "policy", "violation"])
    for finding in report.findings:
        findings.add_row(finding.severity, finding.policy, finding.message)
    if not report.findings:
        findings.add_row("-", "-", "none: every policy passes")
    return Group(exposure, secrets, findings)
