"""A local stand-in for a cluster's bastion: an SSH server on 127.0.0.1 (paramiko's server
mode) that lets in the cluster's key and relays ``direct-tcpip`` channels, as the bastion's
sshd does for ``ssh -J`` and for the readiness gate's tunnel.

Its behaviours are the ones a real bastion can show: it forwards, or it refuses forwarding
as sshd does with ``AllowTcpForwarding no`` (the channel open fails "administratively
prohibited", RFC 4254 section 5.1: openssh-portable's serverloop.c,
``server_request_direct_tcpip``, logs "refused local port forward" and answers
``SSH2_OPEN_ADMINISTRATIVELY_PROHIBITED``), or it opens the channel and then relays nothing (a hung
host or network), and it refuses keys it does not know. Every thread and socket it makes ends
when the client leaves, so a test can count the process's threads and descriptors.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_FAILED_CONNECT_FAILED,
    OPEN_SUCCEEDED,
)

POLL = 0.1
"""Seconds between looks at whether the bastion is closing (accept and relay loops)."""


@dataclass
class BastionLog:
    """What the bastion saw."""

    sessions: int = 0
    """SSH sessions that authenticated."""

    refused_keys: int = 0
    """Authentication attempts with a key it does not know."""

    channels: list[tuple[str, int]] = field(default_factory=list)
    """Every ``direct-tcpip`` destination asked for, in order."""


class _Server(paramiko.ServerInterface):
    """One session's answers: public-key authentication and ``direct-tcpip`` only."""

    def __init__(self, bastion: LocalBastion) -> None:
        self.bastion = bastion
        self.upstreams: dict[int, socket.socket] = {}

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == self.bastion.user and key.asbytes() == self.bastion.authorized.asbytes():
            self.bastion.log.sessions += 1
            return AUTH_SUCCESSFUL
        self.bastion.log.refused_keys += 1
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED  # no shell, no exec: a jump host

    def check_channel_direct_tcpip_request(self, chanid: int, origin: tuple[str, int],
                                           destination: tuple[str, int]) -> int:
        self.bastion.log.channels.append((destination[0], destination[1]))
        if not self.bastion.forwarding:
            return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        if self.bastion.stall:
            return OPEN_SUCCEEDED
        # As sshd: connect first, and answer "connect failed" when nothing listens.
        try:
            self.upstreams[chanid] = socket.create_connection(destination, timeout=5)
        except OSError:
            return OPEN_FAILED_CONNECT_FAILED
        return OPEN_SUCCEEDED


class LocalBastion:
    """The SSH server on 127.0.0.1 (use as a context manager; :attr:`port` is its port)."""

    def __init__(self, authorized: paramiko.PKey, user: str = "coe", forwarding: bool = True,
                 stall: bool = False) -> None:
        self.authorized = authorized
        """The public key it lets in."""
        self.user = user
        """The user it lets in."""
        self.forwarding = forwarding
        """False: refuse every ``direct-tcpip`` channel (``AllowTcpForwarding no``)."""
        self.stall = stall
        """True: open channels but relay nothing."""
        self.log = BastionLog()
        """What it saw."""
        self._host_key = paramiko.ECDSAKey.generate()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        """Its TCP port."""
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="bastion-accept",
                                          daemon=True)

    def __enter__(self) -> LocalBastion:
        self._acceptor.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._closing.set()
        self._acceptor.join()
        for thread in self._threads:
            thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=self._session, args=(connection,),
                                      name="bastion-session", daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _session(self, connection: socket.socket) -> None:
        transport = paramiko.Transport(connection)
        transport.add_server_key(self._host_key)
        server = _Server(self)
        pumps: list[threading.Thread] = []
        try:
            transport.start_server(server=server)
            while transport.is_active() and not self._closing.is_set():
                channel = transport.accept(POLL)
                if channel is None:
                    continue
                upstream = server.upstreams.pop(channel.get_id(), None)
                if upstream is None:  # stalling: hold the channel, relay nothing
                    continue
                pump = threading.Thread(target=self._pump, args=(channel, upstream),
                                        name="bastion-pump", daemon=True)
                pump.start()
                pumps.append(pump)
        except (paramiko.SSHException, EOFError, OSError):
            pass
        finally:
            transport.close()
            for pump in pumps:
                pump.join()
            for upstream in server.upstreams.values():
                upstream.close()
            transport.join()
            connection.close()

    def _pump(self, channel: paramiko.Channel, upstream: socket.socket) -> None:
        """Relay one channel to its destination until either side closes."""
        try:
            while not self._closing.is_set():
                readable, _, _ = select.select([channel, upstream], [], [], POLL)
                if channel in readable:
                    data = channel.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
                if upstream in readable:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    channel.sendall(data)
        except (OSError, EOFError):
            pass
        finally:
            # A channel whose session already ended raises EOFError on close: the socket must
            # be closed all the same.
            with contextlib.suppress(OSError, EOFError):
                channel.close()
            upstream.close()
