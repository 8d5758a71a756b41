"""An SSH hop through the bastion, for clusters whose API has no public address.

Each API connection is a ``direct-tcpip`` channel (what ``ssh -J`` uses) opened on one SSH
session to the bastion, joined to one end of a local socket pair so that Python's TLS runs
over it unchanged and checks the API's certificate end to end: the bastion relays bytes and
sees nothing. That is also why the bastion's host key is accepted without pinning (the
bastion's keys are made by the image, so there is nothing to pin them to): a false bastion
could refuse service but not read or alter the API traffic.
"""

from __future__ import annotations

import io
import select
import socket
import threading
from types import TracebackType

import paramiko

from coe_provider.health.target import Tunnel

KEY_TYPES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)
"""Private key types tried in turn (the cluster's own key is Ed25519)."""


class TunnelError(OSError):
    """The bastion could not be reached, or refused the key, or would not forward."""


def load_private_key(text: str) -> paramiko.PKey:
    """An OpenSSH private key of any supported type."""
    for key_type in KEY_TYPES:
        try:
            return key_type.from_private_key(io.StringIO(text))
        except (paramiko.SSHException, ValueError):
            continue
    raise TunnelError("the cluster's SSH private key is not a key paramiko can read")


class BastionTunnel:
    """One SSH session to the bastion; :meth:`connect` opens a forwarded connection."""

    def __init__(self, tunnel: Tunnel, timeout: float) -> None:
        self._tunnel = tunnel
        self._timeout = timeout
        self._client = paramiko.SSHClient()
        # Accepted, not pinned: see the module docstring. Never written to a known_hosts file.
        self._client.set_missing_host_key_policy(paramiko.AutoAddPolicy())

    def __enter__(self) -> BastionTunnel:
        try:
            self._client.connect(
                self._tunnel.bastion_host, username=self._tunnel.user,
                pkey=load_private_key(self._tunnel.private_key), timeout=self._timeout,
                banner_timeout=self._timeout, auth_timeout=self._timeout,
                allow_agent=False, look_for_keys=False)
        except (paramiko.SSHException, OSError) as error:
            self._client.close()
            raise TunnelError(
                f"bastion {self._tunnel.bastion_host}: {error or type(error).__name__}"
            ) from error
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._client.close()

    def connect(self, host: str, port: int) -> socket.socket:
        """A socket whose bytes reach ``host:port`` from the bastion."""
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise TunnelError(f"bastion {self._tunnel.bastion_host}: session closed")
        try:
            channel = transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0),
                                             timeout=self._timeout)
        except (paramiko.SSHException, OSError) as error:
            raise TunnelError(f"bastion {self._tunnel.bastion_host} could not reach "
                              f"{host}:{port}: {error}") from error
        ours, theirs = socket.socketpair()
        threading.Thread(target=_relay, args=(theirs, channel), daemon=True).start()
        ours.settimeout(self._timeout)
        return ours


def _relay(local: socket.socket, channel: paramiko.Channel) -> None:
    """Copy bytes both ways until either side closes."""
    try:
        while True:
            readable, _, _ = select.select([local, channel], [], [])
            if local in readable:
                data = local.recv(65536)
                if not data:
                    break
                channel.sendall(data)
            if channel in readable:
                data = channel.recv(65536)
                if not data:
                    break
                local.sendall(data)
    except OSError:
        pass
    finally:
        channel.close()
        local.close()
