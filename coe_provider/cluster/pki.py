"""Certificate authorities and certificates made with pulumi-tls and kept in Pulumi state.

Keys are Pulumi secrets from the provider; nothing here ever leaves the program in clear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

CA_VALIDITY_HOURS = 10 * 365 * 24
"""Cluster CAs live ten years, as kubeadm's do."""

CERT_VALIDITY_HOURS = 365 * 24
"""Leaf certificates live one year."""

KEY_BITS = 2048
"""RSA key size: what kubeadm and Docker generate by default."""


@dataclass(frozen=True)
class KeyPair:
    """A private key and the certificate for it."""

    key: tls.PrivateKey
    """The private key resource."""

    cert_pem: pulumi.Output[str]
    """PEM certificate."""

    @property
    def key_pem(self) -> pulumi.Output[str]:
        """PEM private key (a secret)."""
        return pulumi.Output.secret(self.key.private_key_pem)


def private_key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    """An RSA key whose private half is stored as a secret."""
    return tls.PrivateKey(
        name, algorithm="RSA", rsa_bits=KEY_BITS,
        opts=pulumi.ResourceOptions(
            parent=parent,
            additional_secret_outputs=["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
        ),
    )


def certificate_authority(name: str, common_name: str, parent: pulumi.Resource) -> KeyPair:
    """A self-signed CA."""
    key = private_key(name, parent)
    cert = tls.SelfSignedCert(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=common_name),
        is_ca_certificate=True,
        validity_period_hours=CA_VALIDITY_HOURS,
        allowed_uses=["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
        set_subject_key_id=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return KeyPair(key=key, cert_pem=cert.cert_pem)


def issue_certificate(
    name: str,
    ca: KeyPair,
    common_name: str,
    parent: pulumi.Resource,
    organization: str | None = None,
    dns_names: Sequence[str] = (),
    ip_addresses: pulumi.Input[Sequence[pulumi.Input[str]]] = (),
    uses: Sequence[str] = ("digital_signature", "key_encipherment", "client_auth"),
) -> KeyPair:
    """A key and a certificate for it, signed by ``ca``."""
    key = private_key(name, parent)
    request = tls.CertRequest(
        name,
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(
            common_name=common_name, organization=organization),
        dns_names=list(dns_names) or None,
        ip_addresses=ip_addresses or None,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    cert = tls.LocallySignedCert(
        name,
        cert_request_pem=request.cert_request_pem,
        ca_private_key_pem=ca.key.private_key_pem,
        ca_cert_pem=ca.cert_pem,
        validity_period_hours=CERT_VALIDITY_HOURS,
        allowed_uses=list(uses),
        set_subject_key_id=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return KeyPair(key=key, cert_pem=cert.cert_pem)


def public_key_sha256(cert_pem: str) -> str:
    """``sha256:<hex>`` of the certificate's SubjectPublicKeyInfo: kubeadm's CA cert hash."""
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(spki).hexdigest()


def ssh_key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    """An Ed25519 SSH key pair kept in state; the private half is a secret."""
    return tls.PrivateKey(
        name, algorithm="ED25519",
        opts=pulumi.ResourceOptions(
            parent=parent,
            additional_secret_outputs=["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
        ),
    )
