"""An SSH hop through the bastion, for clusters whose API has no public address.

Each API connection is a ``direct-tcpip`` channel (what ``ssh -J`` uses) opened on one SSH
session to the bastion, joined to one end of a local socket pair so that Python's TLS runs
over it unchanged and checks the API's certificate end to end: the bastion relays bytes and
sees nothing. That is also why the bastion's host key is accepted without pinning (the
bastion's keys are made by the image, so there is nothing to pin them to): a false bastion
could refuse service but not read or alter the API traffic.

Every step is bounded by the caller's timeout (TCP connect, SSH banner, key exchange and
authentication, channel open, then each read of the TLS socket), and every failure is one
:class:`TunnelError` line that names the bastion. Leaving the session joins the relay threads
and the SSH transport's thread, so a gate that checks every few seconds for an hour leaves no
thread or socket behind.
"""

from __future__ import annotations

import contextlib
import io
import logging
import select
import socket
import threading
from types import TracebackType

import paramiko
from paramiko.common import (
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_FAILED_CONNECT_FAILED,
    OPEN_FAILED_RESOURCE_SHORTAGE,
    OPEN_FAILED_UNKNOWN_CHANNEL_TYPE,
)
from paramiko.ssh_exception import NoValidConnectionsError

from coe_provider.health.target import Tunnel

# paramiko logs a refused channel at ERROR; with no handler configured, Python's last-resort
# handler would print it to stderr next to the one line the check reports for it.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

SSH_PORT = 22
"""The bastion's SSH port (the image's sshd; the bastion's security group opens only it)."""

KEY_TYPES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)
"""Private key types tried in turn (the cluster's own key is Ed25519)."""

CHANNEL_REFUSALS = {
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED:
        "refused to forward to {api} (administratively prohibited: is AllowTcpForwarding "
        "off in its sshd_config?)",
    OPEN_FAILED_CONNECT_FAILED:
        "could not connect to {api} ({text}: nothing listens there, or no route from the "
        "bastion)",
    OPEN_FAILED_UNKNOWN_CHANNEL_TYPE:
        "does not offer TCP forwarding to {api} ({text})",
    OPEN_FAILED_RESOURCE_SHORTAGE:
        "could not open a channel to {api} ({text})",
}
"""What the bastion's answer to a ``direct-tcpip`` open means (RFC 4254 section 5.1)."""

JOIN_SECONDS = 5.0
"""How long leaving the session waits for each relay and the transport's thread to end (they
end as soon as their sockets close)."""


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


def _reason(error: BaseException) -> str:
    """An exception as a short phrase on one line."""
    if isinstance(error, NoValidConnectionsError):
        # "[Errno None] Unable to connect to port 22 on ...": the causes say more.
        return "; ".join(_reason(cause) for cause in error.errors.values())
    if isinstance(error, TimeoutError):
        return "no answer (timed out)"
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


class BastionTunnel:
    """One SSH session to the bastion; :meth:`connect` opens a forwarded connection."""

    def __init__(self, tunnel: Tunnel, timeout: float) -> None:
        self._tunnel = tunnel
        self._timeout = timeout
        self._client = paramiko.SSHClient()
        # Accepted, not pinned: see the module docstring. Never written to a known_hosts file.
        self._client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        self._relays: list[threading.Thread] = []

    @property
    def name(self) -> str:
        """``bastion host:port``, as every error names it."""
        host = self._tunnel.bastion_host
        return f"bastion {f'[{host}]' if ':' in host else host}:{SSH_PORT}"

    def __enter__(self) -> BastionTunnel:
        key = load_private_key(self._tunnel.private_key)
        try:
            self._client.connect(
                self._tunnel.bastion_host, port=SSH_PORT, username=self._tunnel.user, pkey=key,
                timeout=self._timeout, banner_timeout=self._timeout,
                auth_timeout=self._timeout, allow_agent=False, look_for_keys=False)
        except paramiko.AuthenticationException as error:
            self._close()
            raise TunnelError(f"{self.name} refused the cluster's SSH key for user "
                              f"{self._tunnel.user} ({_reason(error)})") from error
        except (paramiko.SSHException, EOFError) as error:
            why = self._handshake_failure(error)
            self._close()
            raise TunnelError(f"{self.name}: no SSH session ({why})") from error
        except OSError as error:
            self._close()
            raise TunnelError(f"{self.name} unreachable: {_reason(error)}") from error
        return self

    def _handshake_failure(self, error: BaseException) -> str:
        """Why the session did not start. A bastion that accepts TCP but hangs makes paramiko
        give up waiting after the timeout and then say only "No existing session"."""
        transport = self._client.get_transport()
        if transport is not None and not transport.is_authenticated():
            if not transport.remote_version:
                return f"no SSH banner within {self._timeout:g}s"
            if str(error) == "No existing session":
                return f"the SSH handshake did not finish within {self._timeout:g}s"
        return _reason(error)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._close()

    def _close(self) -> None:
        """Close the session; wait for the threads that served it."""
        transport = self._client.get_transport()
        self._client.close()
        # Closing the transport closes every channel, which wakes each relay.
        for relay in self._relays:
            relay.join(JOIN_SECONDS)
        self._relays.clear()
        if transport is not None and transport is not threading.current_thread():
            transport.join(JOIN_SECONDS)

    def connect(self, host: str, port: int) -> socket.socket:
        """A socket whose bytes reach ``host:port`` from the bastion."""
        api = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        transport = self._client.get_transport()
        if transport is None or not transport.is_active():
            raise TunnelError(f"{self.name}: the SSH session closed")
        try:
            channel = transport.open_channel("direct-tcpip", (host, port), ("127.0.0.1", 0),
                                             timeout=self._timeout)
        except paramiko.ChannelException as error:
            refusal = CHANNEL_REFUSALS.get(error.code, "refused a channel to {api} ({text})")
            raise TunnelError(f"{self.name} " + refusal.format(api=api, text=error.text)
                              ) from error
        except (paramiko.SSHException, OSError, EOFError) as error:
            raise TunnelError(f"{self.name}: no channel to {api} within {self._timeout:g}s "
                              f"({_reason(error)})") from error
        ours, theirs = socket.socketpair()
        relay = threading.Thread(target=_relay, args=(theirs, channel), daemon=True,
                                 name=f"coe-tunnel-relay {api}")
        relay.start()
        self._relays = [thread for thread in self._relays if thread.is_alive()] + [relay]
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
    except (OSError, EOFError):
        pass
    finally:
        # A channel whose session already ended raises EOFError on close: the socket must
        # be closed all the same.
        with contextlib.suppress(OSError, EOFError):
            channel.close()
        local.close()
