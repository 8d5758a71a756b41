"""The admin kubeconfig, built in the program from a client certificate the cluster CA signed."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import yaml

from coe_provider.health.target import TlsCredentials


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def admin_kubeconfig(cluster: str, server: str, ca_pem: str, cert_pem: str, key_pem: str) -> str:
    """A kubeconfig for ``kubernetes-admin`` on ``server``."""
    user = f"{cluster}-admin"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}],
        "contexts": [{"name": f"{user}@{cluster}", "context": {"cluster": cluster, "user": user}}],
        "current-context": f"{user}@{cluster}",
        "preferences": {},
    }
    return yaml.safe_dump(document, sort_keys=False)


def admin_credentials(kubeconfig: Any) -> TlsCredentials:
    """The CA and client certificate of a kubeconfig :func:`admin_kubeconfig` wrote;
    ``ValueError`` says in a sentence what is missing."""
    if not isinstance(kubeconfig, str):
        raise ValueError("kubeconfig must be the kubeconfig's YAML text")
    try:
        document = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        raise ValueError("kubeconfig is not YAML") from None
    cluster = _first_entry(document, "clusters", "cluster")
    user = _first_entry(document, "users", "user")
    return TlsCredentials(
        ca_pem=_pem(cluster, "certificate-authority-data"),
        cert_pem=_pem(user, "client-certificate-data"),
        key_pem=_pem(user, "client-key-data"),
    )


def _first_entry(document: Any, plural: str, singular: str) -> Mapping[str, Any]:
    entries = document.get(plural) if isinstance(document, Mapping) else None
    entry = entries[0] if isinstance(entries, list) and entries else None
    inner = entry.get(singular) if isinstance(entry, Mapping) else None
    if not isinstance(inner, Mapping):
        raise ValueError(f"kubeconfig has no {plural} entry with a {singular}")
    return inner


def _pem(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str):
        raise ValueError(f"kubeconfig has no {key}")
    try:
        return base64.b64decode(value, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"kubeconfig's {key} is not base64 of PEM text") from None
