"""JSON Schema of the files ``coe validate`` reads, for editors and CI.

Generated from the spec models (camelCase, as YAML spells them) and from the label model of
every registered driver, so it follows the code: a field added to a model or a driver
installed from another package shows up in the next ``coe schema``. Three kinds of file:

* ``stack``: a whole ``Pulumi.<stack>.yaml`` (``config`` with ``coe:clusters`` or the
  one-cluster ``coe:cluster``; other keys such as ``openstack:cloud`` are left alone);
* ``cluster``: a bare cluster file with ``clusters:`` (or ``cluster:``) at the top;
* ``template``: a ``templateFile``, a partial cluster template.

The schema checks shapes (unknown keys, types, ranges, choices, which labels a driver
knows); rules across fields and values such as CIDRs stay with ``coe validate``. It declares
Draft 2020-12 but uses only keywords that draft-07 validators read the same way (editors' YAML
language servers are draft-07 based), with references into ``$defs`` by JSON pointer.
"""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema
from pydantic_core import core_schema

from coe_provider.cluster.registry import DriverInfo, registered_drivers
from coe_provider.spec.config import NAMESPACE
from coe_provider.spec.models import DNS_LABEL_PATTERN, ClusterSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every generated schema."""

DEFS = "#/$defs/"
"""Prefix of every reference inside a generated schema."""


class SchemaKind(StrEnum):
    """Which file a schema describes."""

    STACK = "stack"
    """A ``Pulumi.<stack>.yaml``."""

    CLUSTER = "cluster"
    """A cluster file: ``clusters:`` (or ``cluster:``) at the top."""

    TEMPLATE = "template"
    """A ``templateFile``: cluster template fields, any of them."""


class _FactoryDefaults(GenerateJsonSchema):
    """Shows the defaults that ``default_factory`` builds (lists, mappings), as pydantic
    already shows plain defaults, so that an editor's hover names every default."""

    def get_default_value(self, schema: core_schema.WithDefaultSchema) -> Any:
        factory = schema.get("default_factory")
        if factory is not None and not schema.get("default_factory_takes_data"):
            return factory()  # type: ignore[call-arg]
        return super().get_default_value(schema)


def _tidy(node: Any) -> Any:
    """Drop the titles pydantic makes up from field names; turn reST ``code`` into Markdown
    `code` and docstrings' line breaks into spaces, for editors' hovers."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    tidy = {key: _tidy(value) for key, value in node.items()}
    if "properties" in tidy:
        tidy["properties"] = {name: {k: v for k, v in field.items() if k != "title"}
                              for name, field in tidy["properties"].items()}
    if isinstance(tidy.get("description"), str):
        tidy["description"] = " ".join(tidy["description"].replace("``", "`").split())
    return tidy


def _ref(name: str) -> dict[str, str]:
    return {"$ref": DEFS + name}


def _one_or_any(names: list[str]) -> dict[str, Any]:
    """A reference to one definition, or ``anyOf`` references to several."""
    return _ref(names[0]) if len(names) == 1 else {"anyOf": [_ref(name) for name in names]}


def _spec_defs() -> dict[str, Any]:
    """The spec models' definitions by model name (ClusterSpec, ClusterTemplate, ...)."""
    _, document = models_json_schema([(ClusterSpec, "validation")], by_alias=True,
                                     ref_template=DEFS + "{model}",
                                     schema_generator=_FactoryDefaults)
    defs: dict[str, Any] = document["$defs"]
    return defs


def label_def_name(driver: str) -> str:
    """The definition name of a driver's labels in the generated schema."""
    return f"labels.{driver}"


def _label_defs(drivers: dict[str, DriverInfo]) -> dict[str, Any]:
    """Each driver's label model, with any models nested in it kept under its own prefix so
    that two drivers' models of the same name cannot collide."""
    defs: dict[str, Any] = {}
    for name, info in drivers.items():
        prefix = label_def_name(name)
        model: type[BaseModel] = info.cls.label_model
        labels = model.model_json_schema(by_alias=True, ref_template=f"{DEFS}{prefix}.{{model}}",
                                         schema_generator=_FactoryDefaults)
        for nested, schema in labels.pop("$defs", {}).items():
            defs[f"{prefix}.{nested}"] = schema
        summary = str(labels.get("description") or f"Labels of {name}").rstrip(".")
        labels["description"] = f"{summary} ({info.coe} on {' or '.join(info.os_distros)})."
        defs[prefix] = labels
    return defs


def _labels_everywhere(labels: dict[str, Any]) -> dict[str, Any]:
    """A cluster's own labels and its template's labels both follow ``labels``: the driver
    checks them merged, and every label has a default, so each part alone must fit too."""
    return {"properties": {"labels": labels, "template": {"properties": {"labels": labels}}}}


def _driver_rules(drivers: dict[str, DriverInfo]) -> list[dict[str, Any]]:
    """Labels chosen by the cluster's driver.

    A cluster named by ``driver`` gets exactly that driver's labels. A cluster found by
    ``coe`` (and ``os``) gets the labels of the drivers that provide that ``coe``: with one
    such driver (today's case) that is exact; with several, the labels of any of them pass
    here, and ``coe validate``, which resolves ``os`` to one driver, has the last word. A
    driver name or ``coe`` nobody provides is refused by the ``enum`` of those fields.
    """
    rules: list[dict[str, Any]] = []
    for name in drivers:
        rules.append({
            "if": {"required": ["driver"], "properties": {"driver": {"const": name}}},
            "then": _labels_everywhere(_ref(label_def_name(name))),
        })
    by_coe: dict[str, list[str]] = {}
    for name, info in drivers.items():
        by_coe.setdefault(info.coe, []).append(label_def_name(name))
    for coe, names in by_coe.items():
        rules.append({
            "if": {"required": ["coe"],
                   "properties": {"driver": {"type": "null"}, "coe": {"const": coe}}},
            "then": _labels_everywhere(_one_or_any(names)),
        })
    return rules


def _choice(field: dict[str, Any], values: list[str]) -> dict[str, Any]:
    """``field`` (an optional string) restricted to ``values`` or null."""
    kept = {key: value for key, value in field.items() if key not in ("anyOf", "type")}
    return {**kept, "enum": [*values, None]}


def _cluster_def(defs: dict[str, Any], drivers: dict[str, DriverInfo]) -> dict[str, Any]:
    """ClusterSpec as YAML writes it: ``templateFile`` allowed, and then ``template`` and its
    required fields optional, since the file holds them (see ``_merge_template_file``)."""
    cluster = copy.deepcopy(defs["ClusterSpec"])
    properties = cluster["properties"]
    properties["templateFile"] = {
        "type": "string",
        "description": "Path (relative to this file) of a YAML cluster template; the "
                       "cluster's own `template` fields override it and labels merge, "
                       "cluster over template.",
    }
    properties["driver"] = _choice(properties["driver"], list(drivers))
    properties["coe"] = _choice(properties["coe"], sorted({i.coe for i in drivers.values()}))
    properties["os"] = _choice(properties["os"],
                               sorted({os for i in drivers.values() for os in i.os_distros}))
    template_required = defs["ClusterTemplate"].get("required", [])
    cluster["required"] = [name for name in cluster.get("required", []) if name != "template"]
    if not cluster["required"]:
        del cluster["required"]
    cluster["allOf"] = [
        {"if": {"not": {"required": ["templateFile"]}},
         "then": {"required": ["template"],
                  "properties": {"template": {"required": template_required}}}},
        {"anyOf": [{"required": ["driver"], "properties": {"driver": {"type": "string"}}},
                   {"required": ["coe"], "properties": {"coe": {"type": "string"}}}]},
        *_driver_rules(drivers),
    ]
    return cluster


def _named_cluster_def(cluster: dict[str, Any]) -> dict[str, Any]:
    """The one-cluster shorthand: a cluster with its ``name``."""
    named = copy.deepcopy(cluster)
    named["properties"] = {
        "name": {"type": "string", "pattern": DNS_LABEL_PATTERN, "maxLength": 63,
                 "description": "Cluster name: part of every resource name and hostname."},
        **named["properties"],
    }
    named["required"] = ["name", *named.get("required", [])]
    named["description"] = "One cluster, named by `name` (the shorthand of `clusters`)."
    return named


def _definitions() -> dict[str, Any]:
    """Every definition the three kinds share."""
    drivers = registered_drivers()
    defs = _spec_defs()
    defs.update(_label_defs(drivers))
    cluster = _cluster_def(defs, drivers)
    # A template file, or a cluster's template next to a templateFile, may hold any subset.
    defs["ClusterTemplate"].pop("required", None)
    defs["ClusterTemplate"]["description"] += (
        " With `templateFile`, the file and the cluster's own `template` together must "
        "give `image` and `flavor`.")
    defs["Cluster"] = cluster
    defs["NamedCluster"] = _named_cluster_def(cluster)
    defs["Clusters"] = {
        "type": "object",
        "description": "Clusters by name; each name is part of every resource name and "
                       "hostname of its cluster.",
        "minProperties": 1,
        "propertyNames": {"pattern": DNS_LABEL_PATTERN, "maxLength": 63},
        "additionalProperties": _ref("Cluster"),
    }
    defs["AnyDriverLabels"] = {
        "description": "Labels of one of the registered drivers (the cluster that uses the "
                       "template decides which).",
        **_one_or_any([label_def_name(name) for name in drivers]),
    }
    del defs["ClusterSpec"]
    return _tidy(defs)


def _stack_root() -> dict[str, Any]:
    clusters, single = f"{NAMESPACE}:clusters", f"{NAMESPACE}:cluster"
    return {
        "title": "coe-provider stack file (Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {"config": {
            "type": "object",
            "description": "Stack configuration. coe-provider reads `coe:clusters` (or the "
                           "one-cluster `coe:cluster`); other keys belong to other "
                           "namespaces (`openstack:cloud`, your program's own).",
            "properties": {clusters: _ref("Clusters"), single: _ref("NamedCluster")},
            "propertyNames": {"if": {"pattern": f"^{NAMESPACE}:"},
                              "then": {"enum": [clusters, single]}},
            "not": {"required": [clusters, single]},
        }},
    }


def _cluster_root() -> dict[str, Any]:
    return {
        "title": "coe-provider cluster file",
        "type": "object",
        "properties": {"clusters": _ref("Clusters"), "cluster": _ref("NamedCluster")},
        "additionalProperties": False,
        "oneOf": [{"required": ["clusters"]}, {"required": ["cluster"]}],
    }


def _template_root() -> dict[str, Any]:
    # allOf rather than properties beside $ref: draft-07 tools ignore a $ref's siblings.
    return {
        "title": "coe-provider cluster template file (templateFile)",
        "allOf": [_ref("ClusterTemplate"), {"properties": {"labels": _ref("AnyDriverLabels")}}],
    }


ROOTS = {SchemaKind.STACK: _stack_root, SchemaKind.CLUSTER: _cluster_root,
         SchemaKind.TEMPLATE: _template_root}
"""The top of each kind's schema; the definitions are shared."""


def build_schema(kind: SchemaKind = SchemaKind.STACK) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of one kind of file."""
    return {"$schema": DIALECT, **ROOTS[kind](), "$defs": _definitions()}


def render_schema(kind: SchemaKind = SchemaKind.STACK) -> str:
    """:func:`build_schema` as indented JSON text ending in a newline."""
    return json.dumps(build_schema(kind), indent=2) + "\n"


__all__ = ["DIALECT", "SchemaKind", "build_schema", "label_def_name", "render_schema"]
