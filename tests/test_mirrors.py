"""The mirror labels both drivers share, and the trusted CA bundle: validation, the nodes'
cloud-config (checked by ``cloud-init schema``), ``no_proxy``, and nothing added when unset."""

from __future__ import annotations

import datetime
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from coe_provider.spec.errors import SpecError
from coe_provider.spec.validation import resolve_clusters
from tests.conftest import REPO, Recorded, cluster_settings, shell_functions
from tests.validators import cloud_init_schema, files_in

DRIVERS = ("k8s_ubuntu", "swarm_ubuntu")

COMMON_LIBRARY = Path(__file__).parents[1] / "coe_provider" / "bootstrap" / "scripts" / "common.sh"

KEYSTONE = {"openstack:authUrl": "https://keystone.test:5000/v3"}
"""The cloud provider's Keystone URL, which Kubernetes clusters need."""

MIRRORS: dict[str, Any] = {
    "apt_mirror": "http://apt.cloud.internal/ubuntu",
    "registry_mirrors": {"docker.io": "https://registry.cloud.internal"},
    "insecure_registry": "registry.cloud.internal:5000",
    "mirrors_bypass_proxy": True,
}


def test_ca_pem(common_name: str = "Cloud Internal CA") -> str:
    """A self-signed CA certificate, PEM (what an operator's bundle holds)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


test_ca_pem.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def _cloud_config(run: Recorded, name: str) -> tuple[str, dict[str, Any]]:
    server = run.named("compute/instance:Instance", name)
    text = str(Recorded.inputs(server)["userData"])
    return text, yaml.safe_load(text)


def _errors(driver: str, labels: dict[str, Any], **fields: Any) -> list[str]:
    with pytest.raises(SpecError) as caught:
        resolve_clusters(cluster_settings(driver, labels, **fields), REPO)
    return [str(issue) for issue in caught.value.issues]


@pytest.mark.parametrize("driver", DRIVERS)
def test_mirrors_and_bundle_reach_every_node_and_pass_cloud_init_schema(
        run_root_program: Callable[..., Recorded], driver: str) -> None:
    bundle = test_ca_pem() + test_ca_pem("Proxy CA")
    run = run_root_program(cluster_settings(driver, {
        **MIRRORS, "apt_security_mirror": "http://apt.cloud.internal/security"},
        template={"trustedCaBundle": bundle, "httpProxy": "http://proxy.internal:3128"}),
        KEYSTONE)
    for name in ("c1-master-0", "c1-default-worker-1"):
        text, document = _cloud_config(run, name)
        ok, output = cloud_init_schema(text)
        assert ok, output
        assert document["apt"] == {
            # Written even where the image keeps its own sources (Debian's cloud.cfg).
            "preserve_sources_list": False,
            "primary": [{"arches": ["default"], "uri": "http://apt.cloud.internal/ubuntu"}],
            "security": [{"arches": ["default"], "uri": "http://apt.cloud.internal/security"}]}
        assert document["ca_certs"] == {"trusted": [bundle]}
        node_env = files_in(text)["/etc/coe/node.env"]
        no_proxy = next(line for line in node_env.splitlines() if line.startswith("NO_PROXY="))
        # Each mirror host once, after the cluster's own entries.
        assert no_proxy.endswith(",apt.cloud.internal,registry.cloud.internal"), no_proxy


@pytest.mark.parametrize("driver", DRIVERS)
def test_security_mirror_defaults_to_the_archive_mirror_and_proxy_is_kept_without_bypass(
        run_root_program: Callable[..., Recorded], driver: str) -> None:
    run = run_root_program(cluster_settings(
        driver, {"apt_mirror": "https://apt.cloud.internal/ubuntu"},
        template={"httpProxy": "http://proxy.internal:3128"}), KEYSTONE)
    text, document = _cloud_config(run, "c1-master-0")
    assert document["apt"]["security"] == document["apt"]["primary"]
    assert "apt.cloud.internal" not in files_in(text)["/etc/coe/node.env"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_nothing_is_added_when_unset(run_root_program: Callable[..., Recorded],
                                     driver: str) -> None:
    run = run_root_program(cluster_settings(driver), KEYSTONE)
    _, document = _cloud_config(run, "c1-master-0")
    assert "apt" not in document and "ca_certs" not in document


@pytest.mark.parametrize(("labels", "fields", "expected"), [
    ({"apt_mirror": "ftp://mirror/ubuntu"}, {},
     "clusters.c1.labels.apt_mirror: must be an http(s) URL without credentials"),
    ({"apt_security_mirror": "http://user:pw@mirror/ubuntu"}, {},
     "clusters.c1.labels.apt_security_mirror: must be an http(s) URL without credentials"),
    ({"registry_mirrors": {"https://docker.io": "https://m"}}, {},
     "clusters.c1.labels.registry_mirrors: key 'https://docker.io': must be a registry host"),
    ({"registry_mirrors": {"docker.io": "mirror.internal"}}, {},
     "clusters.c1.labels.registry_mirrors: [docker.io]: must be an http(s) URL"),
    ({"registry_mirrors": "docker.io https://m"}, {},
     "clusters.c1.labels.registry_mirrors: must map registry hosts to mirror URLs"),
    ({"insecure_registry": ["ok.internal", "http://bad.internal"]}, {},
     "clusters.c1.labels.insecure_registry: item [1] must be a registry host"),
    ({}, {"template": {"trustedCaBundle": "not a certificate"}},
     "clusters.c1.template.trustedCaBundle: must be PEM certificates"),
    ({}, {"template": {"trustedCaBundle":
                       "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}},
     "clusters.c1.template.trustedCaBundle: must be PEM certificates; one does not parse"),
])
@pytest.mark.parametrize("driver", DRIVERS)
def test_bad_mirror_settings_name_the_field_and_the_rule(
        driver: str, labels: dict[str, Any], fields: dict[str, Any], expected: str) -> None:
    errors = _errors(driver, labels, **fields)
    assert any(error.startswith(expected) for error in errors), errors


def test_magnum_style_strings_are_accepted() -> None:
    clusters = resolve_clusters(cluster_settings("k8s_ubuntu", {
        "cloud_provider_enabled": False,
        "registry_mirrors": "docker.io=https://hub.internal, _default=https://all.internal",
        "insecure_registry": "registry.internal:5000"}), REPO)
    labels = clusters["c1"].labels
    assert labels.registry_mirrors == {  # type: ignore[attr-defined]
        "docker.io": "https://hub.internal", "_default": "https://all.internal"}
    assert labels.insecure_registry == ["registry.internal:5000"]  # type: ignore[attr-defined]


def test_swarm_daemons_take_the_hub_mirror_and_the_insecure_registries(
        run_root_program: Callable[..., Recorded]) -> None:
    run = run_root_program(cluster_settings("swarm_ubuntu", MIRRORS))
    for name in ("c1-master-0", "c1-default-worker-0"):
        text, _ = _cloud_config(run, name)
        daemons = [json.loads(content) for path, content in files_in(text).items()
                   if path.endswith(".json") and "daemon" in path]
        assert len(daemons) == 2, "one daemon.json per Docker generation"
        for daemon in daemons:
            assert daemon["registry-mirrors"] == ["https://registry.cloud.internal"]
            assert daemon["insecure-registries"] == ["registry.cloud.internal:5000"]


def test_swarm_refuses_mirrors_of_registries_docker_would_ignore() -> None:
    errors = _errors("swarm_ubuntu", {"registry_mirrors": {
        "docker.io": "https://hub.internal", "quay.io": "https://quay.internal"}})
    assert any(error.startswith(
        "clusters.c1.labels.registry_mirrors: Docker mirrors Docker Hub only (key docker.io); "
        "Docker would ignore a mirror of quay.io") for error in errors), errors


def test_apt_goes_direct_to_the_hosts_no_proxy_names() -> None:
    """apt ignores NO_PROXY: the library gives each listed host apt's own DIRECT setting."""
    program = shell_functions(COMMON_LIBRARY, "_coe_apt_direct_hosts") + \
        "NO_PROXY='localhost,apt.cloud.internal, 10.0.0.0/24,.svc,10.1.2.3' _coe_apt_direct_hosts"
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == [
        f'Acquire::{scheme}::Proxy::{host} "DIRECT";'
        for host in ("localhost", "apt.cloud.internal", "10.1.2.3")
        for scheme in ("http", "https")]
