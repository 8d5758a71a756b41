"""Run commands on the VMs the way pulumi-command's ``remote.Command`` runs them: a real SSH
client connecting as the planned ``connection`` (host, user, the cluster's private key, and
the bastion as ``proxy``: a ``direct-tcpip`` channel through it, like ``ssh -J``), one
``exec`` of the command text, its exit status the result. Host keys are not checked, as
``remote.Command`` does not check them without ``hostKey``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import paramiko

from coe_provider.health.tunnel import load_private_key


@dataclass(frozen=True)
class Connection:
    """The planned ``connection`` of a removal command (or one built like it)."""

    host: str
    user: str
    private_key: str
    port: int = 22
    proxy: Connection | None = None

    @classmethod
    def planned(cls, value: Mapping[str, Any]) -> Connection:
        """Read a ``remote.Command``'s ``connection`` input (camelCase, revealed)."""
        proxy = value.get("proxy")
        return cls(host=str(value["host"]), user=str(value.get("user", "root")),
                   private_key=str(value["privateKey"]), port=int(value.get("port", 22)),
                   proxy=cls.planned(proxy) if proxy else None)

    def to(self, host: str) -> Connection:
        """The same credentials and proxy, to another host."""
        return Connection(host, self.user, self.private_key, self.port, self.proxy)


@dataclass(frozen=True)
class Result:
    """What one command did."""

    status: int
    stdout: str
    stderr: str


def _client(connection: Connection, sock: Any = None, timeout: float = 20) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(connection.host, port=connection.port, username=connection.user,
                   pkey=load_private_key(connection.private_key), sock=sock, timeout=timeout,
                   banner_timeout=timeout, auth_timeout=timeout, allow_agent=False,
                   look_for_keys=False)
    return client


@contextmanager
def session(connection: Connection, attempts: int = 20) -> Iterator[paramiko.SSHClient]:
    """An SSH session to the target, through the proxy when there is one; dial errors are
    retried up to ``attempts`` times, as ``dialErrorLimit`` does."""
    for attempt in range(1, attempts + 1):
        clients: list[paramiko.SSHClient] = []
        try:
            sock = None
            if connection.proxy is not None:
                jump = _client(connection.proxy)
                clients.append(jump)
                transport = jump.get_transport()
                assert transport is not None
                sock = transport.open_channel("direct-tcpip", (connection.host, connection.port),
                                              ("127.0.0.1", 0), timeout=20)
            clients.append(_client(connection, sock))
        except (paramiko.SSHException, OSError):
            for client in reversed(clients):
                client.close()
            if attempt == attempts:
                raise
            time.sleep(5)
            continue
        try:
            yield clients[-1]
        finally:
            for client in reversed(clients):
                client.close()
        return


def run(connection: Connection, command: str, timeout: float = 900) -> Result:
    """``command`` run once over SSH; its exit status and output."""
    with session(connection) as client:
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        status = stdout.channel.recv_exit_status()
        return Result(status, stdout.read().decode(errors="replace"),
                      stderr.read().decode(errors="replace"))
