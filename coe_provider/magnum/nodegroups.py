"""Magnum node groups -> ``masterCount`` and ``nodeGroups``."""

from __future__ import annotations

import re
from typing import Any

from coe_provider.magnum.context import Context, as_int
from coe_provider.magnum.report import Outcome, Report, Status

NODEGROUP_FIELDS: dict[str, str] = {
    "name": "`nodeGroups[].name` (lower-cased, `_` and `.` become `-`)",
    "role": "`master` -> `masterCount` and `template.masterFlavor`; others -> `nodeGroups[]`",
    "node_count": "`nodeGroups[].count` (`masterCount` for the master role)",
    "min_node_count": "`nodeGroups[].minCount`",
    "max_node_count": "`nodeGroups[].maxCount`",
    "flavor_id": "`nodeGroups[].flavor` when it differs from the template's",
    "image_id": "`nodeGroups[].image` when it differs from the template's",
    "docker_volume_size": "not supported when it differs from the cluster's (one size)",
    "labels": "`availability_zone` -> `nodeGroups[].availabilityZone`; other labels that "
              "differ from the cluster's are not supported (labels are per cluster)",
    "node_labels": "`nodeGroups[].labels` (Kubernetes node labels)",
    "node_taints": "`nodeGroups[].taints`",
    "is_default": "dropped: groups keep their names",
}
"""What each node group field becomes (the README shows this table too)."""

NODEGROUP_STATE = ("id", "uuid", "cluster_id", "project_id", "stack_id", "status",
                   "status_reason", "node_addresses", "links", "created_at", "updated_at",
                   "version", "labels_overridden", "labels_added", "labels_skipped",
                   "merge_labels")
"""Node group fields that record state, not configuration."""


def group_name(name: str) -> str:
    """A Magnum name (``[a-zA-Z][a-zA-Z0-9_.-]*``) as an RFC 1123 label."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63] or "group"


def _taints(value: Any) -> list[str]:
    taints: list[str] = []
    for item in value or []:
        if isinstance(item, dict):
            key, effect = item.get("key", ""), item.get("effect", "")
            text = f"{key}={item['value']}" if item.get("value") else str(key)
            taints.append(f"{text}:{effect}")
        else:
            taints.append(str(item))
    return taints


def convert_nodegroup(group: dict[str, Any], context: Context, report: Report,
                      original_image: str) -> dict[str, Any] | None:
    """One node group's rows; its ``nodeGroups[]`` entry (None for the masters)."""
    name = str(group["name"])
    source = f"nodegroup {name}"
    master = group.get("role") == "master"
    template = context.draft.template
    entry: dict[str, Any] = {"name": group_name(name), **context.draft.worker_defaults}
    entry["count"] = as_int(group.get("node_count"))

    def row(key: str, outcome: Outcome) -> None:
        report.add(f"nodegroups[{name}].{key}", source, group.get(key), outcome)

    for key, value in group.items():
        if key in NODEGROUP_STATE:
            row(key, Outcome(Status.DROPPED, note="Magnum's record of the node group"))
        elif key == "name":
            row(key, Outcome(Status.DROPPED, note="the masters have no group name") if master
                else Outcome(Status.CARRIED, "nodeGroups[].name", entry["name"]))
        elif key == "role":
            row(key, Outcome(Status.CARRIED, "masters" if master else "nodeGroups[]", value))
        elif key == "node_count":
            if master:
                context.draft.cluster["masterCount"] = entry["count"]
            row(key, Outcome(Status.CARRIED, "masterCount" if master else
                             f"nodeGroups[{entry['name']}].count", entry["count"]))
        elif key in ("min_node_count", "max_node_count"):
            row(key, _bound(key, value, entry, master))
        elif key == "flavor_id":
            row(key, _override(value, "masterFlavor" if master else "flavor", template, entry,
                               master))
        elif key == "image_id":
            image = template.get("image") if value == original_image else value
            row(key, _override(image, "image", template, entry, master))
        elif key == "docker_volume_size":
            same = as_int(value) == as_int(template.get("dockerVolumeSize"))
            row(key, Outcome(Status.SAME, note="the cluster's size") if same else Outcome(
                Status.UNSUPPORTED, note="one dockerVolumeSize serves every node"))
        elif key == "labels":
            _labels(value or {}, context, entry, master, report, source, name)
        elif key == "node_labels" and value:
            entry["labels"] = {str(k): str(v) for k, v in value.items()}
            row(key, Outcome(Status.CARRIED, "nodeGroups[].labels", entry["labels"]))
        elif key == "node_taints" and value:
            entry["taints"] = _taints(value)
            row(key, Outcome(Status.CARRIED, "nodeGroups[].taints", entry["taints"]))
        elif key in ("node_labels", "node_taints", "is_default"):
            row(key, Outcome(Status.DROPPED, note="empty" if key != "is_default" else
                             "groups keep their names"))
        else:
            row(key, Outcome(Status.UNSUPPORTED, note="not a node group field coe-provider "
                                                      "knows; check what it did"))
    return None if master else entry


def _bound(key: str, value: Any, entry: dict[str, Any], master: bool) -> Outcome:
    target = "minCount" if key == "min_node_count" else "maxCount"
    if master:
        return Outcome(Status.DROPPED, note="masters have a fixed count")
    if value is None:
        entry.pop(target, None)
        return Outcome(Status.DEFAULT, note="unbounded")
    entry[target] = as_int(value)
    return Outcome(Status.CARRIED, f"nodeGroups[{entry['name']}].{target}", entry[target])


def _override(value: Any, key: str, template: dict[str, Any], entry: dict[str, Any],
              master: bool) -> Outcome:
    if value is None or value == template.get(key):
        return Outcome(Status.SAME, note=f"the template's {key}")
    if master:
        template[key] = value
        return Outcome(Status.CARRIED, f"template.{key}", value)
    entry[key] = value
    return Outcome(Status.CARRIED, f"nodeGroups[{entry['name']}].{key}", value)


def _labels(labels: dict[str, str], context: Context, entry: dict[str, Any], master: bool,
            report: Report, source: str, name: str) -> None:
    same = 0
    for key, value in labels.items():
        field = f"nodegroups[{name}].labels.{key}"
        if context.labels.get(key) == value:
            same += 1
        elif key == "availability_zone" and not master:
            entry["availabilityZone"] = value
            report.add(field, source, value, Outcome(
                Status.CARRIED, f"nodeGroups[{entry['name']}].availabilityZone", value))
        elif key in ("min_node_count", "max_node_count"):
            report.add(field, source, value, Outcome(
                Status.DROPPED, note="the node group's own count fields win"))
        else:
            report.add(field, source, value, Outcome(
                Status.UNSUPPORTED, note="coe-provider takes Magnum labels per cluster, not "
                                         f"per node group (the cluster has "
                                         f"{context.labels.get(key)!r})"))
    if same:
        report.add(f"nodegroups[{name}].labels", source, f"{same} labels", Outcome(
            Status.SAME, note="the same as the cluster's"))
