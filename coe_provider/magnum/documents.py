"""Magnum's documents as the API and the ``openstack coe`` CLI print them, normalised.

The CLI's ``cluster template show`` prints ``"-"`` for every null; labels may arrive as a
mapping, a JSON or Python-literal string of one, or ``key=value`` pairs (the ``--labels`` form,
and osc's ``key='value', ...`` rendering). Node groups come as a list, as the API's
``{"nodegroups": [...]}``, or as one ``nodegroup show`` document.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MagnumInputError(ValueError):
    """A document is not what ``coe import magnum`` expects; the message names it."""


CLI_NULL = "-"
"""What ``openstack coe cluster template show`` prints in place of null."""


@dataclass(frozen=True)
class MagnumDocuments:
    """A cluster template, optionally a cluster and its node groups, normalised."""

    template: dict[str, Any]
    """The cluster template (``GET /v1/clustertemplates/{id}``)."""

    cluster: dict[str, Any] | None = None
    """The cluster (``GET /v1/clusters/{id}``), when one is imported."""

    nodegroups: list[dict[str, Any]] = field(default_factory=list)
    """The cluster's node groups (``GET /v1/clusters/{id}/nodegroups/{ng}`` each)."""


class DuplicateKey(ValueError):
    """A JSON object names one key twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys without a word; Magnum never writes two.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def read_json(path: Path, what: str) -> Any:
    """The JSON in ``path``; :class:`MagnumInputError` naming ``what`` when unreadable."""
    try:
        return json.loads(path.read_text(), object_pairs_hook=_no_duplicates)
    except OSError as exc:
        raise MagnumInputError(f"{what} {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise MagnumInputError(f"{what} {path}: not JSON (not UTF-8 text)") from None
    except DuplicateKey as exc:
        raise MagnumInputError(f"{what} {path}: {exc}; which one is meant is unclear") from None
    except ValueError as exc:
        raise MagnumInputError(f"{what} {path}: not JSON ({exc})") from None


def parse_labels(value: Any, where: str) -> dict[str, str]:
    """Labels as a mapping of strings, from any of the forms Magnum's tools print."""
    if value is None or value in ("", CLI_NULL):
        return {}
    if isinstance(value, str):
        value = _labels_from_text(value.strip(), where)
    if not isinstance(value, Mapping):
        raise MagnumInputError(f"{where}: labels must be a mapping or key=value pairs "
                               f"(got {type(value).__name__})")
    return {str(key): _label_text(item) for key, item in value.items()}


def _label_text(value: Any) -> str:
    # The API stores label values as strings (DictOfStringsField); a request may hold bools.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _labels_from_text(text: str, where: str) -> Any:
    if text.startswith("{"):
        for parse in (json.loads, ast.literal_eval):
            try:
                return parse(text)
            except (ValueError, SyntaxError):
                continue
        raise MagnumInputError(f"{where}: labels {text!r} are neither JSON nor a Python dict")
    pairs: dict[str, str] = {}
    for part in _split_pairs(text):
        key, sep, item = part.partition("=")
        if not sep or not key.strip():
            raise MagnumInputError(f"{where}: label {part!r} is not key=value")
        pairs[key.strip()] = item.strip().strip("'\"")
    return pairs


def _split_pairs(text: str) -> list[str]:
    """``a=1,b=2;c=3`` (the CLI's separators), keeping commas inside values such as
    ``master_lb_allowed_cidrs=10.0.0.0/8,192.168.0.0/16`` with their key."""
    parts: list[str] = []
    for chunk in text.replace(";", ",").split(","):
        piece = chunk.strip()
        if not piece:
            continue
        if "=" in piece or not parts:
            parts.append(piece)
        else:
            parts[-1] += "," + piece
    return parts


def _without_cli_nulls(document: Mapping[str, Any]) -> dict[str, Any]:
    return {key: (None if value == CLI_NULL else value) for key, value in document.items()}


def _object(document: Any, what: str, wrapper: str) -> dict[str, Any]:
    if isinstance(document, Mapping) and isinstance(document.get(wrapper), list):
        items = document[wrapper]
        if len(items) != 1:
            raise MagnumInputError(f"{what}: holds {len(items)} {wrapper}; give one")
        document = items[0]
    if not isinstance(document, Mapping):
        raise MagnumInputError(f"{what}: must be a JSON object (got {type(document).__name__})")
    normalised = _without_cli_nulls(document)
    normalised["labels"] = parse_labels(normalised.get("labels"), what)
    return normalised


def template_document(document: Any, what: str = "template") -> dict[str, Any]:
    """A cluster template from ``cluster template show -f json`` or the API."""
    template = _object(document, what, "clustertemplates")
    if not template.get("coe"):
        raise MagnumInputError(f"{what}: has no coe (is this a cluster template?)")
    if not template.get("image_id"):
        raise MagnumInputError(f"{what}: has no image_id (is this a cluster template?)")
    return template


def cluster_document(document: Any, what: str = "cluster") -> dict[str, Any]:
    """A cluster from ``cluster show -f json`` or the API."""
    cluster = _object(document, what, "clusters")
    if "node_count" not in cluster and "master_count" not in cluster:
        raise MagnumInputError(f"{what}: has neither node_count nor master_count "
                               "(is this a cluster?)")
    return cluster


def nodegroup_documents(document: Any, what: str = "nodegroups") -> list[dict[str, Any]]:
    """Node groups from ``nodegroup list -f json``, ``nodegroup show`` documents, or the API."""
    if isinstance(document, Mapping):
        document = document.get("nodegroups", [document])
    if not isinstance(document, list):
        raise MagnumInputError(f"{what}: must be a list of node groups")
    groups: list[dict[str, Any]] = []
    for position, item in enumerate(document):
        if not isinstance(item, Mapping):
            raise MagnumInputError(f"{what}[{position}]: must be a JSON object")
        group = _without_cli_nulls(item)
        for key in ("labels", "node_labels"):
            if key in group:
                group[key] = parse_labels(group[key], f"{what}[{position}]")
        if not group.get("name") or "node_count" not in group:
            raise MagnumInputError(f"{what}[{position}]: needs name and node_count")
        groups.append(group)
    return groups


def read_documents(template: Path, cluster: Path | None,
                   nodegroups: Path | None) -> MagnumDocuments:
    """The documents of ``coe import magnum`` from files."""
    if nodegroups is not None and cluster is None:
        raise MagnumInputError("--nodegroups needs --cluster CLUSTER.json: node groups belong "
                               "to a cluster (a template alone has none)")
    documents = MagnumDocuments(
        template=template_document(read_json(template, "template"), f"template {template}"),
        cluster=(cluster_document(read_json(cluster, "cluster"), f"cluster {cluster}")
                 if cluster else None),
        nodegroups=(nodegroup_documents(read_json(nodegroups, "nodegroups"),
                                        f"nodegroups {nodegroups}") if nodegroups else []),
    )
    if documents.cluster is not None:
        check_same_template(documents.template, documents.cluster, f"cluster {cluster}",
                            f"template {template}")
    return documents


def check_same_template(template: Mapping[str, Any], cluster: Mapping[str, Any],
                        cluster_what: str, template_what: str) -> None:
    """Refuse a cluster built from another template than the one given."""
    used, uuid = cluster.get("cluster_template_id"), template.get("uuid")
    if used and uuid and str(used) != str(uuid):
        raise MagnumInputError(
            f"{cluster_what}: was built from cluster template {used}, but {template_what} is "
            f"{uuid}; give the cluster's own template (openstack coe cluster template show "
            f"{used} -f json)")
