"""``/etc/docker/daemon.json`` for each role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .dockertls import CA_FILE, CERT_FILE, KEY_FILE

DOCKER_TLS_PORT = 2376
"""The Docker API over mutual TLS (IANA's docker-s)."""

LOCAL_SOCKET = "unix:///var/run/docker.sock"
"""The local API, for root on the node."""

LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}
"""Rotate container logs: json-file keeps them forever by default and fills the disk."""


def daemon_config(api_over_tls: bool, engine_labels: Mapping[str, str]) -> str:
    """The daemon's configuration; ``api_over_tls`` adds the TCP listener with ``tlsverify``.

    ``engine_labels`` become the engine's labels, which placement constraints match as
    ``engine.labels.<key>``.
    """
    config: dict[str, Any] = {"log-driver": "json-file", "log-opts": dict(LOG_OPTIONS)}
    if engine_labels:
        config["labels"] = [f"{key}={value}" for key, value in sorted(engine_labels.items())]
    if api_over_tls:
        config.update({
            "hosts": [LOCAL_SOCKET, f"tcp://0.0.0.0:{DOCKER_TLS_PORT}"],
            "tlsverify": True,
            "tlscacert": CA_FILE,
            "tlscert": CERT_FILE,
            "tlskey": KEY_FILE,
        })
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


__all__ = ["DOCKER_TLS_PORT", "daemon_config"]
