"""What the Kubernetes provider (pulumi-kubernetes) would answer, for the offline plan.

Nothing is installed offline. The provider's own answers are what the plan needs: a typed
object's ID is ``namespace/name`` (or ``name`` for a cluster-wide kind) and its state echoes
its inputs with the metadata the API server fills in (namespace, uid); ``stringData`` of a
Secret comes back as base64 ``data`` too, with the secrecy of what it came from. A Helm
release (``kubernetes:helm.sh/v3:Release``) reports its ``status`` as Helm does after an
install: the release's name, namespace, chart and version, revision 1, ``deployed``.
"""

from __future__ import annotations

import base64
from typing import Any

from coe_provider.plan.openstack_answers import stable_id
from coe_provider.plan.secrets import is_secret, reveal, wrap_secret

PREFIX = "kubernetes:"
"""Type tokens answered here."""

RELEASE = "kubernetes:helm.sh/v3:Release"
"""A Helm release."""

CLUSTER_WIDE = frozenset({"kubernetes:core/v1:Namespace",
                          "kubernetes:storage.k8s.io/v1:StorageClass"})
"""Kinds the program makes that have no namespace."""


def answers(type_token: str) -> bool:
    """Whether ``type_token`` is a Kubernetes resource answered here."""
    return type_token.startswith(PREFIX)


def _release(urn: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    namespace = str(state.get("namespace") or "default")
    name = str(state.get("name") or state.get("chart"))
    state["name"] = name
    state["namespace"] = namespace
    state["status"] = {"name": name, "namespace": namespace, "chart": state.get("chart"),
                       "version": state.get("version"), "revision": 1, "status": "deployed"}
    return f"{namespace}/{name}", state


def _secret_data(string_data: Any) -> Any:
    """``data`` as the API server derives it from ``stringData`` (base64), as secret."""
    plain = reveal(string_data)
    if not isinstance(plain, dict):
        return None
    data = {key: base64.b64encode(str(value).encode()).decode() for key, value in plain.items()}
    return wrap_secret(data) if is_secret(string_data) or any(
        is_secret(value) for value in string_data.values()) else data


def outputs(type_token: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ID and state the Kubernetes provider would report after creating the resource."""
    state = dict(inputs)
    if type_token == RELEASE:
        return _release(urn, state)
    metadata = dict(reveal(state.get("metadata") or {}))
    name = str(metadata.get("name") or urn.rsplit("::", 1)[-1])
    metadata["name"] = name
    metadata["uid"] = stable_id(urn, "uid")
    if type_token in CLUSTER_WIDE:
        resource_id = name
    else:
        metadata.setdefault("namespace", "default")
        resource_id = f"{metadata['namespace']}/{name}"
    state["metadata"] = metadata
    if type_token == "kubernetes:core/v1:Secret" and "stringData" in state:
        state["data"] = _secret_data(state["stringData"])
    return resource_id, state


__all__ = ["CLUSTER_WIDE", "PREFIX", "RELEASE", "answers", "outputs"]
