"""A local stand-in for a COE's API over mutual TLS, for the health tests.

It serves JSON and text on 127.0.0.1 with a server certificate that the cluster's own CA
signed (the plan's CA key, as pulumi-tls kept it in state) and demands a client certificate
signed by ``client_ca_pem``: the kubeconfig's, unless a test hands it another CA to refuse it.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class ApiState:
    """What the stand-in answers, per path: (status, body); a dict or list body is JSON."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict)
    """Path -> answer."""

    requests: list[str] = field(default_factory=list)
    """Paths asked, in order."""


def server_certificate(ca_cert_pem: str, ca_key_pem: str, host: str) -> tuple[str, str]:
    """A server certificate for ``host`` (an IP) signed by the CA: (cert PEM, key PEM)."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def _handler(state: ApiState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            status, body = state.routes.get(self.path, (404, {"message": "not found"}))
            data = (json.dumps(body) if isinstance(body, dict | list) else str(body)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            del format, args

    return Handler


@contextmanager
def serve_api(state: ApiState, ca_cert_pem: str, ca_key_pem: str,
              client_ca_pem: str) -> Iterator[int]:
    """Serve ``state`` on 127.0.0.1 over mutual TLS; yields the port."""
    cert_pem, key_pem = server_certificate(ca_cert_pem, ca_key_pem, "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as directory:
        cert, key = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert.write_text(cert_pem)
        key.write_text(key_pem)
        context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=client_ca_pem)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
