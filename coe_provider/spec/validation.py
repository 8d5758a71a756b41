"""Turn raw cluster descriptions (YAML, stack config, Python dicts) into checked specs.

Every rule that spans fields, the template file merge, the driver lookup and the driver's label
check live here. All problems are collected and raised together as one :class:`SpecError`,
before any resource is registered.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from coe_provider.cluster.apiroute import api_route
from coe_provider.cluster.naming import highest_index, live_indices, node_name
from coe_provider.cluster.registry import DriverInfo, DriverNotFound, find_driver, get_driver
from coe_provider.spec.errors import SpecError, SpecIssue, issues_from_pydantic, join_path
from coe_provider.spec.models import MAX_NODES, ClusterSpec, check_dns_label
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file

Model = TypeVar("Model", bound=BaseModel)

RESERVED_ADDRESSES = 10
"""Addresses a subnet keeps for the router, DHCP, load balancer and floating spares."""


@dataclass(frozen=True)
class ResolvedCluster:
    """A cluster that passed every rule, with its driver and typed labels."""

    name: str
    """Cluster name (the key in ``coe:clusters``)."""

    spec: ClusterSpec
    """The validated spec, template file merged."""

    driver: DriverInfo
    """The driver that builds it."""

    labels: BaseModel
    """The merged labels, parsed by the driver's label model."""

    warnings: tuple[SpecIssue, ...] = ()
    """Accepted settings worth a warning (a release out of upstream support, a pin outside a
    support matrix)."""


def _merge_template_file(
    raw: dict[str, Any], path: str, base_dir: Path
) -> dict[str, Any]:
    """Load ``templateFile`` and let the cluster's own template fields and labels win."""
    template_file = raw.pop("templateFile", None)
    if template_file is None:
        return raw
    file_path = join_path(path, "templateFile")
    if not isinstance(template_file, str):
        raise SpecError.single(file_path, f"must be a path to a YAML file (got {template_file!r})")
    try:
        loaded = load_yaml_file(base_dir / template_file)
    except YamlLoadError as exc:
        raise SpecError.single(file_path, str(exc)) from None
    if not isinstance(loaded, dict):
        raise SpecError.single(file_path, "the template file must hold a mapping of fields")
    own = raw.get("template") or {}
    if not isinstance(own, dict):
        raise SpecError.single(join_path(path, "template"), "must be a mapping of fields")
    merged = {**loaded, **own}
    merged["labels"] = {**(loaded.get("labels") or {}), **(own.get("labels") or {})}
    return {**raw, "template": merged}


def _checked_shape(raw: Any, path: str, base_dir: Path) -> dict[str, Any]:
    """The cluster's mapping with its template file merged, its blocks of the right kinds."""
    if not isinstance(raw, Mapping):
        raise SpecError.single(path, f"must be a mapping of cluster fields (got {raw!r})")
    data = _merge_template_file(dict(raw), path, base_dir)
    for key in ("template", "nodeGroups", "labels"):
        value = data.get(key)
        if key == "nodeGroups" and value is not None and not isinstance(value, list):
            raise SpecError.single(join_path(path, key), "must be a list of node groups")
        if key != "nodeGroups" and value is not None and not isinstance(value, Mapping):
            raise SpecError.single(join_path(path, key), "must be a mapping")
    return data


def parse_cluster_spec(raw: Any, path: str, base_dir: Path) -> ClusterSpec:
    """Parse one cluster's mapping into a :class:`ClusterSpec` (single-field rules only)."""
    spec, issues, _ = parse_cluster_partially(raw, path, base_dir)
    if issues or spec is None:
        raise SpecError(issues)
    return spec


def parse_cluster_partially(
    raw: Any, path: str, base_dir: Path
) -> tuple[ClusterSpec | None, list[SpecIssue], list[str]]:
    """Parse one cluster, going on past broken fields so later rules still run.

    Returns the spec (built with the broken fields at their defaults, None when that is not
    possible), the single-field issues, and the paths of the fields left at defaults: rules
    that run on the spec say nothing true about those.
    """
    data = _checked_shape(raw, path, base_dir)
    try:
        return ClusterSpec.model_validate(data), [], []
    except ValidationError as exc:
        issues = issues_from_pydantic(exc, path)
        spec, dropped = salvage(ClusterSpec, data, exc)
        return spec, issues, [join_path(path, *loc) for loc in dropped]


MISSING_PLACEHOLDER = "missing"
"""Stands in for a missing required text field while the other rules run."""

SALVAGE_ROUNDS = 8
"""How often :func:`salvage` re-validates: each round can uncover errors nested deeper."""


def salvage(
    model: type[Model], data: Mapping[str, Any], error: ValidationError
) -> tuple[Model | None, list[tuple[str | int, ...]]]:
    """``model`` built from ``data`` with every field pydantic refused left out (at its
    default) or, when required, filled with a placeholder; and the locations so changed.

    pydantic stops a model at its field errors, so rules that look across fields (and a
    driver's label rules) would only speak in a second run: a file with several problems
    took several rounds. None when no such model exists (a list item of the wrong kind, a
    rule on the whole model).
    """
    work = copy.deepcopy(dict(data))
    dropped: list[tuple[str | int, ...]] = []
    for _ in range(SALVAGE_ROUNDS):
        for detail in error.errors(include_url=False):
            loc = _drop(work, tuple(detail["loc"]), detail["type"] == "missing")
            if loc is None:
                return None, dropped
            if loc not in dropped:
                dropped.append(loc)
        try:
            return model.model_validate(work), dropped
        except ValidationError as again:
            error = again
    return None, dropped


def _drop(data: dict[str, Any], loc: tuple[str | int, ...],
          missing: bool) -> tuple[str | int, ...] | None:
    """Leave out (or fill in) the value at ``loc``; the location changed, or None."""
    parent: Any = data
    above: tuple[Any, Any] | None = None  # the parent's own container and key
    for depth, key in enumerate(loc):
        here = loc[:depth + 1]
        last = depth == len(loc) - 1
        if isinstance(parent, dict):
            if key not in parent:
                if missing and last:
                    parent[key] = MISSING_PLACEHOLDER
                elif not last and above is not None and isinstance(above[0], dict):
                    # A union member's name (``bastion.BastionSpec.flavor``): the value
                    # fits no member, so it goes as a whole.
                    del above[0][above[1]]
                    return loc[:depth]
                return here  # required and filled in, or left out by an earlier error
            value = parent[key]
            if last or not isinstance(value, dict | list):
                if value == MISSING_PLACEHOLDER or missing:
                    parent[key] = {}  # the model wants a mapping here, not text
                else:
                    del parent[key]
                return here
            above, parent = (parent, key), value
        elif isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
            if last or not isinstance(parent[key], dict | list):
                return None  # removing a list item would shift every later position
            above, parent = (parent, key), parent[key]
        else:
            return None
    return None


def resolve_driver(spec: ClusterSpec, path: str) -> DriverInfo:
    """The driver named by ``driver``, or the one providing ``coe`` (and ``os``)."""
    try:
        if spec.driver:
            return get_driver(spec.driver)
        if spec.coe:
            return find_driver(spec.coe, spec.os)
    except DriverNotFound as exc:
        field = "driver" if spec.driver else "coe"
        raise SpecError.single(join_path(path, field), str(exc)) from None
    raise SpecError.single(join_path(path, "driver"), "name a driver, or give coe (and os)")


def cross_field_issues(name: str, spec: ClusterSpec, path: str) -> list[SpecIssue]:
    """Rules that involve several fields of one cluster."""
    issues: list[SpecIssue] = []
    template = spec.template
    template_path = join_path(path, "template")
    if spec.master_count > 1 and not template.master_lb_enabled:
        issues.append(SpecIssue(
            join_path(template_path, "masterLbEnabled"),
            f"must be true when masterCount > 1 (masterCount is {spec.master_count}): "
            "the API needs one address in front of all masters",
        ))
    if template.fixed_subnet and not template.fixed_network:
        issues.append(SpecIssue(
            join_path(template_path, "fixedSubnet"), "requires fixedNetwork"))
    if not template.fixed_network and not template.external_network:
        issues.append(SpecIssue(
            join_path(template_path, "externalNetwork"),
            "required with a managed network: the router's gateway lets nodes reach "
            "package mirrors during bootstrap",
        ))
    if template.floating_ip_enabled and not template.external_network:
        issues.append(SpecIssue(
            join_path(template_path, "externalNetwork"),
            "required when floatingIpEnabled is true (the floating IP pool)",
        ))
    if template.master_lb_floating_ip_enabled and not template.external_network:
        issues.append(SpecIssue(
            join_path(template_path, "externalNetwork"),
            "required when masterLbFloatingIpEnabled is true (the floating IP pool)",
        ))
    issues += _scaling_issues(spec, path)
    seen: dict[str, int] = {}
    total = spec.master_count
    for position, group in enumerate(spec.node_groups):
        group_path = join_path(path, "nodeGroups", position)
        if group.name in seen:
            issues.append(SpecIssue(
                join_path(group_path, "name"),
                f"duplicate node group name {group.name!r} (also nodeGroups[{seen[group.name]}])",
            ))
        seen.setdefault(group.name, position)
        if group.count < group.min_count:
            issues.append(SpecIssue(join_path(group_path, "count"),
                                    f"must be >= minCount {group.min_count} (got {group.count})"))
        if group.max_count is not None and group.count > group.max_count:
            issues.append(SpecIssue(join_path(group_path, "count"),
                                    f"must be <= maxCount {group.max_count} (got {group.count})"))
        if group.max_count is not None and group.min_count > group.max_count:
            issues.append(SpecIssue(
                join_path(group_path, "minCount"),
                f"must be <= maxCount {group.max_count} (got {group.min_count})"))
        longest = node_name(name, group.name, max(highest_index(group.count, group.remove), 0))
        if len(longest) > 63:
            issues.append(SpecIssue(
                join_path(group_path, "name"),
                f"node names must fit a 63-character hostname ({longest!r} has {len(longest)})"))
        total += group.count
    if total > MAX_NODES:
        issues.append(SpecIssue(
            join_path(path, "nodeGroups"),
            f"a cluster holds at most {MAX_NODES} nodes, masters included (got {total})"))
    if not template.fixed_network:
        network = ipaddress.ip_network(template.subnet_cidr)
        usable = network.num_addresses - 3 - RESERVED_ADDRESSES
        if total > usable:
            issues.append(SpecIssue(
                join_path(template_path, "subnetCidr"),
                f"too small for {total} nodes ({template.subnet_cidr} leaves {max(usable, 0)} "
                "addresses); choose a larger prefix"))
    return issues


def _scaling_issues(spec: ClusterSpec, path: str) -> list[SpecIssue]:
    """Replacement lists name live nodes; drains and bastions need an SSH path, the
    readiness gate a route to the API."""
    issues: list[SpecIssue] = []
    template = spec.template
    template_path = join_path(path, "template")
    stray = sorted(set(spec.master_replace) - set(live_indices(spec.master_count)))
    if stray:
        issues.append(SpecIssue(join_path(path, "masterReplace"),
                                f"names masters that do not exist: {stray}"))
    for position, group in enumerate(spec.node_groups):
        live = set(live_indices(group.count, group.remove))
        stray = sorted(set(group.replace) - live)
        if stray:
            issues.append(SpecIssue(
                join_path(path, "nodeGroups", position, "replace"),
                f"names nodes that are not live in group {group.name!r}: {stray} "
                f"(live: {sorted(live)})"))
    if template.bastion and not template.ssh_allowed_cidrs:
        issues.append(SpecIssue(
            join_path(template_path, "sshAllowedCidrs"),
            "required with a bastion: the CIDRs SSH to the bastion may come from"))
    if template.bastion and not template.external_network:
        issues.append(SpecIssue(join_path(template_path, "externalNetwork"),
                                "required with a bastion (its floating IP pool)"))
    masters_reachable = template.floating_ip_enabled and bool(template.ssh_allowed_cidrs)
    if spec.drain_on_delete and not (template.bastion or masters_reachable):
        issues.append(SpecIssue(
            join_path(path, "drainOnDelete"),
            "needs an SSH path from where pulumi up runs to the masters: set template.bastion, "
            "or template.floatingIpEnabled with template.sshAllowedCidrs"))
    if spec.wait_for_ready and api_route(template) is None:
        issues.append(SpecIssue(
            join_path(path, "waitForReady"),
            "the readiness gate needs a route to the API from where pulumi up runs: a "
            "floating IP for the API (template.externalNetwork with masterLbEnabled, or "
            "floatingIpEnabled without a load balancer) or template.bastion; or set "
            "waitForReady: false to skip the wait"))
    return issues


def label_issues(
    spec: ClusterSpec, driver: DriverInfo, path: str
) -> tuple[BaseModel | None, list[SpecIssue]]:
    """Parse the merged labels with the driver's label model, then its own cross checks
    (which still run when some labels are broken: on the others, at their defaults)."""
    labels = spec.merged_labels
    model = driver.cls.label_model
    labels_path = join_path(path, "labels")
    try:
        return _checked_labels(model.model_validate(labels), spec, driver, labels_path, [])
    except ValidationError as exc:
        issues: list[SpecIssue] = []
        known = ", ".join(sorted(model.model_fields))
        for issue in issues_from_pydantic(exc, labels_path):
            if issue.rule.startswith("unknown field"):
                issue = SpecIssue(issue.path, f"unknown label for driver {driver.name} "
                                              f"(known labels: {known})")
            issues.append(issue)
        partial, dropped = salvage(model, labels, exc)
        if partial is not None:
            unsure = [join_path(labels_path, *loc) for loc in dropped]
            issues += _checked_labels(partial, spec, driver, labels_path, unsure)[1]
        return None, issues


def _checked_labels(parsed: BaseModel, spec: ClusterSpec, driver: DriverInfo,
                    labels_path: str, unsure: list[str]) -> tuple[BaseModel, list[SpecIssue]]:
    issues = [SpecIssue(join_path(labels_path, field), message)
              for field, message in driver.cls.check_labels(parsed, spec)]
    return parsed, _not_under(issues, unsure)


def _not_under(issues: list[SpecIssue], unsure: list[str]) -> list[SpecIssue]:
    """``issues`` less those about fields that were broken and stood in for by defaults."""
    def under(issue: SpecIssue) -> bool:
        return any(issue.path == top or issue.path.startswith((f"{top}.", f"{top}["))
                   for top in unsure)
    return [issue for issue in issues if not under(issue)]


def check_cluster(
    name: str, spec: ClusterSpec, path: str, driver: DriverInfo | None = None,
    parse_issues: list[SpecIssue] | None = None, unsure: list[str] | None = None,
) -> ResolvedCluster:
    """Run every rule on a parsed spec; raise one :class:`SpecError` listing all problems.

    ``parse_issues`` are the single-field problems found while parsing (the spec then holds
    defaults at ``unsure`` paths, about which the rules here stay silent).
    """
    issues: list[SpecIssue] = list(parse_issues or [])
    unsure = unsure or []
    try:
        check_dns_label(name, "cluster name")
    except Exception as exc:  # PydanticCustomError carries the rule text
        issues.append(SpecIssue(path, str(exc)))
    issues += _not_under(cross_field_issues(name, spec, path), unsure)
    if driver is None:
        try:
            driver = resolve_driver(spec, path)
        except SpecError as exc:
            raise SpecError([*issues, *_not_under(list(exc.issues), unsure)]) from None
    labels, more = label_issues(spec, driver, path)
    issues += _not_under(more, unsure)
    issues += _not_under([SpecIssue(join_path(path, *parts), message)
                          for parts, message in driver.cls.check_spec(spec)], unsure)
    if issues or labels is None:
        raise SpecError(issues)
    warnings = tuple(SpecIssue(join_path(path, "labels", label), message)
                     for label, message in driver.cls.label_warnings(labels))
    return ResolvedCluster(name=name, spec=spec, driver=driver, labels=labels, warnings=warnings)


def resolve_cluster(name: str, raw: Any, path: str, base_dir: Path,
                    driver: DriverInfo | None = None) -> ResolvedCluster:
    """Parse and check one cluster; one :class:`SpecError` lists every problem at once."""
    spec, issues, unsure = parse_cluster_partially(raw, path, base_dir)
    if spec is None:
        raise SpecError(issues)
    return check_cluster(name, spec, path, driver, issues, unsure)


def resolve_clusters(config: Any, base_dir: Path, prefix: str = "") -> dict[str, ResolvedCluster]:
    """Every cluster of a ``coe`` configuration namespace (``clusters`` map or ``cluster``)."""
    if not isinstance(config, Mapping):
        raise SpecError.single(prefix, "the coe configuration must be a mapping")
    unknown = sorted(set(config) - {"clusters", "cluster"})
    if unknown:
        raise SpecError([SpecIssue(join_path(prefix, key),
                                   "unknown setting (expected clusters or cluster)")
                         for key in unknown])
    if "clusters" in config and "cluster" in config:
        raise SpecError.single(join_path(prefix, "cluster"),
                               "give either clusters (a map) or cluster (one), not both")
    if "cluster" in config:
        single = config["cluster"]
        name = single.get("name") if isinstance(single, Mapping) else None
        if not isinstance(name, str):
            raise SpecError.single(join_path(prefix, "cluster.name"),
                                   "the one-cluster shorthand needs a name")
        raw_clusters: Any = {name: {k: v for k, v in single.items() if k != "name"}}
        base_path = join_path(prefix, "cluster")
    elif "clusters" in config:
        raw_clusters = config["clusters"]
        base_path = join_path(prefix, "clusters")
        if not isinstance(raw_clusters, Mapping) or not raw_clusters:
            raise SpecError.single(base_path, "must be a non-empty map of name -> cluster")
    else:
        raise SpecError.single(join_path(prefix, "clusters"),
                               "no clusters configured: set coe:clusters (or coe:cluster)")
    resolved: dict[str, ResolvedCluster] = {}
    issues: list[SpecIssue] = []
    for name, raw in raw_clusters.items():
        path = base_path if "cluster" in config else join_path(base_path, str(name))
        try:
            resolved[str(name)] = resolve_cluster(str(name), raw, path, base_dir)
        except SpecError as exc:
            issues += exc.issues
    if issues:
        raise SpecError(issues)
    return resolved


__all__ = ["ResolvedCluster", "check_cluster", "parse_cluster_spec", "resolve_cluster",
           "resolve_clusters"]
