"""What a health check needs to know about one cluster: where its API is, how to reach it,
the client credentials, and which nodes the stack declares.

The readiness gate carries a :class:`HealthTarget` as its inputs
(:func:`coe_provider.health.gate.gate_inputs`) and ``coe status`` builds the same object from
the stack's outputs (:mod:`coe_provider.health.outputs`), so both run the same check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WATCHED_INPUTS = ("cluster", "driver", "apiHost", "apiPort", "expectedNodes", "serverIds",
                  "bastionHost", "stage", "workloads")
"""The readiness gate's inputs whose change makes it check again: the declared nodes, the
servers that play them (a replaced server has a new ID), the route, the stage (``api``: the
API answers; unset: every node is ready) and the add-on workloads waited for. Not the credentials
(they change only with the servers), nor the timeout. They describe the target, so they live
with it: the plan tools read them without importing the gate."""


@dataclass(frozen=True)
class ExpectedNode:
    """A node the stack declares, by the name the component gave it."""

    name: str
    """``{cluster}-{group}-{index}``: the server's name and the node's hostname."""

    role: str
    """``master`` or ``worker``."""

    group: str
    """Node group (``master`` for masters)."""

    def to_dict(self) -> dict[str, str]:
        """Plain form, for resource inputs and JSON."""
        return {"name": self.name, "role": self.role, "group": self.group}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> ExpectedNode:
        """Read the plain form."""
        return cls(name=str(value["name"]), role=str(value["role"]), group=str(value["group"]))


@dataclass(frozen=True)
class TlsCredentials:
    """The client side of the API's mutual TLS: the CA that signs the API's certificate and
    a client certificate it signed."""

    ca_pem: str
    """PEM of the cluster CA (server certificates are checked against it, not the system's)."""

    cert_pem: str
    """PEM of the client certificate."""

    key_pem: str
    """PEM of the client certificate's private key."""

    def to_dict(self) -> dict[str, str]:
        """Plain form (always passed on as a Pulumi secret)."""
        return {"ca": self.ca_pem, "cert": self.cert_pem, "key": self.key_pem}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> TlsCredentials:
        """Read the plain form."""
        return cls(ca_pem=str(value["ca"]), cert_pem=str(value["cert"]),
                   key_pem=str(value["key"]))


@dataclass(frozen=True)
class Tunnel:
    """An SSH hop through the bastion to the API's address inside the cluster network."""

    bastion_host: str
    """The bastion's floating IP."""

    user: str
    """The SSH user on the bastion (the cluster's ``coe`` user)."""

    private_key: str
    """The cluster's SSH private key (OpenSSH format)."""


@dataclass(frozen=True)
class HealthTarget:
    """One cluster to check."""

    cluster: str
    """Cluster name."""

    driver: str
    """Driver name, which selects the COE-specific probe."""

    api_host: str
    """Address the client connects to: public, or inside the network when tunnelled. The
    API's certificate must name it."""

    api_port: int
    """The API's TCP port."""

    credentials: TlsCredentials
    """Client credentials."""

    expected: tuple[ExpectedNode, ...]
    """Every node the stack declares (removed nodes are not declared)."""

    tunnel: Tunnel | None = None
    """The bastion hop, when the API has no public address."""

    @property
    def api_address(self) -> str:
        """``host:port`` as people read it."""
        host = f"[{self.api_host}]" if ":" in self.api_host else self.api_host
        return f"{host}:{self.api_port}"

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> HealthTarget:
        """Read the readiness gate's inputs (as the engine hands them to the provider)."""
        tunnel = None
        if props.get("bastionHost"):
            tunnel = Tunnel(bastion_host=str(props["bastionHost"]), user=str(props["sshUser"]),
                            private_key=str(props["sshPrivateKey"]))
        return cls(
            cluster=str(props["cluster"]),
            driver=str(props["driver"]),
            api_host=str(props["apiHost"]),
            api_port=int(props["apiPort"]),
            credentials=TlsCredentials.from_dict(props["credentials"]),
            expected=tuple(ExpectedNode.from_dict(n) for n in props["expectedNodes"]),
            tunnel=tunnel,
        )


def host_and_port(url: str, default_port: int) -> tuple[str, int]:
    """The host and port of an API URL (``https://h:6443``, ``tcp://h:2376``)."""
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    if not parts.hostname:
        raise ValueError(f"no host in API address {url!r}")
    return parts.hostname, parts.port or default_port
