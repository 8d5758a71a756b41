"""``coe import magnum --cloud``: the documents read from Magnum's API (container-infra v1).

openstacksdk authenticates (clouds.yaml or ``OS_*``) and finds Magnum in the service catalog;
the documents are fetched as raw JSON, because its Magnum resources drop fields the import
reads (``labels_overridden``, ``merge_labels``, ``docker_volume_size``) and it has no node
group calls. They then go through the same normalisation as files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from coe_provider.magnum.documents import (
    MagnumDocuments,
    MagnumInputError,
    cluster_document,
    nodegroup_documents,
    template_document,
)

MICROVERSION_HEADER = {"OpenStack-API-Version": "container-infra latest"}
"""Asks for the newest microversion, as python-magnumclient does: node groups need 1.9, their
``node_labels`` and ``node_taints`` 1.14."""

NO_ENDPOINT = "the service catalog has no container-infra (Magnum) endpoint"
"""What is said when the cloud has no Magnum (for the region and interface asked)."""


class MagnumApiError(MagnumInputError):
    """The Magnum API could not be asked, or said no; the message names what was asked."""


@dataclass(frozen=True)
class LiveRequest:
    """What to read from the Magnum API."""

    cloud: str | None = None
    """The clouds.yaml entry (None: ``OS_CLOUD``, or the ``OS_*`` variables)."""

    cluster_template: str | None = None
    """The cluster template's UUID or name (None: the cluster's own template)."""

    cluster: str | None = None
    """The cluster's UUID or name (None: the template alone)."""

    @property
    def where(self) -> str:
        """The cloud, in words."""
        name = self.cloud or os.environ.get("OS_CLOUD")
        return f"cloud {name!r}" if name else "the cloud of the OS_* variables"

    @property
    def asked(self) -> str:
        """The first object asked for, in words."""
        if self.cluster:
            return f"cluster {self.cluster!r}"
        return f"cluster template {self.cluster_template!r}"


def _detail(response: Any) -> str:
    """Magnum's own message (``{"errors": [{"detail": ...}]}``), or the HTTP reason."""
    try:
        errors = response.json().get("errors") or [{}]
        text = errors[0].get("detail") or errors[0].get("title")
    except (ValueError, AttributeError, TypeError):
        text = None
    return " ".join(str(text or response.reason or "no message").split())


def _refusal(status: int, detail: str) -> str:
    if status == 404:
        return f"not found (404 from the Magnum API: {detail})"
    if status == 409:
        return (f"the name is held by more than one; give the UUID (409 from the Magnum API: "
                f"{detail})")
    if status in (401, 403):
        return f"not allowed ({status} from the Magnum API: {detail})"
    return f"{status} from the Magnum API: {detail}"


class MagnumApi:
    """GETs on one cloud's Magnum endpoint, with the newest microversion."""

    def __init__(self, adapter: Any, where: str) -> None:
        self._adapter = adapter
        self._where = where

    def get(self, path: str, what: str) -> dict[str, Any]:
        """The JSON object at ``path`` (under ``/v1``); :class:`MagnumApiError` naming
        ``what`` when the API says no."""
        response = self._adapter.get(path, headers=dict(MICROVERSION_HEADER))
        if response.status_code != 200:
            raise MagnumApiError(f"{what} on {self._where}: "
                                 f"{_refusal(response.status_code, _detail(response))}")
        try:
            document = response.json()
        except ValueError:
            raise MagnumApiError(f"{what} on {self._where}: the Magnum API answered "
                                 f"{path} with something that is not JSON") from None
        if not isinstance(document, dict):
            raise MagnumApiError(f"{what} on {self._where}: the Magnum API answered {path} "
                                 f"with a {type(document).__name__}, not an object")
        return document


def _describe(error: Exception) -> str:
    """openstacksdk's and keystoneauth's errors, as a clause."""
    from keystoneauth1 import exceptions as ksa
    from openstack import exceptions as sdk

    text = " ".join(str(error).split())
    if isinstance(error, sdk.ServiceDisabledException | ksa.EndpointNotFound):
        return f"{NO_ENDPOINT} ({text})"
    if isinstance(error, sdk.ConfigException):
        return text
    if isinstance(error, ksa.AuthPluginException):
        return ("no credentials: give --cloud NAME (a clouds.yaml entry), or set OS_CLOUD, "
                f"or OS_AUTH_URL and the other OS_* variables ({text})")
    if isinstance(error, ksa.Unauthorized):
        return f"authentication failed ({text})"
    if isinstance(error, ksa.ConnectionError | ksa.DiscoveryFailure):
        return f"cannot reach the cloud ({text})"
    return f"{type(error).__name__}: {text}"


@contextmanager
def _translated(prefix: str) -> Iterator[None]:
    """openstacksdk's and keystoneauth's errors as one :class:`MagnumApiError` line."""
    from keystoneauth1.exceptions import ClientException
    from openstack.exceptions import SDKException

    try:
        yield
    except (SDKException, ClientException) as error:
        raise MagnumApiError(f"{prefix}: {_describe(error)}") from None


def _connect(cloud: str | None, prefix: str) -> Any:
    """An openstacksdk connection (authentication waits for the first request)."""
    import openstack
    from keystoneauth1.exceptions import ClientException
    from openstack.exceptions import SDKException

    try:
        return openstack.connect(cloud=cloud)
    except (SDKException, ClientException):
        raise
    except Exception as error:  # a clouds.yaml entry of the wrong shape fails in the loader
        raise MagnumApiError(f"{prefix}: cannot load the cloud configuration "
                             f"({type(error).__name__}: {error})") from None


@contextmanager
def magnum_api(request: LiveRequest) -> Iterator[MagnumApi]:
    """A :class:`MagnumApi` on the request's cloud, closed afterwards."""
    # keystoneauth logs discovery retries as warnings; the error says what failed.
    logging.getLogger("keystoneauth").addHandler(logging.NullHandler())
    prefix = f"{request.asked} on {request.where}"
    with _translated(prefix):
        connection = _connect(request.cloud, prefix)
        try:
            yield MagnumApi(connection.container_infrastructure_management, request.where)
        finally:
            connection.close()


def _path(*parts: str) -> str:
    return "/" + "/".join(quote(part, safe="") for part in parts)


def fetch_documents(request: LiveRequest, api: MagnumApi) -> tuple[MagnumDocuments, str]:
    """The template, cluster and full node group documents, and where they came from."""
    cluster: dict[str, Any] | None = None
    if request.cluster:
        what = f"cluster {request.cluster!r}"
        cluster = cluster_document(api.get(_path("clusters", request.cluster), what), what)
    ident = request.cluster_template or str((cluster or {}).get("cluster_template_id") or "")
    if not ident:
        raise MagnumApiError("give --cluster-template ID|NAME or --cluster ID|NAME")
    what = f"cluster template {ident!r}"
    template = template_document(api.get(_path("clustertemplates", ident), what), what)
    if cluster is None:
        source = f"{template.get('name')} ({template.get('uuid')}) on {request.where}"
        return MagnumDocuments(template=template), source
    if template.get("uuid") != cluster.get("cluster_template_id"):
        raise MagnumApiError(
            f"cluster {request.cluster!r} on {request.where} was made from cluster template "
            f"{cluster.get('cluster_template_id')}, not {ident!r} ({template.get('uuid')}); "
            "leave out --cluster-template to import it with its own")
    source = f"cluster {cluster.get('name')} ({cluster.get('uuid')}) on {request.where}"
    return MagnumDocuments(template, cluster, _nodegroups(api, cluster)), source


def _nodegroups(api: MagnumApi, cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node group in full: the list view leaves out labels and the counts' bounds."""
    uuid, name = str(cluster.get("uuid")), cluster.get("name")
    listed = api.get(_path("clusters", uuid, "nodegroups"), f"node groups of cluster {name!r}")
    documents = [api.get(_path("clusters", uuid, "nodegroups", str(item.get("uuid"))),
                         f"node group {item.get('name')!r} of cluster {name!r}")
                 for item in listed.get("nodegroups") or [] if isinstance(item, dict)]
    return nodegroup_documents(documents, f"node groups of cluster {name!r}") if documents else []
