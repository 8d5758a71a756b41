"""Magnum's part of the fake OpenStack (:mod:`tests.fake_openstack`): container-infra v1.

It answers the GETs ``coe import magnum`` makes, with the real API's behaviour where the
import depends on it: templates and clusters are found by UUID or by name (a name held by
more than one answers 409); node groups need microversion 1.9, asked with
``OpenStack-API-Version: container-infra ...`` (older answers 406); the node group list shows
only the list view's fields, with defaults in place of the counts' bounds; errors have the
shape of Magnum's ParsableErrorMiddleware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

MIN_VERSION = (1, 1)
"""Magnum's base microversion (what a request without the header gets)."""

MAX_VERSION = (1, 14)
"""The newest microversion (``latest``)."""

NODEGROUPS_SINCE = (1, 9)
"""The first microversion with node groups."""

LIST_VIEW = ("uuid", "name", "flavor_id", "node_count", "role", "is_default", "image_id",
             "status", "stack_id")
"""The node group fields ``GET /v1/clusters/{id}/nodegroups`` keeps."""

LIST_DEFAULTS = {"min_node_count": 0, "max_node_count": None, "merge_labels": False}
"""What the list view shows for fields it dropped that have a WSME default, whatever the
node group holds."""


@dataclass
class MagnumStore:
    """The documents the fake Magnum serves, and the microversions it was asked for."""

    templates: list[dict[str, Any]] = field(default_factory=list)
    """Cluster templates, as ``GET /v1/clustertemplates/{id}`` answers."""
    clusters: list[dict[str, Any]] = field(default_factory=list)
    """Clusters, as ``GET /v1/clusters/{id}`` answers."""
    nodegroups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Cluster UUID -> its node groups, as ``GET .../nodegroups/{id}`` answers each."""
    api_versions: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, ``OpenStack-API-Version`` header) of every request to the API."""


def _text(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def versions_document(base: str) -> dict[str, Any]:
    """``GET /``: Magnum's version list."""
    return {"versions": [{
        "id": "v1", "status": "CURRENT", "min_version": _text(MIN_VERSION),
        "max_version": _text(MAX_VERSION),
        "links": [{"href": f"{base}/magnum/v1/", "rel": "self"}]}],
        "name": "OpenStack Magnum API",
        "description": "Magnum is an OpenStack project which aims to provide container "
                       "cluster management."}


def v1_document(base: str) -> dict[str, Any]:
    """``GET /v1``: the v1 root with its collections."""
    def links(name: str) -> list[dict[str, str]]:
        return [{"href": f"{base}/magnum/v1/{name}/", "rel": "self"},
                {"href": f"{base}/magnum/{name}/", "rel": "bookmark"}]
    return {"id": "v1",
            "media_types": [{"base": "application/json",
                             "type": "application/vnd.openstack.magnum.v1+json"}],
            "links": [{"href": f"{base}/magnum/v1/", "rel": "self"}],
            "clustertemplates": links("clustertemplates"), "clusters": links("clusters")}


def _error(status: int, text: str) -> tuple[int, Any]:
    return status, {"errors": [{"request_id": "", "code": "client", "status": status,
                                "title": text.split(".", 1)[0], "detail": text,
                                "links": []}]}


def _requested(header: str | None) -> tuple[int, int]:
    if not header:
        return MIN_VERSION
    service, _, version = header.strip().partition(" ")
    if service not in ("container-infra", "container-infrastructure",
                       "container-infrastructure-management"):
        return MIN_VERSION
    if version.strip() == "latest":
        return MAX_VERSION
    major, _, minor = version.strip().partition(".")
    return int(major), int(minor or 0)


def _find(items: list[dict[str, Any]], ident: str, kind: str
          ) -> tuple[dict[str, Any] | None, tuple[int, Any] | None]:
    by_uuid = [item for item in items if item.get("uuid") == ident]
    matches = by_uuid or [item for item in items if item.get("name") == ident]
    if len(matches) > 1:
        return None, _error(409, f"Multiple {kind}s exist with same name. Please use the "
                                 f"{kind} uuid instead.")
    if not matches:
        return None, _error(404, f"{kind.capitalize()} {ident} could not be found.")
    return matches[0], None


def answer(store: MagnumStore, rest: str, header: str | None) -> tuple[int, Any]:
    """The answer to ``GET /v1/<rest>``."""
    parts = [unquote(part) for part in rest.split("/")]
    if parts[0] == "clustertemplates" and len(parts) == 2:
        template, failure = _find(store.templates, parts[1], "cluster template")
        return failure or (200, template)
    if parts[0] != "clusters" or len(parts) not in (2, 3, 4):
        return _error(404, f"The resource could not be found: /v1/{rest}")
    cluster, failure = _find(store.clusters, parts[1], "cluster")
    if failure or cluster is None:
        return failure or _error(404, "no cluster")
    if len(parts) == 2:
        return 200, cluster
    if parts[2] != "nodegroups":
        return _error(404, f"The resource could not be found: /v1/{rest}")
    if _requested(header) < NODEGROUPS_SINCE:
        return _error(406, f"Version {_text(_requested(header))} was requested but the "
                           "requested API is not supported for this version.")
    groups = store.nodegroups.get(str(cluster["uuid"]), [])
    if len(parts) == 3:
        return 200, {"nodegroups": [{**{key: group.get(key) for key in LIST_VIEW},
                                     **LIST_DEFAULTS} for group in groups]}
    group, failure = _find(groups, parts[3], "nodegroup")
    return failure or (200, group)
