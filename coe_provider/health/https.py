"""One small HTTPS client for every COE's API: mutual TLS against the cluster's own CA, to a
public address or through the bastion.

The Kubernetes and Docker APIs are both JSON over HTTPS with client certificates, and a check
needs two GETs from each, so one client serves both; it also lets the connection go through
an SSH tunnel while the certificate is still checked against the API's real address, which
neither the ``kubernetes`` nor the ``docker`` Python client can do without patching.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from coe_provider.health.target import HealthTarget, TlsCredentials
from coe_provider.health.tunnel import BastionTunnel, TunnelError


class ApiUnreachable(Exception):
    """The API could not be asked: no connection, a TLS failure, or a timeout."""


class ApiRefused(ApiUnreachable):
    """The API refused the client (its certificate, or the request: 401 or 403)."""


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, path: str, status: int, body: bytes) -> None:
        text = body.decode(errors="replace").strip().splitlines()
        super().__init__(f"GET {path}: HTTP {status}" + (f": {text[0][:200]}" if text else ""))
        self.status = status
        """The HTTP status."""


class ApiReader(Protocol):
    """What a driver's probe may ask of the API: the two kinds of GET."""

    def get(self, path: str) -> tuple[int, bytes]:
        """``GET path``: (status, body)."""
        ...

    def get_json(self, path: str) -> Any:
        """``GET path`` as JSON; a status other than 200 raises :class:`ApiError`."""
        ...


class CredentialsUnusable(ApiUnreachable):
    """The client credentials do not load: a CA or certificate that is not PEM, a key that
    does not match. Asking again cannot help."""


def tls_context(credentials: TlsCredentials, directory: Path) -> ssl.SSLContext:
    """The client's TLS context; the key and certificate are written into ``directory``
    (private, removed by the caller). :class:`CredentialsUnusable` says which part failed."""
    try:
        context = ssl.create_default_context(cadata=credentials.ca_pem)
    except (ssl.SSLError, ValueError) as error:
        raise CredentialsUnusable(f"the cluster CA is not a PEM certificate ({_reason(error)})"
                                  ) from None
    cert, key = directory / "cert.pem", directory / "key.pem"
    key.touch(mode=0o600)
    key.write_text(credentials.key_pem)
    cert.write_text(credentials.cert_pem)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as error:
        raise CredentialsUnusable("the client certificate and key do not load as a PEM pair "
                                  f"({_reason(error)})") from None
    return context


def check_credentials(credentials: TlsCredentials) -> None:
    """Raise :class:`CredentialsUnusable` when the credentials do not load."""
    with tempfile.TemporaryDirectory() as directory:
        tls_context(credentials, Path(directory))


def _reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error.reason or error.strerror or error).lower().replace("_", " ")
    return str(error)


class ApiClient:
    """GET requests to one cluster's API (use as a context manager)."""

    def __init__(self, target: HealthTarget, timeout: float = 10.0) -> None:
        self.target = target
        """The cluster."""
        self.timeout = timeout
        """Seconds for connecting and for each read."""
        self._stack = ExitStack()
        self._context: ssl.SSLContext | None = None
        self._tunnel: BastionTunnel | None = None

    def __enter__(self) -> ApiClient:
        # ssl loads a client certificate only from files: a private directory, removed on exit.
        directory = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))
        try:
            self._context = tls_context(self.target.credentials, directory)
        except CredentialsUnusable:
            self._stack.close()
            raise
        if self.target.tunnel is not None:
            try:
                self._tunnel = self._stack.enter_context(
                    BastionTunnel(self.target.tunnel, self.timeout))
            except OSError as error:
                self._stack.close()
                raise ApiUnreachable(str(error)) from error
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stack.close()

    def _socket(self) -> socket.socket:
        host, port = self.target.api_host, self.target.api_port
        if self._tunnel is not None:
            return self._tunnel.connect(host, port)
        return socket.create_connection((host, port), timeout=self.timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        """``GET path``: (status, body). Connection and TLS failures raise
        :class:`ApiUnreachable` (:class:`ApiRefused` when the client was refused)."""
        assert self._context is not None, "use ApiClient as a context manager"
        where = f"{self.target.api_address}{path}"
        if self._tunnel is not None:
            where += f" through {self._tunnel.name}"
        try:
            with self._socket() as raw, self._context.wrap_socket(
                    raw, server_hostname=self.target.api_host) as tls:
                request = (f"GET {path} HTTP/1.1\r\nHost: {self.target.api_address}\r\n"
                           "Accept: application/json\r\nConnection: close\r\n\r\n")
                tls.sendall(request.encode())
                response = http.client.HTTPResponse(tls)
                response.begin()
                body = response.read()
        except TunnelError as error:
            raise ApiUnreachable(str(error)) from error  # it names the bastion and the API
        except ssl.SSLCertVerificationError as error:
            raise ApiUnreachable(f"{where}: the API's certificate is not one the cluster CA "
                                 f"signed for {self.target.api_host}: {error.verify_message}"
                                 ) from error
        except ssl.SSLError as error:
            # A server that demands a client certificate and rejects ours ends the handshake
            # with an alert.
            raise ApiRefused(f"{where}: TLS failed (the API refused the client "
                             f"certificate?): {error.reason or error}") from error
        except (OSError, http.client.HTTPException) as error:
            raise ApiUnreachable(f"{where}: {error or type(error).__name__}") from error
        if response.status in (401, 403):
            raise ApiRefused(f"{where}: HTTP {response.status}: the API refused the client")
        return response.status, body

    def get_json(self, path: str) -> Any:
        """``GET path`` decoded as JSON; a status other than 200 raises :class:`ApiError`."""
        status, body = self.get(path)
        if status != 200:
            raise ApiError(path, status, body)
        try:
            return json.loads(body)
        except ValueError as error:
            raise ApiError(path, status, b"not JSON: " + body[:100]) from error
