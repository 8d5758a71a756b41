"""Answers for pulumi-tls and pulumi-random resources under the Pulumi mocks runtime.

The offline plan runs a Pulumi program with ``pulumi.runtime.set_mocks``; nothing is created, so
every resource's outputs have to be made up. For the tls and random providers made-up values are
not good enough: a kubeconfig needs a real CA certificate, kubeadm's discovery hash needs a real
public key, a bootstrap token must have the shape the provider gives it. ``ProviderAnswers``
computes those outputs the way the Terraform tls and random providers (which the Pulumi SDKs
bridge) compute them: real keys, real certificates signed by the given keys, real random values.

Determinism
    Two plan runs with the same seed must produce identical bytes, so nothing here draws from the
    operating system's randomness or the wall clock. Every random value comes from a stream of
    HMAC-SHA256 blocks keyed by the seed over (purpose, URN, block counter); the validity window of
    certificates starts at the ``clock`` handed to the constructor.

    * RSA keys are built from primes found by an incremental search from a random start drawn
      from that stream: odd numbers sieved by the primes below 2**16, then Miller-Rabin with
      witnesses from the stream; e = 65537. Generated keys are cached per (URN, algorithm, size)
      in the instance.
    * ECDSA keys use a private scalar drawn uniformly from [1, n-1]; Ed25519 keys 32 seed bytes.
    * Certificate serial numbers (128 bits, as the provider draws them) and the check integer of
      OpenSSH private keys come from the stream as well.
    * RSA signatures (PKCS#1 v1.5) and Ed25519 signatures are deterministic by construction.
      ECDSA signatures are randomised in general: they are made deterministic (RFC 6979) when the
      installed ``cryptography`` supports ``ecdsa_deterministic`` (>= 44, with OpenSSL >= 3.2).
      With an older ``cryptography`` a certificate or CSR signed by an ECDSA key differs from run
      to run; every other output (keys included) stays deterministic.
    * The bcrypt hash of a ``RandomPassword`` uses a salt from the stream, so it is deterministic
      too. It is only produced when the ``bcrypt`` module is importable; otherwise the key is left
      out of the outputs.

Fidelity to the providers
    Output names are the SDKs' camelCase output properties. Formats follow the Terraform
    providers: PKCS#1 ``RSA PRIVATE KEY`` / SEC1 ``EC PRIVATE KEY`` / PKCS#8 (Ed25519) for
    ``privateKeyPem``; OpenSSH keys and fingerprints as ``golang.org/x/crypto/ssh`` writes them,
    empty strings for the P224 curve that SSH does not support; certificates with the extensions
    Go's ``x509.CreateCertificate`` writes for the provider's template (BasicConstraints always,
    critical; KeyUsage critical; a subject key identifier on CA certificates; the issuer's key
    identifier as authority key identifier on locally signed certificates); RFC 3339 validity
    times. The values themselves of course differ from what the real provider would draw.
    Write-only inputs (``privateKeyPemWo``, ``caPrivateKeyPemWo``) are used but, like the
    provider's state, not echoed back. Defaults the provider records in its state (``rsaBits``,
    ``ecdsaCurve``, the flags of ``RandomString``...) are filled in when the input is absent.
    The pet name of a ``RandomPet`` is the resource ID in the provider; it comes back under the
    ``id`` key, for the mocks to use as the resource's ID.

Inputs arrive as the mocks runtime delivers them: camelCase keys, numbers as floats, secrets
wrapped in the runtime's secret envelope (unwrapped here before use, left as they are in the
returned dict).
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import importlib
import inspect
import ipaddress
import math
import struct
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID, ObjectIdentifier

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED_CERT = "tls:index/selfSignedCert:SelfSignedCert"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
LOCALLY_SIGNED_CERT = "tls:index/locallySignedCert:LocallySignedCert"
RANDOM_STRING = "random:index/randomString:RandomString"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
RANDOM_BYTES = "random:index/randomBytes:RandomBytes"
RANDOM_UUID = "random:index/randomUuid:RandomUuid"
RANDOM_UUID4 = "random:index/randomUuid4:RandomUuid4"
RANDOM_UUID7 = "random:index/randomUuid7:RandomUuid7"
RANDOM_INTEGER = "random:index/randomInteger:RandomInteger"
RANDOM_PET = "random:index/randomPet:RandomPet"
RANDOM_SHUFFLE = "random:index/randomShuffle:RandomShuffle"

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""The private key types the tls provider generates and signs with."""

# The mocks runtime hands secrets over as {SECRET_SIG_KEY: SECRET_SIG, "value": ...} and values
# not known yet as UNKNOWN (pulumi.runtime.rpc protocol constants).
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_WRITE_ONLY_INPUTS = frozenset({"privateKeyPemWo", "caPrivateKeyPemWo"})

# ---------------------------------------------------------------------------------------------
# Deterministic randomness
# ---------------------------------------------------------------------------------------------


_GENERATED_KEYS: dict[tuple[bytes, str, str, str], Any] = {}
"""Keys derived so far in this process, by (seed, URN, algorithm, size or curve)."""


class DeterministicStream:
    """An endless byte stream: HMAC-SHA256(seed, purpose || urn || counter), block after block.

    Each (seed, purpose, urn) triple gives an independent stream; the same triple always gives
    the same bytes.
    """

    def __init__(self, seed: bytes, purpose: str, urn: str) -> None:
        """Start the stream of ``purpose`` for the resource ``urn`` under ``seed``."""
        self._key = seed
        self._prefix = b"".join(_length_prefixed(part.encode()) for part in (purpose, urn))
        self._counter = 0
        self._buffer = bytearray()

    def read(self, count: int) -> bytes:
        """The next ``count`` bytes of the stream."""
        while len(self._buffer) < count:
            block = self._prefix + self._counter.to_bytes(8, "big")
            self._buffer += hmac.new(self._key, block, hashlib.sha256).digest()
            self._counter += 1
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        return chunk

    def randbits(self, bits: int) -> int:
        """A uniform integer in [0, 2**bits)."""
        if bits <= 0:
            return 0
        size = (bits + 7) // 8
        return int.from_bytes(self.read(size), "big") >> (size * 8 - bits)

    def randbelow(self, bound: int) -> int:
        """A uniform integer in [0, bound), by rejection sampling."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        bits = bound.bit_length()
        while True:
            value = self.randbits(bits)
            if value < bound:
                return value

    def choice(self, alphabet: Sequence[str]) -> str:
        """A uniform element of ``alphabet``."""
        return alphabet[self.randbelow(len(alphabet))]

    def shuffle(self, items: list[Any]) -> None:
        """Shuffle ``items`` in place (Fisher-Yates)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]


def _length_prefixed(data: bytes) -> bytes:
    """``data`` preceded by its length, so that concatenated parts cannot run into each other."""
    return len(data).to_bytes(4, "big") + data


# ---------------------------------------------------------------------------------------------
# Key generation
# ---------------------------------------------------------------------------------------------

RSA_EXPONENT = 65537


def _small_primes(limit: int) -> list[int]:
    """The primes below ``limit`` (sieve of Eratosthenes)."""
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\x00\x00"
    for i in range(2, math.isqrt(limit) + 1):
        if sieve[i]:
            sieve[i * i :: i] = bytes(len(range(i * i, limit, i)))
    return [i for i, is_prime in enumerate(sieve) if is_prime]


_SIEVE_PRIMES = tuple((q, (q + 1) // 2) for q in _small_primes(1 << 16)[1:])
"""The odd primes below 2**16, each with the inverse of 2 modulo it."""

_SIEVE_WINDOW = 4096
"""Odd numbers sieved per random start; a 1024-bit prime is on average 355 odd numbers away."""


def _miller_rabin_rounds(bits: int) -> int:
    """Rounds for an error below 2**-96 on random candidates (FIPS 186-4, table C.3)."""
    if bits >= 1536:
        return 3
    if bits >= 1024:
        return 4
    if bits >= 512:
        return 7
    return 12


def _is_probable_prime(candidate: int, stream: DeterministicStream, rounds: int) -> bool:
    """Miller-Rabin with ``rounds`` witnesses drawn from ``stream``."""
    if candidate < 5 or candidate % 2 == 0:
        return candidate in (2, 3)
    odd = candidate - 1
    twos = (odd & -odd).bit_length() - 1
    odd >>= twos
    for _ in range(rounds):
        witness = 2 + stream.randbelow(candidate - 3)
        x = pow(witness, odd, candidate)
        if x in (1, candidate - 1):
            continue
        for _ in range(twos - 1):
            x = pow(x, 2, candidate)
            if x == candidate - 1:
                break
        else:
            return False
    return True


def _sieve_survivors(start: int, window: int) -> list[int]:
    """The k in [0, window) for which start + 2k has no odd prime factor below 2**16."""
    sieve = bytearray([1]) * window
    for prime, half in _SIEVE_PRIMES:
        # start + 2k = 0 (mod prime)  <=>  k = -start / 2 (mod prime)
        first = (prime - start % prime) * half % prime
        if first < window:
            sieve[first::prime] = bytes((window - 1 - first) // prime + 1)
    return [k for k, alive in enumerate(sieve) if alive]


def _random_prime(bits: int, stream: DeterministicStream) -> int:
    """A prime of exactly ``bits`` bits, top two bits set, with gcd(p - 1, e) = 1.

    Draws a random odd start from ``stream`` and tests the sieved odd numbers after it in
    order (incremental search, as OpenSSL and Go do), drawing a new start if the window has none.
    """
    rounds = _miller_rabin_rounds(bits)
    top_bits = 0b11 << (bits - 2)
    while True:
        start = stream.randbits(bits) | top_bits | 1
        for offset in _sieve_survivors(start, _SIEVE_WINDOW):
            candidate = start + 2 * offset
            if candidate.bit_length() != bits:
                break
            if (candidate - 1) % RSA_EXPONENT == 0:
                continue
            if _is_probable_prime(candidate, stream, rounds):
                return candidate


def derive_rsa_key(bits: int, stream: DeterministicStream) -> rsa.RSAPrivateKey:
    """An RSA key of ``bits`` bits (e = 65537) whose primes come from ``stream``."""
    if bits < 512:
        raise ValueError(f"rsaBits must be at least 512, got {bits}")
    p_bits = (bits + 1) // 2
    q_bits = bits - p_bits
    p = _random_prime(p_bits, stream)
    while True:
        q = _random_prime(q_bits, stream)
        # FIPS 186-5 asks |p - q| > 2**(bits/2 - 100); it also rules out p == q.
        if abs(p - q).bit_length() > bits // 2 - 100:
            break
    p, q = max(p, q), min(p, q)
    return _rsa_key_from_primes(p, q)


def _rsa_key_from_primes(p: int, q: int) -> rsa.RSAPrivateKey:
    """The RSA private key with primes ``p``, ``q`` and e = 65537; d is taken mod lcm(p-1, q-1)."""
    d = pow(RSA_EXPONENT, -1, math.lcm(p - 1, q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(RSA_EXPONENT, p * q),
    )
    # The primes passed Miller-Rabin above; OpenSSL's own key check would test them again.
    return numbers.private_key(unsafe_skip_rsa_key_validation=True)


_ECDSA_CURVES: dict[str, tuple[Callable[[], ec.EllipticCurve], int]] = {
    "P224": (ec.SECP224R1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFF16A2E0B8F03E13DD29455C5C2A3D),
    "P256": (
        ec.SECP256R1,
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    ),
    "P384": (
        ec.SECP384R1,
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    "P521": (
        ec.SECP521R1,
        int(
            "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7F"
            "CC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
            16,
        ),
    ),
}
"""The tls provider's curve names, with the curve and its group order."""


def derive_ecdsa_key(curve_name: str, stream: DeterministicStream) -> ec.EllipticCurvePrivateKey:
    """An ECDSA key on ``curve_name`` (P224, P256, P384, P521) with a scalar from ``stream``."""
    if curve_name not in _ECDSA_CURVES:
        raise ValueError(f"ecdsaCurve must be one of {sorted(_ECDSA_CURVES)}, got {curve_name!r}")
    curve, order = _ECDSA_CURVES[curve_name]
    return ec.derive_private_key(1 + stream.randbelow(order - 1), curve())


def derive_ed25519_key(stream: DeterministicStream) -> ed25519.Ed25519PrivateKey:
    """An Ed25519 key from 32 bytes of ``stream``."""
    return ed25519.Ed25519PrivateKey.from_private_bytes(stream.read(32))


def key_algorithm(key: SigningKey | CertificatePublicKeyTypes) -> str:
    """The tls provider's name for the algorithm of ``key``: RSA, ECDSA or ED25519."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ED25519"
    raise ValueError(f"unsupported key type {type(key).__name__}")


def load_private_key(pem: str) -> SigningKey:
    """Parse a PEM private key of one of the types the tls provider handles."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        return key
    raise ValueError(f"unsupported private key type {type(key).__name__}")


# ---------------------------------------------------------------------------------------------
# Key encodings (PEM, OpenSSH)
# ---------------------------------------------------------------------------------------------


def private_key_pem(key: SigningKey) -> str:
    """``privateKeyPem``: PKCS#1 for RSA, SEC1 for ECDSA, PKCS#8 for Ed25519."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return private_key_pem_pkcs8(key)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def private_key_pem_pkcs8(key: SigningKey) -> str:
    """``privateKeyPemPkcs8``: the key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(key: SigningKey) -> str:
    """``publicKeyPem``: the public key as PKIX (SubjectPublicKeyInfo) PEM."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def ssh_public_blob(key: SigningKey) -> bytes | None:
    """The SSH wire encoding of the public key, or None where SSH has no format (P224)."""
    try:
        line = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    except (ValueError, UnsupportedAlgorithm):
        return None
    return base64.b64decode(line.split()[1])


def _ssh_string(data: bytes) -> bytes:
    """SSH ``string``: uint32 length, then the bytes."""
    return struct.pack(">I", len(data)) + data


def _ssh_mpint(value: int) -> bytes:
    """SSH ``mpint`` of a non-negative integer: minimal two's complement, big-endian."""
    if value == 0:
        return _ssh_string(b"")
    return _ssh_string(value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _ssh_private_fields(key: SigningKey, public_blob: bytes) -> bytes:
    """The key type and key material of an OpenSSH private key record."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        return _ssh_string(b"ssh-rsa") + b"".join(
            _ssh_mpint(value)
            for value in (
                numbers.public_numbers.n,
                numbers.public_numbers.e,
                numbers.d,
                numbers.iqmp,
                numbers.p,
                numbers.q,
            )
        )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return public_blob + _ssh_mpint(key.private_numbers().private_value)
    seed = key.private_bytes_raw()
    return public_blob + _ssh_string(seed + key.public_key().public_bytes_raw())


def _pem_block(label: str, data: bytes) -> str:
    """A PEM block with 64-column base64 lines, as Go's ``encoding/pem`` writes it."""
    encoded = base64.b64encode(data).decode()
    lines = [encoded[i : i + 64] for i in range(0, len(encoded), 64)]
    body = "".join(f"{line}\n" for line in lines)
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def private_key_openssh(key: SigningKey, check: bytes) -> str:
    """``privateKeyOpenssh``: the unencrypted ``openssh-key-v1`` format with an empty comment.

    ``check`` is the 4-byte check integer (random in the provider, from the stream here); the
    record is padded to 8 bytes as OpenSSH and Go pad it. Empty for keys SSH cannot encode.
    """
    public_blob = ssh_public_blob(key)
    if public_blob is None:
        return ""
    record = check + check + _ssh_private_fields(key, public_blob) + _ssh_string(b"")
    record += bytes(range(1, 1 + (-len(record) % 8)))
    body = (
        b"openssh-key-v1\x00"
        + _ssh_string(b"none")
        + _ssh_string(b"none")
        + _ssh_string(b"")
        + struct.pack(">I", 1)
        + _ssh_string(public_blob)
        + _ssh_string(record)
    )
    return _pem_block("OPENSSH PRIVATE KEY", body)


def public_key_openssh(key: SigningKey) -> str:
    """``publicKeyOpenssh``: an authorized_keys line with its trailing newline, or ""."""
    blob = ssh_public_blob(key)
    if blob is None:
        return ""
    key_type = blob[4 : 4 + struct.unpack(">I", blob[:4])[0]].decode()
    return f"{key_type} {base64.b64encode(blob).decode()}\n"


def fingerprint_md5(key: SigningKey) -> str:
    """``publicKeyFingerprintMd5``: ``aa:bb:...`` over the SSH public key, or ""."""
    blob = ssh_public_blob(key)
    if blob is None:
        return ""
    digest = hashlib.md5(blob, usedforsecurity=False).digest()
    return ":".join(f"{byte:02x}" for byte in digest)


def fingerprint_sha256(key: SigningKey) -> str:
    """``publicKeyFingerprintSha256``: ``SHA256:`` and unpadded base64, or ""."""
    blob = ssh_public_blob(key)
    if blob is None:
        return ""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# Certificates
# ---------------------------------------------------------------------------------------------

_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "cert_signing",
    "crl_signing",
    "encipher_only",
    "decipher_only",
)
"""The ``allowedUses`` values that are KeyUsage bits, in the extension's bit order."""

_EXTENDED_KEY_USAGES: dict[str, ObjectIdentifier] = {
    "any_extended": ObjectIdentifier("2.5.29.37.0"),
    "server_auth": ObjectIdentifier("1.3.6.1.5.5.7.3.1"),
    "client_auth": ObjectIdentifier("1.3.6.1.5.5.7.3.2"),
    "code_signing": ObjectIdentifier("1.3.6.1.5.5.7.3.3"),
    "email_protection": ObjectIdentifier("1.3.6.1.5.5.7.3.4"),
    "ipsec_end_system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ObjectIdentifier("1.3.6.1.5.5.7.3.8"),
    "ocsp_signing": ObjectIdentifier("1.3.6.1.5.5.7.3.9"),
    "microsoft_server_gated_crypto": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}
"""The ``allowedUses`` values that are extended key usages."""

_SUBJECT_FIELDS: tuple[tuple[tuple[str, ...], ObjectIdentifier], ...] = (
    (("country", "countries"), NameOID.COUNTRY_NAME),
    (("province", "provinces"), NameOID.STATE_OR_PROVINCE_NAME),
    (("locality", "localities"), NameOID.LOCALITY_NAME),
    (("streetAddresses", "streetAddress"), NameOID.STREET_ADDRESS),
    (("postalCode", "postalCodes"), NameOID.POSTAL_CODE),
    (("organization", "organizations"), NameOID.ORGANIZATION_NAME),
    (("organizationalUnit", "organizationalUnits"), NameOID.ORGANIZATIONAL_UNIT_NAME),
    (("commonName",), NameOID.COMMON_NAME),
    (("serialNumber",), NameOID.SERIAL_NUMBER),
    (("emailAddress",), NameOID.EMAIL_ADDRESS),
)
"""Subject input keys (the SDK's, plus plural aliases) in the order Go's pkix.Name writes them."""


def usage_extensions(
    allowed_uses: Iterable[str],
) -> tuple[x509.KeyUsage | None, x509.ExtendedKeyUsage | None]:
    """KeyUsage and ExtendedKeyUsage for the provider's ``allowedUses`` names.

    Either is None when no name of its kind is listed (Go then writes no extension).
    ``encipher_only``/``decipher_only`` only mean something with ``key_agreement`` and are
    dropped without it (``cryptography`` refuses them alone).
    """
    uses = list(allowed_uses)
    unknown = sorted(set(uses) - set(_KEY_USAGES) - set(_EXTENDED_KEY_USAGES))
    if unknown:
        raise ValueError(f"unknown allowedUses {unknown}")
    key_bits = {name: name in uses for name in _KEY_USAGES}
    if not key_bits["key_agreement"]:
        key_bits["encipher_only"] = key_bits["decipher_only"] = False
    key_usage = None
    if any(key_bits.values()):
        key_usage = x509.KeyUsage(
            digital_signature=key_bits["digital_signature"],
            content_commitment=key_bits["content_commitment"],
            key_encipherment=key_bits["key_encipherment"],
            data_encipherment=key_bits["data_encipherment"],
            key_agreement=key_bits["key_agreement"],
            key_cert_sign=key_bits["cert_signing"],
            crl_sign=key_bits["crl_signing"],
            encipher_only=key_bits["encipher_only"],
            decipher_only=key_bits["decipher_only"],
        )
    purposes = list(
        dict.fromkeys(_EXTENDED_KEY_USAGES[u] for u in uses if u in _EXTENDED_KEY_USAGES)
    )
    return key_usage, x509.ExtendedKeyUsage(purposes) if purposes else None


def subject_name(subject: Mapping[str, Any] | None) -> x509.Name:
    """The X.509 name for a ``subject`` input; several values of one field share one RDN."""
    rdns: list[x509.RelativeDistinguishedName] = []
    for keys, oid in _SUBJECT_FIELDS:
        values: list[str] = []
        for key in keys:
            values += _string_list((subject or {}).get(key))
        values = [v for v in dict.fromkeys(values) if v]
        if values:
            rdns.append(
                x509.RelativeDistinguishedName([x509.NameAttribute(oid, v) for v in values])
            )
    return x509.Name(rdns)


def subject_alternative_names(
    dns_names: Iterable[str], ip_addresses: Iterable[str], uris: Iterable[str]
) -> list[x509.GeneralName]:
    """DNS names, IP addresses and URIs as general names, in the order Go writes them."""
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    names += [x509.UniformResourceIdentifier(uri) for uri in uris]
    return names


def subject_key_id(public_key: CertificatePublicKeyTypes) -> bytes:
    """The provider's subject key identifier: SHA-1 over the encoded public key.

    RSA and ECDSA hash the subjectPublicKey bits (RFC 5280, method 1); for Ed25519 the provider
    hashes the key as an ASN.1 OCTET STRING, which is reproduced here.
    """
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes_raw()
        return hashlib.sha1(bytes([0x04, len(raw)]) + raw, usedforsecurity=False).digest()
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest


def _signature_hash(key: SigningKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    """The digest Go's x509 package picks for ``key``: SHA-256, SHA-384/512 for P384/P521."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP384R1):
            return hashes.SHA384()
        if isinstance(key.curve, ec.SECP521R1):
            return hashes.SHA512()
    return hashes.SHA256()


@functools.cache
def _deterministic_ecdsa_supported() -> bool:
    """Whether this ``cryptography`` can sign certificates with RFC 6979 ECDSA."""
    return "ecdsa_deterministic" in inspect.signature(x509.CertificateBuilder.sign).parameters


def sign_certificate(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    """Sign ``builder`` with ``key``; deterministically for ECDSA where supported."""
    algorithm = _signature_hash(key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and _deterministic_ecdsa_supported():
        try:
            return builder.sign(key, algorithm, ecdsa_deterministic=True)
        except UnsupportedAlgorithm:
            pass
    return builder.sign(key, algorithm)


def sign_request(
    builder: x509.CertificateSigningRequestBuilder, key: SigningKey
) -> x509.CertificateSigningRequest:
    """Sign the CSR ``builder`` with ``key``; deterministically for ECDSA where supported."""
    algorithm = _signature_hash(key)
    if isinstance(key, ec.EllipticCurvePrivateKey) and _deterministic_ecdsa_supported():
        try:
            return builder.sign(key, algorithm, ecdsa_deterministic=True)
        except UnsupportedAlgorithm:
            pass
    return builder.sign(key, algorithm)


def rfc3339(moment: datetime.datetime) -> str:
    """``moment`` (UTC) as RFC 3339 with a ``Z`` suffix."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class CertificateProfile:
    """What a certificate resource asks for, beyond subject and key."""

    validity_hours: int
    early_renewal_hours: int
    is_ca: bool
    max_path_length: int | None
    allowed_uses: tuple[str, ...]
    set_subject_key_id: bool

    @classmethod
    def from_inputs(cls, inputs: ResourceInputs) -> CertificateProfile:
        """Read the profile from a SelfSignedCert or LocallySignedCert's inputs."""
        hours = inputs.integer("validityPeriodHours")
        if hours is None:
            raise ValueError("validityPeriodHours is required")
        max_path = inputs.integer("maxPathLength")
        return cls(
            validity_hours=hours,
            early_renewal_hours=inputs.integer("earlyRenewalHours") or 0,
            is_ca=inputs.flag("isCaCertificate", False),
            max_path_length=max_path if max_path is not None and max_path > 0 else None,
            allowed_uses=tuple(inputs.strings("allowedUses")),
            set_subject_key_id=inputs.flag("setSubjectKeyId", False),
        )


@dataclass(frozen=True)
class Validity:
    """A certificate's validity window."""

    start: datetime.datetime
    end: datetime.datetime
    ready_for_renewal: bool

    @classmethod
    def starting(cls, clock: datetime.datetime, profile: CertificateProfile) -> Validity:
        """The window from ``clock`` for the profile's hours, and whether renewal is due."""
        end = clock + datetime.timedelta(hours=profile.validity_hours)
        renew_at = end - datetime.timedelta(hours=profile.early_renewal_hours)
        return cls(start=clock, end=end, ready_for_renewal=clock >= renew_at)

    def outputs(self) -> dict[str, Any]:
        """The validity outputs of a certificate resource."""
        return {
            "validityStartTime": rfc3339(self.start),
            "validityEndTime": rfc3339(self.end),
            "readyForRenewal": self.ready_for_renewal,
        }


def certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: CertificatePublicKeyTypes,
    serial: int,
    validity: Validity,
    profile: CertificateProfile,
) -> x509.CertificateBuilder:
    """The certificate template the provider hands to Go's ``x509.CreateCertificate``.

    Extensions in Go's order: KeyUsage (critical), ExtendedKeyUsage, BasicConstraints (always,
    critical), SubjectKeyIdentifier (asked for, or on a CA).
    """
    if profile.is_ca and len(subject) == 0:
        raise ValueError("a CA certificate needs at least one distinguished name in its subject")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(validity.start)
        .not_valid_after(validity.end)
    )
    key_usage, extended = usage_extensions(profile.allowed_uses)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if extended is not None:
        builder = builder.add_extension(extended, critical=False)
    path_length = profile.max_path_length if profile.is_ca else None
    builder = builder.add_extension(x509.BasicConstraints(profile.is_ca, path_length), True)
    if profile.set_subject_key_id or profile.is_ca:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier(subject_key_id(public_key)), critical=False
        )
    return builder


_Builder = TypeVar("_Builder", x509.CertificateBuilder, x509.CertificateSigningRequestBuilder)


def _with_san(builder: _Builder, subject: x509.Name, names: list[x509.GeneralName]) -> _Builder:
    """Add a SubjectAlternativeName (critical when the subject is empty) if there are names."""
    if not names:
        return builder
    return builder.add_extension(x509.SubjectAlternativeName(names), critical=len(subject) == 0)


def _authority_key_id(key_id: bytes) -> x509.AuthorityKeyIdentifier:
    """An AuthorityKeyIdentifier holding just the key identifier, as Go writes it."""
    return x509.AuthorityKeyIdentifier(
        key_identifier=key_id, authority_cert_issuer=None, authority_cert_serial_number=None
    )


def _issuer_key_id(ca_cert: x509.Certificate) -> bytes:
    """The CA's subject key identifier, or one computed from its public key if it has none."""
    try:
        return ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return subject_key_id(ca_cert.public_key())


def _requested_names(csr: x509.CertificateSigningRequest) -> list[x509.GeneralName]:
    """The DNS names, IP addresses and URIs a CSR asks for (what the provider copies)."""
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    kinds = (x509.DNSName, x509.IPAddress, x509.UniformResourceIdentifier)
    return [name for kind in kinds for name in san if isinstance(name, kind)]


def _cert_pem(certificate: x509.Certificate) -> str:
    """A certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


# ---------------------------------------------------------------------------------------------
# Random values
# ---------------------------------------------------------------------------------------------

_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"
"""The random provider's special characters when ``overrideSpecial`` is not set."""

_BCRYPT_COST = 10
_BCRYPT_ALPHABET = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
)

_PET_ADVERBS = (
    "amply", "briskly", "calmly", "deeply", "eagerly", "fairly", "gently", "happily", "ideally",
    "jointly", "kindly", "lively", "mainly", "neatly", "openly", "partly", "quickly", "rapidly",
    "slowly", "truly", "utterly", "vastly", "warmly", "wholly", "yearly", "zealously",
)  # fmt: skip
_PET_ADJECTIVES = (
    "able", "bold", "brave", "calm", "clever", "cosmic", "daring", "eager", "fancy", "fluent",
    "gentle", "golden", "happy", "honest", "humble", "jolly", "keen", "lucky", "merry", "modest",
    "noble", "polite", "proud", "quiet", "rapid", "sunny", "swift", "tidy", "upbeat", "vivid",
    "witty", "zesty",
)  # fmt: skip
_PET_NAMES = (
    "badger", "beaver", "bison", "camel", "cheetah", "crane", "dingo", "dolphin", "eagle",
    "falcon", "ferret", "gecko", "heron", "ibex", "jaguar", "koala", "lemur", "lynx", "marmot",
    "otter", "panda", "puffin", "quail", "raven", "salmon", "seal", "tapir", "toucan", "walrus",
    "wombat", "yak", "zebra",
)  # fmt: skip


def random_characters(inputs: ResourceInputs, stream: DeterministicStream) -> str:
    """The ``result`` of RandomString/RandomPassword, as the random provider builds it.

    First the ``min*`` characters of each class, then the rest from every enabled class, then a
    shuffle of the whole. ``numeric`` and its deprecated alias ``number`` must both be true.
    """
    length = inputs.integer("length")
    if length is None or length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    special = inputs.text("overrideSpecial") or DEFAULT_SPECIAL
    numeric = inputs.flag("numeric", True) and inputs.flag("number", True)
    classes = (
        (_DIGITS, numeric, inputs.integer("minNumeric") or 0),
        (_LOWER, inputs.flag("lower", True), inputs.integer("minLower") or 0),
        (_UPPER, inputs.flag("upper", True), inputs.integer("minUpper") or 0),
        (special, inputs.flag("special", True), inputs.integer("minSpecial") or 0),
    )
    minimum = sum(count for _, _, count in classes)
    if length < minimum:
        raise ValueError(f"length {length} is less than the sum of the minimums ({minimum})")
    alphabet = "".join(chars for chars, enabled, _ in classes if enabled)
    if length > minimum and not alphabet:
        raise ValueError("at least one of upper, lower, numeric and special must be true")
    result = [stream.choice(chars) for chars, _, count in classes for _ in range(count)]
    result += [stream.choice(alphabet) for _ in range(length - minimum)]
    stream.shuffle(result)
    return "".join(result)


@functools.cache
def _bcrypt_module() -> Any | None:
    """The ``bcrypt`` module, or None when it is not installed."""
    try:
        return importlib.import_module("bcrypt")
    except ImportError:
        return None


def bcrypt_hash(password: str, stream: DeterministicStream) -> str | None:
    """``bcryptHash`` ($2a$, cost 10, first 72 bytes as the provider) with a salt from ``stream``.

    None when ``bcrypt`` is not importable.
    """
    module = _bcrypt_module()
    if module is None:
        return None
    salt_chars = base64.b64encode(stream.read(16)).decode()[:22].translate(_BCRYPT_ALPHABET)
    salt = f"$2a${_BCRYPT_COST:02d}${salt_chars}".encode()
    return str(module.hashpw(password.encode()[:72], salt).decode())


def pet_name(length: int, separator: str, stream: DeterministicStream) -> str:
    """A pet name of ``length`` words: adverbs, then an adjective, then an animal."""
    if length < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    words = [stream.choice(_PET_ADVERBS) for _ in range(length - 2)]
    if length >= 2:
        words.append(stream.choice(_PET_ADJECTIVES))
    words.append(stream.choice(_PET_NAMES))
    return separator.join(words)


def uuid4_from(data: bytes) -> str:
    """A version-4 UUID string from 16 random bytes."""
    return str(uuid.UUID(bytes=data[:16], version=4))


def uuid7_from(clock: datetime.datetime, data: bytes) -> str:
    """A version-7 UUID string: ``clock`` in Unix milliseconds, then 74 random bits."""
    millis = int(clock.timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (int.from_bytes(data[:10], "big") & ((1 << 80) - 1))
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


# ---------------------------------------------------------------------------------------------
# Inputs as the mocks runtime delivers them
# ---------------------------------------------------------------------------------------------


def reveal(value: Any) -> Any:
    """``value`` with every secret envelope of the mocks runtime replaced by its content."""
    if isinstance(value, Mapping):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
            return reveal(value.get("value"))
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value


def _string_list(value: Any) -> list[str]:
    """A string or a list of strings as a list of strings (None as an empty list)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


class ResourceInputs:
    """Typed access to a resource's (revealed) inputs."""

    def __init__(self, type_token: str, values: Mapping[str, Any]) -> None:
        """Wrap the revealed ``values`` of a resource of type ``type_token``."""
        self._type = type_token
        self._values = values

    def _get(self, key: str) -> Any:
        """The raw value of ``key``; unknown values are an error."""
        value = self._values.get(key)
        if value == _UNKNOWN:
            raise ValueError(f"{self._type}: input {key} is not known")
        return value

    def text(self, key: str, default: str | None = None) -> str | None:
        """A string input."""
        value = self._get(key)
        return default if value is None else str(value)

    def required_text(self, *keys: str) -> str:
        """The first of ``keys`` that is set; an error if none is."""
        for key in keys:
            value = self.text(key)
            if value:
                return value
        raise ValueError(f"{self._type}: input {' or '.join(keys)} is required")

    def integer(self, key: str, default: int | None = None) -> int | None:
        """A number input as an int (the runtime delivers numbers as floats)."""
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not float(value).is_integer():
            raise ValueError(f"{self._type}: input {key} must be an integer, got {value!r}")
        return int(value)

    def flag(self, key: str, default: bool) -> bool:
        """A boolean input."""
        value = self._get(key)
        return default if value is None else bool(value)

    def strings(self, key: str) -> list[str]:
        """A list-of-strings input (absent as empty)."""
        return _string_list(self._get(key))

    def mapping(self, key: str) -> Mapping[str, Any] | None:
        """An object input."""
        value = self._get(key)
        return value if isinstance(value, Mapping) else None


# ---------------------------------------------------------------------------------------------
# The answers
# ---------------------------------------------------------------------------------------------

_DEFAULTS: dict[str, dict[str, Any]] = {
    PRIVATE_KEY: {"rsaBits": 2048, "ecdsaCurve": "P224"},
    SELF_SIGNED_CERT: {
        "earlyRenewalHours": 0,
        "isCaCertificate": False,
        "setSubjectKeyId": False,
        "setAuthorityKeyId": False,
    },
    LOCALLY_SIGNED_CERT: {
        "earlyRenewalHours": 0,
        "isCaCertificate": False,
        "setSubjectKeyId": False,
    },
    RANDOM_STRING: {
        "upper": True,
        "lower": True,
        "numeric": True,
        "number": True,
        "special": True,
        "minUpper": 0,
        "minLower": 0,
        "minNumeric": 0,
        "minSpecial": 0,
    },
    RANDOM_PET: {"length": 2, "separator": "-"},
}
_DEFAULTS[RANDOM_PASSWORD] = _DEFAULTS[RANDOM_STRING]

_Handler = Callable[[str, ResourceInputs], dict[str, Any]]


class ProviderAnswers:
    """Outputs of tls and random resources, computed for real and deterministically.

    ``seed`` fixes every random choice; ``clock`` is the "now" certificates start at. One
    instance serves a whole plan run and caches the keys it generates.
    """

    def __init__(self, seed: str, clock: datetime.datetime) -> None:
        """Answer with randomness derived from ``seed`` and time fixed at ``clock``.

        A naive ``clock`` is taken as UTC; it is truncated to whole seconds, the resolution of
        certificate validity times.
        """
        if clock.tzinfo is None:
            clock = clock.replace(tzinfo=datetime.UTC)
        self._seed = seed.encode()
        self._clock = clock.astimezone(datetime.UTC).replace(microsecond=0)
        self._parsed: dict[str, SigningKey] = {}
        self._handlers: dict[str, _Handler] = {
            PRIVATE_KEY: self._private_key,
            SELF_SIGNED_CERT: self._self_signed_cert,
            CERT_REQUEST: self._cert_request,
            LOCALLY_SIGNED_CERT: self._locally_signed_cert,
            RANDOM_STRING: self._random_string,
            RANDOM_PASSWORD: self._random_password,
            RANDOM_ID: self._random_id,
            RANDOM_BYTES: self._random_bytes,
            RANDOM_UUID: self._random_uuid,
            RANDOM_UUID4: self._random_uuid,
            RANDOM_UUID7: self._random_uuid7,
            RANDOM_INTEGER: self._random_integer,
            RANDOM_PET: self._random_pet,
            RANDOM_SHUFFLE: self._random_shuffle,
        }

    def answers(self, type_token: str) -> bool:
        """Whether resources of ``type_token`` are answered here."""
        return type_token in self._handlers

    def outputs(self, type_token: str, urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The resource's state: provider defaults, then ``inputs``, then the computed outputs.

        ``inputs`` are left as delivered (secret envelopes included); write-only inputs are not
        echoed back. Raises ``KeyError`` for a type not answered here and ``ValueError`` for
        inputs the provider would reject.
        """
        handler = self._handlers.get(type_token)
        if handler is None:
            raise KeyError(f"no answers for resource type {type_token}")
        computed = handler(urn, ResourceInputs(type_token, reveal(inputs)))
        echoed = {k: v for k, v in inputs.items() if k not in _WRITE_ONLY_INPUTS}
        return {**_DEFAULTS.get(type_token, {}), **echoed, **computed}

    # -- helpers -------------------------------------------------------------------------------

    def stream(self, purpose: str, urn: str) -> DeterministicStream:
        """The deterministic stream for ``purpose`` of the resource ``urn``."""
        return DeterministicStream(self._seed, purpose, urn)

    def generate_key(self, urn: str, algorithm: str, rsa_bits: int, curve: str) -> SigningKey:
        """The key a PrivateKey resource at ``urn`` gets; generated once per process.

        The key is a pure function of (seed, URN, algorithm), so plans run in one process
        (tests, property tests, benchmarks) share it instead of searching for primes again.
        """
        parameter = {"RSA": str(rsa_bits), "ECDSA": curve, "ED25519": ""}.get(algorithm)
        if parameter is None:
            raise ValueError(f"algorithm must be RSA, ECDSA or ED25519, got {algorithm!r}")
        cache_key = (self._seed, urn, algorithm, parameter)
        key = _GENERATED_KEYS.get(cache_key)
        if key is None:
            stream = self.stream(f"tls/private-key/{algorithm}/{parameter}", urn)
            if algorithm == "RSA":
                key = derive_rsa_key(rsa_bits, stream)
            elif algorithm == "ECDSA":
                key = derive_ecdsa_key(curve, stream)
            else:
                key = derive_ed25519_key(stream)
            _GENERATED_KEYS[cache_key] = key
        return key

    def _load_key(self, pem: str) -> SigningKey:
        """Parse a PEM private key, once per distinct PEM."""
        key = self._parsed.get(pem)
        if key is None:
            key = self._parsed[pem] = load_private_key(pem)
        return key

    def _serial(self, urn: str) -> int:
        """A certificate serial number: 128 bits from the stream, never zero."""
        return self.stream("tls/serial", urn).randbits(128) or 1

    # -- tls -----------------------------------------------------------------------------------

    def _private_key(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """PrivateKey: the key in every encoding the provider outputs."""
        algorithm = inputs.required_text("algorithm")
        key = self.generate_key(
            urn,
            algorithm,
            inputs.integer("rsaBits", 2048) or 2048,
            inputs.text("ecdsaCurve", "P224") or "P224",
        )
        check = self.stream("tls/openssh-check", urn).read(4)
        return {
            "privateKeyPem": private_key_pem(key),
            "privateKeyPemPkcs8": private_key_pem_pkcs8(key),
            "privateKeyOpenssh": private_key_openssh(key, check),
            "publicKeyPem": public_key_pem(key),
            "publicKeyOpenssh": public_key_openssh(key),
            "publicKeyFingerprintMd5": fingerprint_md5(key),
            "publicKeyFingerprintSha256": fingerprint_sha256(key),
        }

    def _self_signed_cert(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """SelfSignedCert: a certificate for the key's own subject, signed by that key."""
        key = self._load_key(inputs.required_text("privateKeyPem", "privateKeyPemWo"))
        profile = CertificateProfile.from_inputs(inputs)
        validity = Validity.starting(self._clock, profile)
        subject = subject_name(inputs.mapping("subject"))
        builder = certificate_builder(
            subject, subject, key.public_key(), self._serial(urn), validity, profile
        )
        if inputs.flag("setAuthorityKeyId", False):
            if not (profile.set_subject_key_id or profile.is_ca):
                raise ValueError(
                    "setAuthorityKeyId needs a subject key identifier: "
                    "set setSubjectKeyId or isCaCertificate"
                )
            key_id = subject_key_id(key.public_key())
            builder = builder.add_extension(_authority_key_id(key_id), critical=False)
        names = subject_alternative_names(
            inputs.strings("dnsNames"), inputs.strings("ipAddresses"), inputs.strings("uris")
        )
        certificate = sign_certificate(_with_san(builder, subject, names), key)
        return {
            "certPem": _cert_pem(certificate),
            "keyAlgorithm": key_algorithm(key),
            **validity.outputs(),
        }

    def _cert_request(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """CertRequest: a CSR for the subject and names, signed by the key."""
        key = self._load_key(inputs.required_text("privateKeyPem", "privateKeyPemWo"))
        subject = subject_name(inputs.mapping("subject"))
        names = subject_alternative_names(
            inputs.strings("dnsNames"), inputs.strings("ipAddresses"), inputs.strings("uris")
        )
        builder = _with_san(
            x509.CertificateSigningRequestBuilder().subject_name(subject), subject, names
        )
        request = sign_request(builder, key)
        return {
            "certRequestPem": request.public_bytes(serialization.Encoding.PEM).decode(),
            "keyAlgorithm": key_algorithm(key),
        }

    def _locally_signed_cert(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """LocallySignedCert: the CSR's subject, key and names, issued by the CA."""
        request = x509.load_pem_x509_csr(inputs.required_text("certRequestPem").encode())
        ca_key = self._load_key(inputs.required_text("caPrivateKeyPem", "caPrivateKeyPemWo"))
        ca_cert = x509.load_pem_x509_certificate(inputs.required_text("caCertPem").encode())
        if ca_cert.public_key() != ca_key.public_key():
            raise ValueError("caPrivateKeyPem is not the key of caCertPem")
        profile = CertificateProfile.from_inputs(inputs)
        validity = Validity.starting(self._clock, profile)
        builder = certificate_builder(
            request.subject,
            ca_cert.subject,
            request.public_key(),
            self._serial(urn),
            validity,
            profile,
        )
        builder = builder.add_extension(_authority_key_id(_issuer_key_id(ca_cert)), critical=False)
        builder = _with_san(builder, request.subject, _requested_names(request))
        certificate = sign_certificate(builder, ca_key)
        return {
            "certPem": _cert_pem(certificate),
            "caKeyAlgorithm": key_algorithm(ca_key),
            **validity.outputs(),
        }

    # -- random --------------------------------------------------------------------------------

    def _random_string(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomString: ``result``."""
        return {
            "result": random_characters(inputs, self.stream("random/string", urn)),
            **_numeric_flags(inputs),
        }

    def _random_password(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomPassword: ``result`` and, with ``bcrypt`` installed, ``bcryptHash``."""
        result = random_characters(inputs, self.stream("random/password", urn))
        outputs: dict[str, Any] = {"result": result, **_numeric_flags(inputs)}
        hashed = bcrypt_hash(result, self.stream("random/password-bcrypt", urn))
        if hashed is not None:
            outputs["bcryptHash"] = hashed
        return outputs

    def _random_id(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomId: the bytes as hex, base64 (standard and URL) and decimal, each prefixed."""
        size = inputs.integer("byteLength")
        if size is None or size < 1:
            raise ValueError(f"byteLength must be at least 1, got {size}")
        data = self.stream("random/id", urn).read(size)
        prefix = inputs.text("prefix") or ""
        return {
            "hex": prefix + data.hex(),
            "b64Std": prefix + base64.b64encode(data).decode(),
            "b64Url": prefix + base64.urlsafe_b64encode(data).decode().rstrip("="),
            "dec": prefix + str(int.from_bytes(data, "big")),
        }

    def _random_bytes(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomBytes: ``length`` bytes as ``base64`` and ``hex``."""
        size = inputs.integer("length")
        if size is None or size < 1:
            raise ValueError(f"length must be at least 1, got {size}")
        data = self.stream("random/bytes", urn).read(size)
        return {"base64": base64.b64encode(data).decode(), "hex": data.hex()}

    def _random_uuid(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomUuid / RandomUuid4: a version-4 UUID."""
        return {"result": uuid4_from(self.stream("random/uuid", urn).read(16))}

    def _random_uuid7(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomUuid7: a version-7 UUID timestamped at the clock."""
        return {"result": uuid7_from(self._clock, self.stream("random/uuid7", urn).read(10))}

    def _random_integer(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomInteger: ``result`` in [min, max]; equal for equal ``seed`` inputs."""
        low, high = inputs.integer("min"), inputs.integer("max")
        if low is None or high is None or high < low:
            raise ValueError(f"min and max are required with min <= max, got {low}, {high}")
        own_seed = inputs.text("seed")
        stream = (
            self.stream("random/integer-seeded", own_seed)
            if own_seed is not None
            else self.stream("random/integer", urn)
        )
        return {"result": low + stream.randbelow(high - low + 1)}

    def _random_pet(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomPet: the name, returned under ``id`` (the provider's resource ID)."""
        separator = inputs.text("separator", "-") or ""
        name = pet_name(inputs.integer("length", 2) or 0, separator, self.stream("random/pet", urn))
        prefix = inputs.text("prefix")
        return {"id": f"{prefix}{separator}{name}" if prefix else name}

    def _random_shuffle(self, urn: str, inputs: ResourceInputs) -> dict[str, Any]:
        """RandomShuffle: ``results``, whole permutations of ``inputs`` up to ``resultCount``."""
        items = inputs.strings("inputs")
        count = inputs.integer("resultCount") or len(items)
        own_seed = inputs.text("seed")
        stream = (
            self.stream("random/shuffle-seeded", own_seed)
            if own_seed is not None
            else self.stream("random/shuffle", urn)
        )
        results: list[str] = []
        while items and len(results) < count:
            permutation = list(items)
            stream.shuffle(permutation)
            results += permutation[: count - len(results)]
        return {"results": results}


def _numeric_flags(inputs: ResourceInputs) -> dict[str, bool]:
    """``numeric`` and its deprecated alias ``number``, kept equal as the provider keeps them."""
    numeric = inputs.flag("numeric", True) and inputs.flag("number", True)
    return {"numeric": numeric, "number": numeric}
