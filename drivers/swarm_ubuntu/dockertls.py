"""The Docker API's mutual TLS: a CA, a server certificate per manager, a client certificate.

Each manager gets its own server certificate, naming its own addresses and the load balancer's.
One shared certificate would have to name every manager: adding a manager would reissue it
while the running managers keep serving the old one (existing servers never take a new
cloud-config), so Pulumi's state and the nodes would disagree, and any manager's key would
also pass for every other manager's address. Per-manager certificates are only ever added
when the cluster grows, and a stolen key speaks for one host (and the shared balancer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from coe_provider.cluster.contract import BootstrapFile
from coe_provider.cluster.pki import KeyPair, certificate_authority, issue_certificate

TLS_DIR = "/etc/docker/tls"
"""Where a manager keeps the daemon's CA, certificate and key."""

CA_FILE = f"{TLS_DIR}/ca.pem"
"""The CA that signs clients (and the daemons)."""

CERT_FILE = f"{TLS_DIR}/server-cert.pem"
"""The manager's server certificate."""

KEY_FILE = f"{TLS_DIR}/server-key.pem"
"""The manager's server key."""

SERVER_USES = ("digital_signature", "key_encipherment", "server_auth")
"""Key usages of a daemon's certificate."""

CLIENT_USES = ("digital_signature", "key_encipherment", "client_auth")
"""Key usages of the client certificate."""

LOOPBACK = ("127.0.0.1",)
"""Addresses every server certificate also names, for checks on the manager itself."""


@dataclass(frozen=True)
class DockerPki:
    """The cluster's Docker CA and the client certificate handed to the user."""

    ca: KeyPair
    """Signs daemon and client certificates; ``tlsverify`` admits only clients it signed."""

    client: KeyPair
    """The user's client certificate."""

    def client_bundle(self) -> pulumi.Output[dict[str, str]]:
        """The files of a ``DOCKER_CERT_PATH`` directory (``ca.pem``, ``cert.pem``,
        ``key.pem``), as one secret."""
        return pulumi.Output.secret(pulumi.Output.all(
            self.ca.cert_pem, self.client.cert_pem, self.client.key_pem,
        ).apply(lambda v: {"ca.pem": v[0], "cert.pem": v[1], "key.pem": v[2]}))

    def server_files(self, server: KeyPair) -> list[BootstrapFile]:
        """A manager's TLS files as cloud-init writes them (the key readable by root only)."""
        return [
            BootstrapFile(CA_FILE, self.ca.cert_pem),
            BootstrapFile(CERT_FILE, server.cert_pem),
            BootstrapFile(KEY_FILE, server.key_pem, "0600"),
        ]


def create_docker_pki(cluster: str, parent: pulumi.Resource) -> DockerPki:
    """The CA and the client certificate."""
    ca = certificate_authority(f"{cluster}-docker-ca", f"{cluster} docker CA", parent)
    client = issue_certificate(f"{cluster}-docker-client", ca, f"{cluster}-client", parent,
                               uses=CLIENT_USES)
    return DockerPki(ca=ca, client=client)


def server_certificate(
    node: str, ca: KeyPair, addresses: Sequence[pulumi.Input[str]], parent: pulumi.Resource
) -> KeyPair:
    """A manager's certificate for its name, ``localhost``, loopback and ``addresses``."""
    ips = pulumi.Output.all(*addresses, *LOOPBACK).apply(lambda v: sorted(set(v)))
    return issue_certificate(f"{node}-docker", ca, node, parent, dns_names=[node, "localhost"],
                             ip_addresses=ips, uses=SERVER_USES)


__all__ = ["CA_FILE", "CERT_FILE", "KEY_FILE", "TLS_DIR", "DockerPki", "create_docker_pki",
           "server_certificate"]
