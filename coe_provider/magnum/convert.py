"""Apply the mapping table to Magnum's documents and validate what it made."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coe_provider.cluster.apiroute import api_route
from coe_provider.magnum.context import Context
from coe_provider.magnum.documents import MagnumDocuments
from coe_provider.magnum.driverchoice import COE_NAMES, DriverRefused, choose_driver
from coe_provider.magnum.nodegroups import convert_nodegroup, group_name
from coe_provider.magnum.report import Outcome, Report, Status
from coe_provider.magnum.rules import (
    CLUSTER_FIELDS,
    INHERITED,
    LABELS,
    TEMPLATE_FIELDS,
    Rule,
    cloud_provider_default,
    find_rule,
)
from coe_provider.spec.errors import SpecError
from coe_provider.spec.models import ClusterTemplate
from coe_provider.spec.validation import resolve_cluster

DEFAULT_GROUP = "default-worker"
"""Magnum's worker node group, as clusters without node group documents get it."""

ENVIRONMENT_LABELS = ("openstack_auth_url",)
"""Labels whose rule depends on where the command runs (credentials), not on the import."""


@dataclass
class Imported:
    """The report and, unless the import was refused, the cluster it made."""

    report: Report
    """Every row."""

    cluster: dict[str, Any] | None = None
    """The coe-provider cluster (``driver``, ``template``, ``masterCount``, ``nodeGroups``)."""

    name: str = ""
    """The cluster's name in ``coe:clusters``."""

    warnings: list[str] = field(default_factory=list)
    """Rules that depend on the environment (credentials) rather than on the import."""


def merged_labels(template: dict[str, Any], cluster: dict[str, Any] | None
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """Labels as Magnum merged them, and where each came from.

    A cluster's ``labels`` replace the template's unless ``merge_labels`` is true (then they
    update them); ``labels_overridden`` and ``labels_added`` are applied on top, and
    ``labels_skipped`` removed, for documents that carry only the diff.
    """
    labels = dict(template.get("labels") or {})
    origin = dict.fromkeys(labels, "template")
    if cluster is None:
        return labels, origin
    own = cluster.get("labels")
    if isinstance(own, dict) and (own or "labels" in cluster):
        if not cluster.get("merge_labels"):
            labels, origin = {}, {}
        for key, value in own.items():
            labels[key] = value
            origin[key] = "cluster"
    for diff in ("labels_overridden", "labels_added"):
        for key, value in (cluster.get(diff) or {}).items():
            labels[key], origin[key] = labels.get(key, str(value)), "cluster"
    for key in cluster.get("labels_skipped") or {}:
        labels.pop(key, None)
        origin.pop(key, None)
    return labels, origin


def _apply(rule: Rule | None, value: Any, context: Context, unknown: str) -> Outcome:
    if rule is None:
        return Outcome(Status.UNSUPPORTED, note=unknown)
    try:
        return rule.apply(value, context)
    except ValueError as exc:
        return Outcome(Status.UNSUPPORTED, note=str(exc))


def import_magnum(documents: MagnumDocuments, name: str | None = None,
                  image: str | None = None) -> Imported:
    """Map a template (and cluster, node groups) to a coe-provider cluster, row by row."""
    template, cluster = documents.template, documents.cluster
    report = Report()
    try:
        choice = choose_driver(template, image)
    except DriverRefused as exc:
        report.problems.append(f"driver: {exc}")
        return Imported(report)
    report.driver = choice.driver.name
    coe = COE_NAMES[str(template["coe"])]
    fields = dict(template)
    if cluster:
        for cluster_key, template_key in INHERITED.items():
            if cluster.get(cluster_key) is not None:
                fields[template_key] = cluster[cluster_key]
    labels, origin = merged_labels(template, cluster)
    context = Context(coe=coe, driver=choice.driver.name,
                      label_model=choice.driver.cls.label_model, fields=fields, labels=labels,
                      image=image if choice.distro_changes or image else None)

    for key, value in template.items():
        overriding = next((c for c, t in INHERITED.items() if t == key), None)
        if cluster and overriding and cluster.get(overriding) is not None:
            report.add(key, "template", value, Outcome(
                Status.OVERRIDDEN, note=f"the cluster's {overriding} is used"))
            continue
        report.add(key, "template", value, _apply(
            find_rule(TEMPLATE_FIELDS, key, coe), value, context,
            "not a cluster template field coe-provider knows; check what it did"))
    if "network_driver" not in template and coe == "kubernetes":
        report.add("network_driver", "Magnum default", None,
                   _apply(find_rule(TEMPLATE_FIELDS, "network_driver", coe), "flannel",
                          context, ""))
    for key, value in (cluster or {}).items():
        if key in INHERITED:
            if value is None:
                report.add(key, "cluster", value, Outcome(Status.DEFAULT,
                                                          note="inherits the template's"))
                continue
            rule = find_rule(TEMPLATE_FIELDS, INHERITED[key], coe)
        else:
            rule = find_rule(CLUSTER_FIELDS, key, coe)
        report.add(key, "cluster", value, _apply(
            rule, value, context, "not a cluster field coe-provider knows; check what it did"))

    _label_rows(report, context, template, labels, origin)
    cluster_name = group_name(name or str((cluster or {}).get("name") or template.get("name")
                                          or "cluster"))
    result = Imported(report, name=cluster_name)
    result.cluster = _assemble(context, documents, report)
    if documents.cluster is None:
        _template_only_zone(report)
    if documents.cluster is not None:
        _gate_without_route(result)
    _validate(result)
    return result


TEMPLATE_ZONE_NOTE = ("a template has no node groups: set availabilityZone on each node "
                      "group of the clusters that use it")
"""What a template-only import says of ``availability_zone``, which reached only the masters."""


def _template_only_zone(report: Report) -> None:
    """A template file holds only ``masterAvailabilityZone``: the row says so, not more."""
    for position, row in enumerate(report.rows):
        if row.field == "labels.availability_zone" and row.outcome.status is Status.CARRIED:
            report.rows[position] = replace(row, outcome=replace(
                row.outcome, target="template.masterAvailabilityZone", note=TEMPLATE_ZONE_NOTE))


NO_ROUTE_WARNING = (
    "waitForReady: false: the Magnum cluster gives its API no floating IP and has no bastion, "
    "so pulumi up cannot ask the cluster whether it works; add template.masterLbEnabled with "
    "an external network, or template.bastion, and drop waitForReady to turn the readiness "
    "gate on")
"""Why an imported cluster is written with the readiness gate off."""


def _gate_without_route(result: Imported) -> None:
    """Magnum checked health from inside the cloud; here the gate runs where pulumi up runs,
    so a cluster with no route to its API from outside gets the gate off, said aloud."""
    assert result.cluster is not None
    try:
        template = ClusterTemplate.model_validate(result.cluster["template"])
    except ValueError:
        return  # _validate reports what is wrong with the template
    if api_route(template) is None:
        result.cluster["waitForReady"] = False
        result.warnings.append(NO_ROUTE_WARNING)


def _label_rows(report: Report, context: Context, template: dict[str, Any],
                labels: dict[str, str], origin: dict[str, str]) -> None:
    for key, value in (template.get("labels") or {}).items():
        if origin.get(key) != "template":
            now = labels.get(key)
            report.add(f"labels.{key}", "template", value, Outcome(
                Status.OVERRIDDEN, note="left out by the cluster's labels" if now is None else
                f"the cluster's value {now!r} is used"))
    ordered = [rule for rule in LABELS if rule.name in labels and context.coe in rule.coes]
    known = {rule.name for rule in ordered}
    for rule in ordered:
        report.add(f"labels.{rule.name}", origin[rule.name], labels[rule.name],
                   _apply(rule, labels[rule.name], context, ""))
    for key in labels:
        if key not in known:
            report.add(f"labels.{key}", origin[key], labels[key], Outcome(
                Status.UNSUPPORTED, note=f"not a label Magnum documents for {context.coe}; "
                                         "check what it did"))
    if context.coe == "kubernetes" and "cloud_provider_enabled" not in labels:
        enabled = cloud_provider_default(context)
        context.draft.labels["cloud_provider_enabled"] = enabled
        report.add("labels.cloud_provider_enabled", "Magnum default", None, Outcome(
            Status.CARRIED, "labels.cloud_provider_enabled", enabled,
            "Magnum's default: [trust] cluster_user_trust (false), true with volume_driver "
            "cinder"))


def _assemble(context: Context, documents: MagnumDocuments, report: Report) -> dict[str, Any]:
    draft = context.draft
    template = {**draft.template, "labels": dict(draft.labels)}
    assembled: dict[str, Any] = {"driver": context.driver, "template": template}
    cluster = documents.cluster
    if cluster is None:
        return assembled
    assembled["masterCount"] = int(cluster.get("master_count") or 1)
    if documents.nodegroups:
        original = str(documents.template.get("image_id"))
        groups = [convert_nodegroup(group, context, report, original)
                  for group in documents.nodegroups]
        assembled["nodeGroups"] = [group for group in groups if group is not None]
        assembled["masterCount"] = draft.cluster.get("masterCount", assembled["masterCount"])
        template.update({key: value for key, value in draft.template.items()
                         if key != "labels"})
    else:
        assembled["nodeGroups"] = [{"name": DEFAULT_GROUP, **draft.worker_defaults,
                                    "count": int(cluster.get("node_count") or 0)}]
    return assembled


def _validate(result: Imported) -> None:
    """Run coe-provider's own rules on what the import made (a template alone is checked
    inside a one-master cluster with one worker)."""
    if result.cluster is None:
        return
    candidate = dict(result.cluster)
    candidate.setdefault("nodeGroups", [{"name": DEFAULT_GROUP, "count": 1}])
    # A template alone leaves the readiness gate (and its route) to the clusters using it.
    candidate.setdefault("waitForReady", False)
    try:
        resolve_cluster(result.name, candidate, result.name, Path("."))
    except SpecError as error:
        for issue in error.issues:
            if issue.path.rsplit(".", 1)[-1] in ENVIRONMENT_LABELS:
                result.warnings.append(f"{issue.path}: {issue.rule}")
            else:
                result.report.problems.append(f"{issue.path}: {issue.rule}")
