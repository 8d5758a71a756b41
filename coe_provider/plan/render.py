"""Human views of plans and diffs: a rich tree and tables for the terminal, Markdown for reviews.

Everything here reads the JSON documents (``Plan.as_json()``, ``PlanDiff``), so a plan file
written earlier renders exactly like a fresh run. Plans are redacted before they get here;
nothing in this module reveals a secret.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from coe_provider.plan.diff import KINDS, PlanDiff, ResourceChange, short_value
from coe_provider.plan.releases import is_release, values_text
from coe_provider.plan.replacement import InputChange
from coe_provider.plan.secrets import REDACTED

DETAILS_AFTER = 10
"""Markdown tables with more rows than this are folded into a ``<details>`` block."""

KIND_TITLES = {"creates": "to create", "updates": "to update", "replaces": "to replace",
               "deletes": "to delete"}
"""How each change kind reads in a counts line."""

SECRET_FOOTNOTE = (
    f"secrets are redacted as `{REDACTED}` and compare equal, so a change inside one (such as "
    "a server's user_data, which forces its replacement) does not show here; "
    "`pulumi preview --diff` on the real stack shows it."
)
"""The caveat every diff report carries."""

_NATURAL = re.compile(r"(\d+)")


def short_type(token: str) -> str:
    """``openstack:compute/instance:Instance`` -> ``openstack.compute.Instance``."""
    parts = token.split(":")
    if len(parts) != 3:
        return token
    package, module, name = parts
    module = module.split("/")[0]
    return f"{package}.{name}" if module in ("index", "") else f"{package}.{module}.{name}"


def natural_key(text: str) -> list[Any]:
    """Sort key that orders ``node-2`` before ``node-10``."""
    return [int(part) if part.isdigit() else part for part in _NATURAL.split(text)]


def _label(resource: Mapping[str, Any]) -> Text:
    text = Text(str(resource["name"]), style="bold" if not resource.get("custom") else "")
    text.append(f"  {short_type(resource['type'])}", style="dim")
    if str(resource["type"]).startswith("pulumi:providers:"):
        # An explicit provider: where its resources go.
        inputs = resource.get("inputs") or {}
        where = ", ".join(f"{key} {inputs[key]}" for key in ("cloud", "region")
                          if inputs.get(key))
        text.append(f"  ({where or 'clouds.yaml / OS_*'})")
    options = resource.get("options") or {}
    providers = dict(options.get("providers") or {})
    if options.get("provider"):
        providers["provider"] = options["provider"]
    for package, urn in sorted(providers.items()):
        text.append(f"  [{package}: {str(urn).rsplit('::', 1)[-1]}]", style="cyan")
    return text


def resource_tree(plan: Mapping[str, Any], limit: int = 0) -> Tree:
    """Parent -> children tree of every resource; ``limit`` > 0 caps siblings of one type."""
    resources = list(plan.get("resources") or [])
    known = {r["urn"] for r in resources}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        parent = resource.get("parent") or ""
        children.setdefault(parent if parent in known else "", []).append(resource)
    root = Tree(Text(f"{plan.get('project', '')}/{plan.get('stack', '')}", style="bold"))

    def add(node: Tree, parent: str) -> None:
        by_type: dict[str, list[Mapping[str, Any]]] = {}
        for resource in children.get(parent, []):
            by_type.setdefault(resource["type"], []).append(resource)
        for type_token in sorted(by_type):
            members = sorted(by_type[type_token], key=lambda r: natural_key(str(r["name"])))
            shown = members[:limit] if limit else members
            for resource in shown:
                add(node.add(_label(resource)), resource["urn"])
            if len(members) > len(shown):
                node.add(Text(f"... and {len(members) - len(shown)} more "
                              f"{short_type(type_token)}", style="italic"))

    add(root, "")
    return root


def _table(title: str, columns: Sequence[str]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False)
    for column in columns:
        table.add_column(column)
    return table


def _name_of(plan: Mapping[str, Any], urn: str) -> str:
    for resource in plan.get("resources") or []:
        if resource["urn"] == urn:
            return f"{resource['name']} ({short_type(resource['type'])})"
    return urn


def unique_placeholders(summary: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """Data-source calls answered with placeholders: (token, args as JSON, times called)."""
    counted = Counter(
        (p["token"], json.dumps(p.get("args") or {}, sort_keys=True))
        for p in summary.get("placeholders") or []
    )
    return [(token, args, count) for (token, args), count in sorted(counted.items())]


def figures(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The plan's headline figures as (label, value) pairs."""
    summary = plan.get("summary") or {}
    chain = [_name_of(plan, urn) for urn in summary.get("criticalPathResources") or []]
    return [
        ("resources", str(summary.get("total", 0))),
        ("components", str(summary.get("components", 0))),
        ("worker nodes", str(summary.get("workers", 0))),
        ("resources per worker node", str(summary.get("resourcesPerWorker", 0))),
        ("critical path length", str(summary.get("criticalPath", 0))),
        ("critical path", " -> ".join(chain) or "-"),
    ]


def _figures_table(plan: Mapping[str, Any]) -> list[RenderableType]:
    rows = figures(plan)
    head = _table("Summary", ["figure", "value"])
    for label, value in rows[:-1]:
        head.add_row(label, value)
    return [head, Text(f"{rows[-1][0]}: {rows[-1][1]}")]


def plan_summary(plan: Mapping[str, Any]) -> Group:
    """Tables for the terminal: figures, counts by type, exposure, placeholders."""
    summary = plan.get("summary") or {}
    counts = _table("Resources by type", ["type", "count"])
    for type_token, count in (summary.get("countsByType") or {}).items():
        counts.add_row(short_type(type_token), str(count))
    counts.add_row(Text("total", style="bold"), Text(str(summary.get("total", 0)), style="bold"))
    parts: list[RenderableType] = [*_figures_table(plan), Text(""), counts, Text("")]
    exposure = summary.get("exposure") or []
    reach = _table("Reachable from outside the cluster",
                   ["kind", "resource", "protocol", "ports", "from"])
    for item in exposure:
        reach.add_row(item["kind"], item["resource"], item["protocol"], item["ports"],
                      ", ".join(item["cidrs"]))
    parts += [reach if exposure else Text("Nothing is reachable from outside the cluster."),
              Text("")]
    releases = summary.get("releases") or []
    if releases:
        table = _table("Helm releases", ["release", "chart", "version", "repository",
                                         "namespace", "values"])
        for row in releases:
            table.add_row(row["resource"], row["chart"], row["version"], row["repository"],
                          row["namespace"], values_text(row["values"]))
        parts += [table, Text("")]
    placeholders = unique_placeholders(summary)
    if placeholders:
        table = _table("Data-source calls answered with placeholders",
                       ["function", "arguments", "calls"])
        for token, args, count in placeholders:
            table.add_row(token, args, str(count))
        parts.append(table)
    else:
        parts.append(Text("No data-source call was answered with a placeholder."))
    return Group(*parts)


def md_escape(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """Lines of a Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]
    return lines


def folded(title: str, lines: list[str], rows: int) -> list[str]:
    """Markdown lines, inside a collapsed ``<details>`` block when there are many rows."""
    if rows <= DETAILS_AFTER:
        return [f"**{title}**", "", *lines, ""]
    return ["<details>", f"<summary><b>{md_escape(title)}</b></summary>", "", *lines, "",
            "</details>", ""]


def plan_markdown(plan: Mapping[str, Any]) -> str:
    """The plan's summary as Markdown (figures, counts, exposure, placeholders)."""
    summary = plan.get("summary") or {}
    lines = [f"### coe plan: `{plan.get('project', '')}/{plan.get('stack', '')}`", ""]
    lines += [*md_table(["figure", "value"], figures(plan)), ""]
    counts = list((summary.get("countsByType") or {}).items())
    lines += folded(f"Resources by type ({summary.get('total', 0)})",
                    md_table(["type", "count"], [(f"`{short_type(t)}`", c) for t, c in counts]),
                    len(counts))
    exposure = summary.get("exposure") or []
    lines += folded(f"Reachable from outside the cluster ({len(exposure)})", md_table(
        ["kind", "resource", "protocol", "ports", "from"],
        [(e["kind"], e["resource"], e["protocol"], e["ports"], ", ".join(e["cidrs"]))
         for e in exposure]), len(exposure))
    releases = summary.get("releases") or []
    if releases:
        lines += folded(f"Helm releases ({len(releases)})", md_table(
            ["release", "chart", "version", "repository", "namespace", "values"],
            [(r["resource"], r["chart"], r["version"], r["repository"], r["namespace"],
              f"`{values_text(r['values'])}`") for r in releases]), len(releases))
    placeholders = unique_placeholders(summary)
    lines += folded(f"Data-source calls answered with placeholders ({len(placeholders)})",
                    md_table(["function", "arguments", "calls"], placeholders),
                    len(placeholders))
    return "\n".join(lines).rstrip() + "\n"


def show_value(value: Any) -> str:
    """A changed value as a report shows it."""
    if value is None:
        return "(absent)"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def describe_change(change: InputChange) -> str:
    """``path: before → after``, or ``path: [secret] changed`` when a secret is involved."""
    if REDACTED in (change.before, change.after):
        return f"{change.path}: {REDACTED} changed"
    before, after = short_value(change.before), short_value(change.after)
    return f"{change.path}: {show_value(before)} → {show_value(after)}"


def counts_line(diff: PlanDiff) -> str:
    """``2 to create, 1 to update, 0 to replace, 0 to delete``."""
    counts = diff.counts()
    return ", ".join(f"{counts[kind]} {KIND_TITLES[kind]}"
                     for kind in ("creates", "updates", "replaces", "deletes"))


def _notes(change: ResourceChange) -> str:
    notes = []
    if is_release(change.type):
        versions = {c.path: c for c in change.changes}
        if "version" in versions:
            # The engine runs helm upgrade in place and waits for the release's workloads.
            notes.append(f"Helm upgrade {versions['version'].before} → "
                         f"{versions['version'].after}")
    if change.disruptive:
        notes.append("disrupts in place: " + ", ".join(change.disruptive))
    notes += [key for key in ("protect", "retainOnDelete", "deleteBeforeReplace")
              if change.options.get(key)]
    return "; ".join(notes)


def _rows(kind: str, changes: Sequence[ResourceChange]) -> tuple[list[str], list[list[str]]]:
    if kind in ("creates", "deletes"):
        return ["type", "name", "notes"], [
            [short_type(c.type), c.name, _notes(c)] for c in changes]
    if kind == "updates":
        return ["type", "name", "changed inputs", "notes"], [
            [short_type(c.type), c.name, "; ".join(describe_change(x) for x in c.changes),
             _notes(c)] for c in changes]
    return ["type", "name", "forces replacement", "other changes", "notes"], [
        [short_type(c.type), c.name,
         "; ".join(describe_change(x) for x in c.changes if x.path in c.replace_paths),
         "; ".join(describe_change(x) for x in c.changes if x.path not in c.replace_paths),
         _notes(c)] for c in changes]


def diff_summary(diff: PlanDiff) -> Group:
    """Tables for the terminal: a counts line, then one table per change kind."""
    parts: list[RenderableType] = [Text(counts_line(diff), style="bold")]
    if diff.is_empty():
        parts.append(Text("No resource changes."))
    for kind in ("creates", "updates", "replaces", "deletes"):
        changes = diff.of_kind(kind)
        if not changes:
            continue
        columns, rows = _rows(kind, changes)
        table = _table(f"{len(changes)} {KIND_TITLES[kind]}", columns)
        for row in rows:
            table.add_row(*row)
        parts += [Text(""), table]
    if diff.outputs:
        parts += [Text(""), Text("Stack outputs that change: " + ", ".join(diff.outputs))]
    if diff.secret_compared_by_marker:
        parts += [Text(""), Text(f"Note: {diff.secret_compared_by_marker} resources have secret "
                                 f"inputs; {SECRET_FOOTNOTE}", style="dim")]
    return Group(*parts)


def diff_markdown(diff: PlanDiff) -> str:
    """A pull-request comment: heading, counts line, a table per kind, a footnote on secrets."""
    before = f"{diff.before['project']}/{diff.before['stack']}"
    after = f"{diff.after['project']}/{diff.after['stack']}"
    title = after if before == after else f"{before} -> {after}"
    lines = [f"### coe diff: `{title}`", "", f"**{counts_line(diff)}**", ""]
    if diff.is_empty():
        lines += ["No resource changes.", ""]
    for kind in ("creates", "updates", "replaces", "deletes"):
        changes = diff.of_kind(kind)
        if changes:
            columns, rows = _rows(kind, changes)
            lines += folded(f"{len(changes)} {KIND_TITLES[kind]}", md_table(columns, rows),
                            len(rows))
    if diff.outputs:
        lines += folded(f"Stack outputs that change ({len(diff.outputs)})",
                        md_table(["output"], [[f"`{path}`"] for path in diff.outputs]),
                        len(diff.outputs))
    marker = diff.secret_compared_by_marker
    lines += [f"<sub>Note: {marker} resource{'s' if marker != 1 else ''} with secret inputs; "
              f"{SECRET_FOOTNOTE}</sub>"]
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["KINDS", "diff_markdown", "diff_summary", "plan_markdown", "plan_summary",
           "resource_tree", "short_type"]
