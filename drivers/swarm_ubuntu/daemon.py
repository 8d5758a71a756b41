"""``/etc/docker/daemon.json`` for each role."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .dockertls import CA_FILE, CERT_FILE, KEY_FILE

DOCKER_TLS_PORT = 2376
"""The Docker API over mutual TLS (IANA's docker-s)."""

LOCAL_SOCKET = "unix:///var/run/docker.sock"
"""The local API, for root on the node."""

LOG_OPTIONS = {"max-size": "10m", "max-file": "3"}
"""Rotate container logs: json-file keeps them forever by default and fills the disk."""

IMAGE_STORE_FEATURES = {"containerd-snapshotter": False}
"""Images and layers stay under ``/var/lib/docker`` (the overlay2 graph driver), on the
``dockerVolumeSize`` disk. Docker 29 otherwise puts them in the containerd image store under
``/var/lib/containerd`` on the root disk (moby ``daemon/image_store_choice.go``: this feature
set to false chooses the graph driver explicitly). Docker 20.10 takes ``features`` as a free
map and ignores keys it does not know (moby v20.10.24 ``daemon/config/config.go``)."""

MTU_OPTION = "com.docker.network.driver.mtu"
"""The network driver option for the MTU. Overlay networks take the MTU of the network they
run on and subtract the VXLAN header themselves (moby ``drivers/overlay`` ``maxMTU``)."""

DEFAULT_NETWORK_OPTS_SINCE = 24
"""The first Docker major that knows ``default-network-opts``; older daemons refuse unknown
keys in daemon.json and would not start."""

RESERVED_LABEL_PREFIXES = ("com.docker.", "io.docker.", "org.dockerproject.")
"""Engine label namespaces reserved for Docker: dockerd refuses to start with a label in any of
them, in any letter case (moby ``opts.ValidateLabel``, called on daemon.json labels)."""


def reserved_label(key: str) -> bool:
    """Whether an engine label named ``key`` is in Docker's reserved namespaces."""
    return f"{key}=".lower().startswith(RESERVED_LABEL_PREFIXES)


DOCKER_HUB = "docker.io"
"""The one registry Docker's ``registry-mirrors`` applies to: the daemon sends only Docker Hub
pulls to its mirrors (Docker's documentation, "Registry mirror"); other registries are pulled
from where the image names them."""


def registry_settings(mirrors: Mapping[str, str], insecure: Sequence[str]) -> dict[str, Any]:
    """daemon.json's ``registry-mirrors`` (Docker Hub's mirror) and ``insecure-registries``
    (reached over plain HTTP or without verifying TLS), only the keys that are set."""
    settings: dict[str, Any] = {}
    if DOCKER_HUB in mirrors:
        settings["registry-mirrors"] = [mirrors[DOCKER_HUB]]
    if insecure:
        settings["insecure-registries"] = list(insecure)
    return settings


def daemon_config(api_over_tls: bool, engine_labels: Mapping[str, str], mtu: int | None = None,
                  network_defaults: bool = True,
                  registries: Mapping[str, Any] | None = None) -> str:
    """The daemon's configuration; ``api_over_tls`` adds the TCP listener with ``tlsverify``.

    ``engine_labels`` become the engine's labels, which placement constraints match as
    ``engine.labels.<key>``. ``mtu`` sizes the default bridge and, with ``network_defaults``
    (Docker 24 and later), every overlay and bridge network created without an MTU of its own,
    such as a stack's default network. ``registries`` are :func:`registry_settings`.
    """
    config: dict[str, Any] = {"log-driver": "json-file", "log-opts": dict(LOG_OPTIONS),
                              "features": dict(IMAGE_STORE_FEATURES)}
    config.update(registries or {})
    if engine_labels:
        config["labels"] = [f"{key}={value}" for key, value in sorted(engine_labels.items())]
    if mtu:
        config["mtu"] = mtu
        if network_defaults:
            config["default-network-opts"] = {
                driver: {MTU_OPTION: str(mtu)} for driver in ("bridge", "overlay")}
    if api_over_tls:
        config.update({
            "hosts": [LOCAL_SOCKET, f"tcp://0.0.0.0:{DOCKER_TLS_PORT}"],
            "tlsverify": True,
            "tlscacert": CA_FILE,
            "tlscert": CERT_FILE,
            "tlskey": KEY_FILE,
        })
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


__all__ = ["DOCKER_HUB", "DOCKER_TLS_PORT", "RESERVED_LABEL_PREFIXES", "daemon_config",
           "registry_settings", "reserved_label"]
