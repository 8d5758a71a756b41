"""Tests of the tls/random provider answers used under the Pulumi mocks runtime."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import shutil
import string
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coe_provider.plan import provider_answers as pa
from coe_provider.plan.provider_answers import ProviderAnswers

CLOCK = datetime.datetime(2025, 3, 1, 8, 30, 15, 987654)
"""A naive clock with microseconds: taken as UTC, truncated to seconds."""

SEED = "plan-seed"


def urn(type_token: str, name: str) -> str:
    """A URN shaped like the mocks runtime's."""
    return f"urn:pulumi:stack::project::{type_token}::{name}"


def secret(value: Any) -> dict[str, Any]:
    """``value`` in the mocks runtime's secret envelope."""
    return {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": value}


def key_outputs(answers: ProviderAnswers, name: str, **inputs: Any) -> dict[str, Any]:
    """The outputs of a PrivateKey named ``name``."""
    return answers.outputs(pa.PRIVATE_KEY, urn(pa.PRIVATE_KEY, name), inputs)


def issue_chain(answers: ProviderAnswers, ca_algorithm: str = "RSA") -> dict[str, dict[str, Any]]:
    """A CA, a CSR and a leaf certificate issued by the CA, as the cluster PKI builds them."""
    ca_key = key_outputs(answers, "ca-key", algorithm=ca_algorithm)
    leaf_key = key_outputs(answers, "apiserver-key", algorithm="ECDSA", ecdsaCurve="P256")
    ca_cert = answers.outputs(
        pa.SELF_SIGNED_CERT,
        urn(pa.SELF_SIGNED_CERT, "ca"),
        {
            "privateKeyPem": secret(ca_key["privateKeyPem"]),
            "validityPeriodHours": 87600.0,
            "isCaCertificate": True,
            "allowedUses": ["cert_signing", "crl_signing", "digital_signature", "key_encipherment"],
            "subject": {"commonName": "kubernetes", "organization": "coe"},
        },
    )
    request = answers.outputs(
        pa.CERT_REQUEST,
        urn(pa.CERT_REQUEST, "apiserver-csr"),
        {
            "privateKeyPem": secret(leaf_key["privateKeyPem"]),
            "subject": {"commonName": "kube-apiserver", "organizations": ["system:masters"]},
            "dnsNames": ["kubernetes", "kubernetes.default.svc"],
            "ipAddresses": ["10.254.0.1", "192.168.0.10"],
        },
    )
    leaf = answers.outputs(
        pa.LOCALLY_SIGNED_CERT,
        urn(pa.LOCALLY_SIGNED_CERT, "apiserver"),
        {
            "certRequestPem": request["certRequestPem"],
            "caPrivateKeyPem": secret(ca_key["privateKeyPem"]),
            "caCertPem": ca_cert["certPem"],
            "validityPeriodHours": 8760.0,
            "allowedUses": ["digital_signature", "key_encipherment", "server_auth", "client_auth"],
        },
    )
    return {"ca_key": ca_key, "ca": ca_cert, "csr": request, "leaf": leaf, "leaf_key": leaf_key}


@pytest.fixture(scope="module")
def answers() -> ProviderAnswers:
    """One instance for the module, as one plan run would have."""
    return ProviderAnswers(SEED, CLOCK)


@pytest.fixture(scope="module")
def chain(answers: ProviderAnswers) -> dict[str, dict[str, Any]]:
    """An RSA CA and an ECDSA leaf issued by it."""
    return issue_chain(answers)


def load_cert(pem: str) -> x509.Certificate:
    """Parse a PEM certificate."""
    return x509.load_pem_x509_certificate(pem.encode())


# -- answers() / outputs() contract -----------------------------------------------------------


def test_answers_only_tls_and_random_resources(answers: ProviderAnswers) -> None:
    """tls and random resources are answered; other providers' are not."""
    for token in (pa.PRIVATE_KEY, pa.SELF_SIGNED_CERT, pa.CERT_REQUEST, pa.LOCALLY_SIGNED_CERT):
        assert answers.answers(token)
    for token in (pa.RANDOM_STRING, pa.RANDOM_PASSWORD, pa.RANDOM_ID, pa.RANDOM_BYTES):
        assert answers.answers(token)
    for token in (pa.RANDOM_UUID, pa.RANDOM_INTEGER, pa.RANDOM_PET):
        assert answers.answers(token)
    assert not answers.answers("openstack:compute/instance:Instance")
    assert not answers.answers("tls:index/getPublicKey:getPublicKey")
    with pytest.raises(KeyError):
        answers.outputs("openstack:compute/instance:Instance", "urn:x", {})


def test_inputs_are_echoed_and_defaults_filled(answers: ProviderAnswers) -> None:
    """The state holds the inputs as delivered, provider defaults, and the computed outputs."""
    out = key_outputs(answers, "ed", algorithm="ED25519")
    assert out["algorithm"] == "ED25519"
    assert out["rsaBits"] == 2048
    assert out["ecdsaCurve"] == "P224"
    expected = {
        "privateKeyPem",
        "privateKeyPemPkcs8",
        "privateKeyOpenssh",
        "publicKeyPem",
        "publicKeyOpenssh",
        "publicKeyFingerprintMd5",
        "publicKeyFingerprintSha256",
    }
    assert expected <= set(out)


def test_secret_inputs_are_unwrapped_but_echoed_unchanged(chain: dict[str, dict[str, Any]]) -> None:
    """A secret private key signs the certificate and stays a secret in the returned state."""
    envelope = chain["ca"]["privateKeyPem"]
    assert envelope == secret(chain["ca_key"]["privateKeyPem"])
    assert chain["ca"]["certPem"].startswith("-----BEGIN CERTIFICATE-----\n")


def test_write_only_inputs_are_used_but_not_echoed(answers: ProviderAnswers) -> None:
    """privateKeyPemWo signs like privateKeyPem but, being write-only, is not in the state."""
    key = key_outputs(answers, "wo-key", algorithm="ED25519")
    out = answers.outputs(
        pa.CERT_REQUEST,
        urn(pa.CERT_REQUEST, "wo"),
        {"privateKeyPemWo": key["privateKeyPem"], "privateKeyPemWoVersion": 1.0},
    )
    assert "privateKeyPemWo" not in out
    assert out["privateKeyPemWoVersion"] == 1.0
    csr = x509.load_pem_x509_csr(out["certRequestPem"].encode())
    assert csr.is_signature_valid


def test_unknown_inputs_are_refused(answers: ProviderAnswers) -> None:
    """A value the runtime marks unknown cannot be computed with."""
    with pytest.raises(ValueError, match="not known"):
        key_outputs(answers, "unknown", algorithm="04da6b54-80e4-46f7-96ec-b56ff0331ba9")


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes() -> None:
    """Two runs with the same seed and clock produce the same keys and certificates."""
    first = issue_chain(ProviderAnswers(SEED, CLOCK))
    second = issue_chain(ProviderAnswers(SEED, CLOCK))
    assert first == second


@pytest.mark.parametrize("ca_algorithm", ["ECDSA", "ED25519"])
def test_non_rsa_chains_are_deterministic_where_signing_allows(ca_algorithm: str) -> None:
    """Ed25519 always; ECDSA when cryptography supports RFC 6979 signing."""
    first = issue_chain(ProviderAnswers(SEED, CLOCK), ca_algorithm)
    second = issue_chain(ProviderAnswers(SEED, CLOCK), ca_algorithm)
    assert first["ca_key"] == second["ca_key"]
    assert first["leaf_key"] == second["leaf_key"]
    if ca_algorithm == "ED25519" or pa._deterministic_ecdsa_supported():
        assert first == second
    load_cert(first["leaf"]["certPem"]).verify_directly_issued_by(load_cert(first["ca"]["certPem"]))


@pytest.mark.parametrize(
    "inputs",
    [
        {"algorithm": "RSA", "rsaBits": 2048.0},
        {"algorithm": "ECDSA", "ecdsaCurve": "P256"},
        {"algorithm": "ED25519"},
    ],
)
def test_keys_depend_on_urn_and_seed(inputs: dict[str, Any]) -> None:
    """Different URN or different seed: a different key; same both: the same key."""
    one = ProviderAnswers(SEED, CLOCK)
    again = ProviderAnswers(SEED, CLOCK)
    other_seed = ProviderAnswers("another-seed", CLOCK)
    a = key_outputs(one, "a", **inputs)["privateKeyPem"]
    assert key_outputs(again, "a", **inputs)["privateKeyPem"] == a
    assert key_outputs(one, "b", **inputs)["privateKeyPem"] != a
    assert key_outputs(other_seed, "a", **inputs)["privateKeyPem"] != a


def test_random_values_depend_on_urn() -> None:
    """Random resources: same URN and seed, same value; another URN, another value."""
    answers = ProviderAnswers(SEED, CLOCK)
    token = pa.RANDOM_STRING
    first = answers.outputs(token, urn(token, "a"), {"length": 32.0})["result"]
    assert (
        ProviderAnswers(SEED, CLOCK).outputs(token, urn(token, "a"), {"length": 32.0})["result"]
        == first
    )
    assert answers.outputs(token, urn(token, "b"), {"length": 32.0})["result"] != first


def test_generated_keys_are_cached(answers: ProviderAnswers) -> None:
    """Asking twice for the same RSA key does not generate it twice."""
    key_outputs(answers, "cached", algorithm="RSA")
    started = time.perf_counter()
    key_outputs(answers, "cached", algorithm="RSA")
    assert time.perf_counter() - started < 0.1


# -- private keys -----------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [1024, 2048])
def test_rsa_key_has_requested_size_and_loads(answers: ProviderAnswers, bits: int) -> None:
    """An RSA key passes OpenSSL's key check on load and has the requested modulus size."""
    out = key_outputs(answers, f"rsa-{bits}", algorithm="RSA", rsaBits=float(bits))
    assert out["privateKeyPem"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert out["privateKeyPemPkcs8"].startswith("-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == bits
    assert key.private_numbers().public_numbers.e == 65537
    pkcs8 = serialization.load_pem_private_key(out["privateKeyPemPkcs8"].encode(), password=None)
    assert pkcs8.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
    public = serialization.load_pem_public_key(out["publicKeyPem"].encode())
    assert public == key.public_key()


def test_default_rsa_size_is_2048(answers: ProviderAnswers) -> None:
    """Without rsaBits the key is 2048 bits, as the provider's default."""
    out = key_outputs(answers, "rsa-default", algorithm="RSA")
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        ("P224", ec.SECP224R1),
        ("P256", ec.SECP256R1),
        ("P384", ec.SECP384R1),
        ("P521", ec.SECP521R1),
    ],
)
def test_ecdsa_key_curves(answers: ProviderAnswers, curve: str, expected: type) -> None:
    """ECDSA keys are SEC1 PEM on the requested curve."""
    out = key_outputs(answers, f"ec-{curve}", algorithm="ECDSA", ecdsaCurve=curve)
    assert out["privateKeyPem"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, expected)


def test_ecdsa_default_curve_is_p224_without_ssh_forms(answers: ProviderAnswers) -> None:
    """P224 (the default curve) has no SSH encoding: those outputs are empty strings."""
    out = key_outputs(answers, "ec-default", algorithm="ECDSA")
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP224R1)
    for name in (
        "privateKeyOpenssh",
        "publicKeyOpenssh",
        "publicKeyFingerprintMd5",
        "publicKeyFingerprintSha256",
    ):
        assert out[name] == ""


def test_ed25519_key_is_pkcs8(answers: ProviderAnswers) -> None:
    """Ed25519's privateKeyPem is PKCS#8, the same as privateKeyPemPkcs8."""
    out = key_outputs(answers, "ed-pem", algorithm="ED25519")
    assert out["privateKeyPem"] == out["privateKeyPemPkcs8"]
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)


@pytest.mark.parametrize(
    "inputs",
    [{"algorithm": "RSA"}, {"algorithm": "ECDSA", "ecdsaCurve": "P384"}, {"algorithm": "ED25519"}],
)
def test_openssh_forms(answers: ProviderAnswers, inputs: dict[str, Any]) -> None:
    """The OpenSSH private key loads back to the same key; public forms and fingerprints agree."""
    out = key_outputs(answers, f"ssh-{inputs['algorithm']}", **inputs)
    pem_key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    ssh_key = serialization.load_ssh_private_key(out["privateKeyOpenssh"].encode(), password=None)
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    form = raw if inputs["algorithm"] == "ED25519" else der
    assert ssh_key.public_key().public_bytes(*form) == pem_key.public_key().public_bytes(*form)
    assert out["privateKeyOpenssh"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert all(len(line) <= 64 for line in out["privateKeyOpenssh"].splitlines())

    line = out["publicKeyOpenssh"]
    assert line.endswith("\n") and line.count("\n") == 1
    key_type, blob_b64 = line.split()
    assert key_type in ("ssh-rsa", "ecdsa-sha2-nistp384", "ssh-ed25519")
    loaded = serialization.load_ssh_public_key(line.encode())
    assert loaded.public_bytes(*form) == pem_key.public_key().public_bytes(*form)

    md5 = out["publicKeyFingerprintMd5"].split(":")
    assert len(md5) == 16 and all(len(part) == 2 for part in md5)
    sha = out["publicKeyFingerprintSha256"]
    assert sha.startswith("SHA256:") and not sha.endswith("=")
    assert len(base64.b64decode(sha[7:] + "=")) == 32
    assert base64.b64decode(blob_b64)  # a well-formed blob


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")
def test_openssh_private_key_is_accepted_by_ssh_keygen(
    answers: ProviderAnswers, tmp_path: Path
) -> None:
    """ssh-keygen reads the private key and agrees on public key and fingerprints."""
    out = key_outputs(answers, "ssh-keygen", algorithm="ECDSA", ecdsaCurve="P256")
    path = tmp_path / "id"
    path.write_text(out["privateKeyOpenssh"])
    path.chmod(0o600)

    def keygen(*args: str) -> str:
        """Run ssh-keygen on the key file."""
        command = ["ssh-keygen", *args, "-f", str(path)]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    assert keygen("-y").strip() == out["publicKeyOpenssh"].strip()
    assert out["publicKeyFingerprintSha256"] in keygen("-l")
    assert "MD5:" + out["publicKeyFingerprintMd5"] in keygen("-l", "-E", "md5")


def test_invalid_key_inputs_are_rejected(answers: ProviderAnswers) -> None:
    """Unknown algorithms and curves are refused as the provider refuses them."""
    with pytest.raises(ValueError, match="algorithm"):
        key_outputs(answers, "bad", algorithm="DSA")
    with pytest.raises(ValueError, match="ecdsaCurve"):
        key_outputs(answers, "bad-curve", algorithm="ECDSA", ecdsaCurve="P192")


def test_rsa_2048_keys_differ_per_urn() -> None:
    """Five RSA-2048 keys for five URNs are five different keys (speed is the benchmark's
    business, not a test's: the machines are shared)."""
    answers = ProviderAnswers("timing", CLOCK)
    pems = {key_outputs(answers, f"timed-{index}", algorithm="RSA",
                        rsaBits=2048.0)["privateKeyPem"] for index in range(5)}
    assert len(pems) == 5


# -- certificates -----------------------------------------------------------------------------


def test_leaf_verifies_against_ca(chain: dict[str, dict[str, Any]]) -> None:
    """The issued certificate is signed by the CA and names it as issuer."""
    ca = load_cert(chain["ca"]["certPem"])
    leaf = load_cert(chain["leaf"]["certPem"])
    leaf.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert leaf.issuer == ca.subject
    csr = x509.load_pem_x509_csr(chain["csr"]["certRequestPem"].encode())
    assert leaf.public_key() == csr.public_key()
    assert leaf.subject == csr.subject


def test_ca_certificate_extensions(chain: dict[str, dict[str, Any]]) -> None:
    """The CA is marked CA, may sign certificates and CRLs, and has a subject key id."""
    ca = load_cert(chain["ca"]["certPem"])
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length is None
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign and usage.value.digital_signature
    assert not usage.value.content_commitment
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(ca.public_key())
    assert ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "kubernetes"
    assert ca.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "coe"
    assert chain["ca"]["keyAlgorithm"] == "RSA"


def test_leaf_certificate_extensions(chain: dict[str, dict[str, Any]]) -> None:
    """SANs from the CSR, not a CA, TLS usages, and the CA's key id as authority key id."""
    ca = load_cert(chain["ca"]["certPem"])
    leaf = load_cert(chain["leaf"]["certPem"])
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["kubernetes", "kubernetes.default.svc"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.254.0.1"),
        ipaddress.ip_address("192.168.0.10"),
    ]
    basic = leaf.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and not basic.value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(extended) == [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    organizations = leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [attribute.value for attribute in organizations] == ["system:masters"]
    assert chain["leaf"]["caKeyAlgorithm"] == "RSA"
    assert chain["csr"]["keyAlgorithm"] == "ECDSA"


def test_validity_comes_from_the_clock(chain: dict[str, dict[str, Any]]) -> None:
    """Validity starts at the clock (UTC, whole seconds) and lasts validityPeriodHours."""
    start = datetime.datetime(2025, 3, 1, 8, 30, 15, tzinfo=datetime.UTC)
    leaf = load_cert(chain["leaf"]["certPem"])
    assert leaf.not_valid_before_utc == start
    assert leaf.not_valid_after_utc == start + datetime.timedelta(hours=8760)
    assert chain["leaf"]["validityStartTime"] == "2025-03-01T08:30:15Z"
    assert chain["leaf"]["validityEndTime"] == "2026-03-01T08:30:15Z"
    assert chain["leaf"]["readyForRenewal"] is False
    assert chain["ca"]["validityEndTime"] == "2035-02-27T08:30:15Z"


def test_serial_numbers_differ_per_certificate(chain: dict[str, dict[str, Any]]) -> None:
    """Serial numbers come from the URN's stream: positive, at most 128 bits, distinct."""
    serials = {load_cert(chain[name]["certPem"]).serial_number for name in ("ca", "leaf")}
    assert len(serials) == 2
    assert all(0 < serial < 2**128 for serial in serials)


def test_early_renewal_marks_certificate_ready(answers: ProviderAnswers) -> None:
    """A certificate whose early-renewal window has begun is ready for renewal."""
    key = key_outputs(answers, "renew-key", algorithm="ED25519")
    out = answers.outputs(
        pa.SELF_SIGNED_CERT,
        urn(pa.SELF_SIGNED_CERT, "renew"),
        {
            "privateKeyPem": key["privateKeyPem"],
            "validityPeriodHours": 24.0,
            "earlyRenewalHours": 48.0,
            "allowedUses": ["server_auth"],
            "subject": {"commonName": "renew"},
        },
    )
    assert out["readyForRenewal"] is True


def test_self_signed_leaf_with_key_ids_and_sans(answers: ProviderAnswers) -> None:
    """A non-CA self-signed certificate: SANs, requested key ids, no KeyUsage if none asked."""
    key = key_outputs(answers, "self-key", algorithm="ECDSA", ecdsaCurve="P256")
    out = answers.outputs(
        pa.SELF_SIGNED_CERT,
        urn(pa.SELF_SIGNED_CERT, "self"),
        {
            "privateKeyPem": key["privateKeyPem"],
            "validityPeriodHours": 1.0,
            "allowedUses": ["server_auth"],
            "dnsNames": ["api.example.test"],
            "ipAddresses": ["203.0.113.7"],
            "uris": ["spiffe://cluster/ns/default"],
            "setSubjectKeyId": True,
            "setAuthorityKeyId": True,
            "subject": {"commonName": "api", "country": "DE", "streetAddresses": ["a", "b"]},
        },
    )
    cert = load_cert(out["certPem"])
    cert.verify_directly_issued_by(cert)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.KeyUsage)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "spiffe://cluster/ns/default"
    ]
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski
    streets = cert.subject.get_attributes_for_oid(NameOID.STREET_ADDRESS)
    assert sorted(attribute.value for attribute in streets) == ["a", "b"]
    assert out["keyAlgorithm"] == "ECDSA"


def test_certificate_input_errors(answers: ProviderAnswers) -> None:
    """Unknown usages, a CA without subject, and a foreign CA key are refused."""
    key = key_outputs(answers, "err-key", algorithm="ED25519")
    base = {"privateKeyPem": key["privateKeyPem"], "validityPeriodHours": 1.0}
    token = pa.SELF_SIGNED_CERT
    with pytest.raises(ValueError, match="allowedUses"):
        answers.outputs(token, urn(token, "e1"), {**base, "allowedUses": ["flying"]})
    with pytest.raises(ValueError, match="distinguished name"):
        answers.outputs(token, urn(token, "e2"), {**base, "isCaCertificate": True})
    with pytest.raises(ValueError, match="validityPeriodHours"):
        answers.outputs(token, urn(token, "e3"), {"privateKeyPem": key["privateKeyPem"]})


def test_locally_signed_cert_rejects_mismatched_ca_key(
    answers: ProviderAnswers, chain: dict[str, dict[str, Any]]
) -> None:
    """The CA key must be the key of the CA certificate."""
    other = key_outputs(answers, "other-ca-key", algorithm="ED25519")
    with pytest.raises(ValueError, match="caCertPem"):
        answers.outputs(
            pa.LOCALLY_SIGNED_CERT,
            urn(pa.LOCALLY_SIGNED_CERT, "mismatch"),
            {
                "certRequestPem": chain["csr"]["certRequestPem"],
                "caPrivateKeyPem": other["privateKeyPem"],
                "caCertPem": chain["ca"]["certPem"],
                "validityPeriodHours": 1.0,
            },
        )


# -- random -----------------------------------------------------------------------------------


def random_outputs(
    answers: ProviderAnswers, token: str, name: str, **inputs: Any
) -> dict[str, Any]:
    """The outputs of a random resource named ``name``."""
    return answers.outputs(token, urn(token, name), inputs)


@pytest.mark.parametrize("token", [pa.RANDOM_STRING, pa.RANDOM_PASSWORD])
def test_random_string_defaults(answers: ProviderAnswers, token: str) -> None:
    """Default flags: upper, lower, digits and the provider's special characters."""
    out = random_outputs(answers, token, "defaults", length=200.0)
    result = out["result"]
    assert len(result) == 200
    allowed = set(string.ascii_letters + string.digits + pa.DEFAULT_SPECIAL)
    assert set(result) <= allowed
    assert set(result) & set(pa.DEFAULT_SPECIAL)
    assert out["special"] is True and out["numeric"] is True and out["number"] is True


@pytest.mark.parametrize(
    ("flags", "alphabet"),
    [
        ({"special": False}, string.ascii_letters + string.digits),
        ({"special": False, "upper": False}, string.ascii_lowercase + string.digits),
        ({"special": False, "numeric": False}, string.ascii_letters),
        ({"special": False, "number": False}, string.ascii_letters),
        ({"upper": False, "lower": False, "numeric": False}, pa.DEFAULT_SPECIAL),
        ({"overrideSpecial": "-_", "upper": False, "lower": False}, string.digits + "-_"),
    ],
)
def test_random_string_flags(
    answers: ProviderAnswers, flags: dict[str, Any], alphabet: str
) -> None:
    """Each flag removes its class of characters; overrideSpecial replaces the specials."""
    result = random_outputs(answers, pa.RANDOM_STRING, f"flags-{flags}", length=64.0, **flags)[
        "result"
    ]
    assert len(result) == 64
    assert set(result) <= set(alphabet)


def test_random_string_minimums(answers: ProviderAnswers) -> None:
    """min* counts are met, even for a class whose flag is off."""
    result = random_outputs(
        answers,
        pa.RANDOM_STRING,
        "minimums",
        length=12.0,
        special=False,
        minUpper=3.0,
        minLower=3.0,
        minNumeric=3.0,
        minSpecial=2.0,
    )["result"]
    assert len(result) == 12
    assert sum(c.isupper() for c in result) >= 3
    assert sum(c.islower() for c in result) >= 3
    assert sum(c.isdigit() for c in result) >= 3
    assert sum(c in pa.DEFAULT_SPECIAL for c in result) == 2


def test_random_string_invalid(answers: ProviderAnswers) -> None:
    """Length below the minimums, or no character class at all, is an error."""
    with pytest.raises(ValueError, match="minimums"):
        random_outputs(answers, pa.RANDOM_STRING, "short", length=2.0, minUpper=3.0)
    with pytest.raises(ValueError, match="at least one"):
        random_outputs(
            answers,
            pa.RANDOM_STRING,
            "empty",
            length=4.0,
            upper=False,
            lower=False,
            numeric=False,
            special=False,
        )


def test_random_password_bcrypt_hash(answers: ProviderAnswers) -> None:
    """bcryptHash checks against the password when bcrypt is installed, else is absent."""
    out = random_outputs(answers, pa.RANDOM_PASSWORD, "pw", length=24.0)
    try:
        import bcrypt
    except ImportError:
        assert "bcryptHash" not in out
        return
    assert out["bcryptHash"].startswith("$2a$10$")
    assert bcrypt.checkpw(out["result"].encode(), out["bcryptHash"].encode())
    again = random_outputs(ProviderAnswers(SEED, CLOCK), pa.RANDOM_PASSWORD, "pw", length=24.0)
    assert again["bcryptHash"] == out["bcryptHash"]


def test_bcrypt_salt_is_deterministic_and_well_formed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bcrypt salt comes from the stream in bcrypt's base64 alphabet (checked with a fake)."""
    salts: list[bytes] = []

    class FakeBcrypt:
        """Records the salt instead of hashing."""

        @staticmethod
        def hashpw(password: bytes, salt: bytes) -> bytes:
            """Return the salt it was given, prefixed like a hash."""
            assert len(password) <= 72
            salts.append(salt)
            return salt + b"x" * 31

    monkeypatch.setattr(pa, "_bcrypt_module", lambda: FakeBcrypt)
    for _ in range(2):
        out = random_outputs(ProviderAnswers(SEED, CLOCK), pa.RANDOM_PASSWORD, "fake", length=100.0)
        assert out["bcryptHash"].startswith("$2a$10$")
    assert salts[0] == salts[1]
    body = salts[0].decode()[len("$2a$10$") :]
    bcrypt_alphabet = "./" + string.ascii_uppercase + string.ascii_lowercase + string.digits
    assert len(body) == 22 and set(body) <= set(bcrypt_alphabet)


@pytest.mark.parametrize("size", [1, 4, 8, 32])
def test_random_id(answers: ProviderAnswers, size: int) -> None:
    """hex has 2 * byteLength digits; all forms encode the same bytes."""
    out = random_outputs(answers, pa.RANDOM_ID, f"id-{size}", byteLength=float(size))
    data = bytes.fromhex(out["hex"])
    assert len(out["hex"]) == 2 * size
    assert base64.b64decode(out["b64Std"]) == data
    assert "=" not in out["b64Url"]
    assert base64.urlsafe_b64decode(out["b64Url"] + "=" * (-len(out["b64Url"]) % 4)) == data
    assert int(out["dec"]) == int.from_bytes(data, "big")


def test_random_id_prefix(answers: ProviderAnswers) -> None:
    """The prefix goes in front of every form."""
    out = random_outputs(answers, pa.RANDOM_ID, "prefixed", byteLength=4.0, prefix="coe-")
    for name in ("hex", "b64Std", "b64Url", "dec"):
        assert out[name].startswith("coe-")
    assert len(out["hex"]) == len("coe-") + 8


def test_random_bytes(answers: ProviderAnswers) -> None:
    """base64 and hex of ``length`` bytes."""
    out = random_outputs(answers, pa.RANDOM_BYTES, "bytes", length=32.0)
    assert base64.b64decode(out["base64"]) == bytes.fromhex(out["hex"])
    assert len(out["hex"]) == 64


@pytest.mark.parametrize("token", [pa.RANDOM_UUID, pa.RANDOM_UUID4])
def test_random_uuid_is_version_4(answers: ProviderAnswers, token: str) -> None:
    """A canonical version-4 UUID."""
    result = random_outputs(answers, token, "uuid")["result"]
    parsed = uuid.UUID(result)
    assert str(parsed) == result
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_random_uuid7_carries_the_clock(answers: ProviderAnswers) -> None:
    """A version-7 UUID whose timestamp is the clock."""
    parsed = uuid.UUID(random_outputs(answers, pa.RANDOM_UUID7, "uuid7")["result"])
    assert parsed.version == 7
    millis = parsed.int >> 80
    expected = datetime.datetime(2025, 3, 1, 8, 30, 15, tzinfo=datetime.UTC).timestamp() * 1000
    assert millis == int(expected)


def test_random_integer(answers: ProviderAnswers) -> None:
    """Results stay within [min, max]; equal seed inputs give equal results."""
    results = {
        random_outputs(answers, pa.RANDOM_INTEGER, f"int-{i}", min=10.0, max=20.0)["result"]
        for i in range(40)
    }
    assert results <= set(range(10, 21)) and len(results) > 1
    seeded = {
        random_outputs(answers, pa.RANDOM_INTEGER, f"s-{i}", min=0.0, max=10**9, seed="x")["result"]
        for i in range(3)
    }
    assert len(seeded) == 1
    with pytest.raises(ValueError):
        random_outputs(answers, pa.RANDOM_INTEGER, "bad", min=5.0, max=1.0)


def test_random_pet(answers: ProviderAnswers) -> None:
    """length words joined by separator, prefix in front, returned as the resource id."""
    assert len(random_outputs(answers, pa.RANDOM_PET, "pet")["id"].split("-")) == 2
    three = random_outputs(answers, pa.RANDOM_PET, "pet3", length=3.0, separator="_")
    assert len(three["id"].split("_")) == 3
    prefixed = random_outputs(answers, pa.RANDOM_PET, "pet-p", prefix="coe")
    assert prefixed["id"].startswith("coe-") and len(prefixed["id"].split("-")) == 3
    assert prefixed["length"] == 2 and prefixed["separator"] == "-"


def test_random_shuffle(answers: ProviderAnswers) -> None:
    """A permutation of the inputs; more results than inputs repeat whole permutations."""
    items = [f"az-{i}" for i in range(6)]
    out = random_outputs(answers, pa.RANDOM_SHUFFLE, "shuffle", inputs=items)
    assert sorted(out["results"]) == items
    longer = random_outputs(answers, pa.RANDOM_SHUFFLE, "long", inputs=items, resultCount=9.0)
    assert len(longer["results"]) == 9 and sorted(longer["results"][:6]) == items


# -- under the Pulumi mocks runtime ------------------------------------------------------------


def test_under_pulumi_mocks() -> None:
    """Wired into pulumi.runtime.Mocks, the SDK resources resolve to real PKI material."""
    import pulumi
    import pulumi_random as random_provider
    import pulumi_tls as tls

    answers = ProviderAnswers(SEED, CLOCK)

    class Mocks(pulumi.runtime.Mocks):
        """Answers tls/random resources, echoes everything else."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            """The provider answer for tls/random resources."""
            resource_urn = urn(args.typ, args.name)
            if not answers.answers(args.typ):
                return f"{args.name}_id", dict(args.inputs)
            state = answers.outputs(args.typ, resource_urn, dict(args.inputs))
            return str(state.pop("id", f"{args.name}_id")), state

        def call(
            self, args: pulumi.runtime.MockCallArgs
        ) -> tuple[dict, list[tuple[str, str]] | None]:
            """No invokes are used."""
            return {}, None

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    key = tls.PrivateKey("ca-key", algorithm="RSA", rsa_bits=2048)
    cert = tls.SelfSignedCert(
        "ca",
        private_key_pem=key.private_key_pem,
        validity_period_hours=24,
        is_ca_certificate=True,
        allowed_uses=["cert_signing"],
        subject=tls.SelfSignedCertSubjectArgs(common_name="ca"),
    )
    token = random_provider.RandomString("token", length=16, special=False, upper=False)
    pet = random_provider.RandomPet("pet")

    def check(values: list[Any]) -> None:
        """The certificate is a CA certificate of the key; the token has the asked shape."""
        cert_pem, key_pem, token_value, pet_id = values
        certificate = load_cert(cert_pem)
        private = serialization.load_pem_private_key(key_pem.encode(), password=None)
        assert certificate.public_key() == private.public_key()
        assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert len(token_value) == 16 and token_value == token_value.lower()
        assert token_value.isalnum()
        assert len(pet_id.split("-")) == 2

    @pulumi.runtime.test
    def run() -> pulumi.Output[None]:
        """Resolve the outputs and check them."""
        return pulumi.Output.all(cert.cert_pem, key.private_key_pem, token.result, pet.id).apply(
            check
        )

    run()
