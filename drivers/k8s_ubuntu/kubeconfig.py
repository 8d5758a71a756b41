"""The admin kubeconfig, built in the program from a client certificate the cluster CA signed."""

from __future__ import annotations

import base64

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


def admin_credentials(kubeconfig: str) -> TlsCredentials:
    """The CA and client certificate of a kubeconfig :func:`admin_kubeconfig` wrote."""
    document = yaml.safe_load(kubeconfig)
    cluster = document["clusters"][0]["cluster"]
    user = document["users"][0]["user"]
    return TlsCredentials(
        ca_pem=base64.b64decode(cluster["certificate-authority-data"]).decode(),
        cert_pem=base64.b64decode(user["client-certificate-data"]).decode(),
        key_pem=base64.b64decode(user["client-key-data"]).decode(),
    )
