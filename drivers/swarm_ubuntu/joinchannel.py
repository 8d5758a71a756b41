"""The join-token channel: SSH keys whose only power is to print one kind of join token.

``docker swarm init`` makes the join tokens on the first manager, so they cannot be preset: a
joining node must fetch its token, with no help from the operator's machine. Every manager
has a dedicated user, ``coe-join``, whose ``authorized_keys`` holds one public key per token
kind, each forced to run the one command that prints that kind's token and accepted only from
the cluster subnet; a node holds the private half of its kind's key (workers the worker key,
managers the manager key) and asks the managers in turn until one answers.

The command runs through a sudoers rule for exactly those two command lines, not through
membership of the ``docker`` group: that group is root in all but name (a member can start a
privileged container with ``/`` mounted), so a key or a shell that escaped its forced command
would own the manager; the sudo rule grants nothing beyond printing a token.

The managers' SSH host key is preset as well (cloud-init ``ssh_keys``) and written into every
node's ``known_hosts``, so the first connection is verified instead of trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_tls as tls

from coe_provider.cluster.pki import ssh_key

TokenKind = Literal["worker", "manager"]
"""The two kinds of swarm join token."""

TOKEN_KINDS: tuple[TokenKind, ...] = ("worker", "manager")
"""Every kind, each with its own key."""

JOIN_USER = "coe-join"
"""The managers' user that serves join tokens and nothing else."""

DOCKER_CLI = "/usr/bin/docker"
"""The Docker CLI of the ``docker.io`` package (Ubuntu and Debian); the bootstrap checks it."""


def token_command(kind: TokenKind) -> str:
    """The command line that prints the ``kind`` join token (run as root through sudo)."""
    return f"{DOCKER_CLI} swarm join-token -q {kind}"


def authorized_keys(public_keys: dict[TokenKind, str], source_cidr: str) -> str:
    """``coe-join``'s authorized_keys: per kind, the key forced to print that kind's token."""
    return "".join(
        f'command="sudo -n {token_command(kind)}",from="{source_cidr}",restrict '
        f"{public_keys[kind].strip()} coe-join-{kind}\n"
        for kind in TOKEN_KINDS
    )


def sudoers() -> str:
    """The sudoers rule that lets ``coe-join`` run exactly the token commands as root."""
    commands = ", ".join(token_command(kind) for kind in TOKEN_KINDS)
    return (f"# coe-provider: {JOIN_USER} may print swarm join tokens and nothing else.\n"
            f"{JOIN_USER} ALL=(root) NOPASSWD: {commands}\n")


def known_hosts(manager_addresses: Sequence[str], host_public_key: str) -> str:
    """One ``known_hosts`` line naming every manager address with the shared host key."""
    key_type, key_blob = host_public_key.split()[:2]
    return f"{','.join(manager_addresses)} {key_type} {key_blob}\n"


@dataclass(frozen=True)
class JoinKeys:
    """The managers' shared SSH host key and one client key per token kind."""

    host: tls.PrivateKey
    """The managers' SSH host key (Ed25519)."""

    clients: dict[TokenKind, tls.PrivateKey]
    """The key that fetches each kind of token."""

    def client_key(self, kind: TokenKind) -> pulumi.Output[str]:
        """The private key (OpenSSH format, a secret) that fetches ``kind`` tokens."""
        return pulumi.Output.secret(self.clients[kind].private_key_openssh)

    def authorized_keys(self, source_cidr: pulumi.Input[str]) -> pulumi.Output[str]:
        """``coe-join``'s authorized_keys, admitting connections from ``source_cidr`` only."""
        return pulumi.Output.all(
            source_cidr, *(self.clients[kind].public_key_openssh for kind in TOKEN_KINDS),
        ).apply(lambda v: authorized_keys(dict(zip(TOKEN_KINDS, v[1:], strict=True)), v[0]))

    def known_hosts(self, manager_addresses: Sequence[pulumi.Input[str]]) -> pulumi.Output[str]:
        """The ``known_hosts`` file pinning the managers' host key."""
        return pulumi.Output.all(self.host.public_key_openssh, *manager_addresses).apply(
            lambda v: known_hosts(v[1:], v[0]))

    def host_keys(self) -> dict[str, pulumi.Input[str]]:
        """cloud-init ``ssh_keys`` entries that install the host key on a manager."""
        return {
            "ed25519_private": pulumi.Output.secret(self.host.private_key_openssh),
            "ed25519_public": self.host.public_key_openssh.apply(str.strip),
        }


def create_join_keys(cluster: str, parent: pulumi.Resource) -> JoinKeys:
    """The host key and the per-kind client keys, kept in Pulumi state."""
    return JoinKeys(
        host=ssh_key(f"{cluster}-swarm-host-key", parent),
        clients={kind: ssh_key(f"{cluster}-swarm-join-{kind}", parent) for kind in TOKEN_KINDS},
    )


__all__ = ["DOCKER_CLI", "JOIN_USER", "TOKEN_KINDS", "JoinKeys", "TokenKind",
           "authorized_keys", "create_join_keys", "known_hosts", "sudoers", "token_command"]
