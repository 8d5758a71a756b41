"""Terminal tables of a security audit."""

from __future__ import annotations

from rich.console import Group

from coe_provider.plan.audit import AuditReport
from coe_provider.plan.render import _table


def audit_tables(report: AuditReport) -> Group:
    """Exposure, secret-bearing inputs, and findings, one table each."""
    exposure = _table("Reachable from outside the cluster",
                      ["kind", "resource", "protocol", "ports", "from"])
    for item in report.exposure:
        exposure.add_row(item["kind"], item["resource"], item["protocol"], item["ports"],
                         ", ".join(item["cidrs"]))
    secrets = _table("Inputs that carry secret material", ["resource", "input", "marked secret"])
    for item in report.secret_inputs:
        secrets.add_row(item["resource"], item["input"], "yes" if item["marked"] else "NO")
    findings = _table("Findings", ["severity", "resource", "finding"])
    for finding in report.findings:
        findings.add_row(finding.severity, finding.resource, finding.message)
    if not report.findings:
        findings.add_row("-", "-", "none: no internal port faces outside, no secret in clear")
    return Group(exposure, secrets, findings)
