"""`coe status` on outputs whose client credentials are broken: one line naming the cluster,
never a traceback."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from coe_provider_drivers.k8s_ubuntu.kubeconfig import admin_kubeconfig
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from coe_provider.cli import app
from coe_provider.health.check import check
from coe_provider.health.https import CredentialsUnusable, check_credentials
from coe_provider.health.outputs import OutputsError, target_from_detail
from coe_provider.health.report import HealthStatus
from coe_provider.health.target import HealthTarget, TlsCredentials
from tests.health_api import server_certificate

NODES = [{"name": "c1-master-0", "role": "master", "group": "master"}]


def generated_ca_for_tests() -> tuple[str, str, str]:
    """A self-signed CA and a certificate it signed: (CA PEM, cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-ca")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem, cert_key_pem = server_certificate(ca_pem, key_pem, "127.0.0.1")
    return ca_pem, cert_pem, cert_key_pem


def k8s_detail(kubeconfig: Any) -> dict[str, Any]:
    return {"driver": "k8s_ubuntu", "apiAddress": "https://192.0.2.10:6443",
            "apiInternalHost": "10.0.0.5", "nodes": NODES, "kubeconfig": kubeconfig}


def status_of(tmp_path: Path, detail: dict[str, Any]) -> tuple[int, str, str]:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"cluster:c1": detail}))
    result = CliRunner().invoke(app, ["status", str(outputs)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("kubeconfig", "line"), [
    ("clusters: nope", "error: cluster:c1: cannot read the k8s_ubuntu client credentials from "
                       "the outputs: kubeconfig has no clusters entry with a cluster"),
    ("users: []", "error: cluster:c1: cannot read the k8s_ubuntu client credentials from the "
                  "outputs: kubeconfig has no clusters entry with a cluster"),
    ({"not": "text"}, "error: cluster:c1: cannot read the k8s_ubuntu client credentials from "
                      "the outputs: kubeconfig must be the kubeconfig's YAML text"),
])
def test_broken_kubeconfig_is_one_sentence(tmp_path: Path, kubeconfig: Any, line: str) -> None:
    code, stdout, stderr = status_of(tmp_path, k8s_detail(kubeconfig))
    assert (code, stdout, stderr) == (2, "", line + "\n")


def test_ca_that_is_not_a_certificate_is_one_line(tmp_path: Path) -> None:
    ca_pem, cert_pem, key_pem = generated_ca_for_tests()
    kubeconfig = admin_kubeconfig("c1", "https://192.0.2.10:6443", "not a certificate",
                                  cert_pem, key_pem)
    code, stdout, stderr = status_of(tmp_path, k8s_detail(kubeconfig))
    assert code == 2 and stdout == ""
    assert stderr.startswith("error: cluster:c1: the k8s_ubuntu client credentials in the "
                             "outputs do not load: the cluster CA is not a PEM certificate (")
    assert len(stderr.splitlines()) == 1
    assert ca_pem not in stderr


def test_client_key_that_does_not_match_is_one_line(tmp_path: Path) -> None:
    ca_pem, cert_pem, _ = generated_ca_for_tests()
    _, _, other_key = generated_ca_for_tests()
    kubeconfig = admin_kubeconfig("c1", "https://192.0.2.10:6443", ca_pem, cert_pem, other_key)
    code, _, stderr = status_of(tmp_path, k8s_detail(kubeconfig))
    assert code == 2
    assert stderr.startswith("error: cluster:c1: the k8s_ubuntu client credentials in the "
                             "outputs do not load: the client certificate and key do not load "
                             "as a PEM pair (")


def test_swarm_bundle_without_parts_is_one_sentence(tmp_path: Path) -> None:
    detail = {"driver": "swarm_ubuntu", "apiAddress": "tcp://192.0.2.10:2376",
              "apiInternalHost": "10.0.0.5", "nodes": NODES, "dockerTls": {"ca.pem": "x"}}
    code, _, stderr = status_of(tmp_path, detail)
    assert (code, stderr) == (2, "error: cluster:c1: cannot read the swarm_ubuntu client "
                                 "credentials from the outputs: dockerTls has no cert.pem, "
                                 "key.pem\n")


def test_the_check_itself_reports_unusable_credentials_as_unknown() -> None:
    # The readiness gate builds its target from its inputs, not from outputs: the check
    # still answers with one reason instead of raising.
    target = HealthTarget(cluster="c1", driver="k8s_ubuntu", api_host="127.0.0.1",
                          api_port=1, credentials=TlsCredentials("junk", "junk", "junk"),
                          expected=(), tunnel=None)
    health = check(target, lambda client: pytest.fail("never asked"), 1.0)
    assert health.status is HealthStatus.UNKNOWN
    assert health.reason is not None
    assert health.reason.startswith("client credentials unusable: the cluster CA is not a PEM "
                                    "certificate (")


def test_check_credentials_accepts_good_ones() -> None:
    ca_pem, cert_pem, key_pem = generated_ca_for_tests()
    check_credentials(TlsCredentials(ca_pem, cert_pem, key_pem))
    with pytest.raises(CredentialsUnusable):
        check_credentials(TlsCredentials(cert_pem[:40], cert_pem, key_pem))
    with pytest.raises(OutputsError):
        target_from_detail("c1", k8s_detail(admin_kubeconfig(
            "c1", "https://192.0.2.10:6443", "x", cert_pem, key_pem)))
