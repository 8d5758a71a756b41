"""The template definition of k8s_ubuntu: its labels, typed, with their defaults."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from coe_provider.labelrules import check_apt_version, overlaps_node_subnet
from coe_provider.spec import ClusterSpec, check_cidr, rule

DEFAULT_CNI_VERSIONS = {"calico": "v3.28.2", "flannel": "v0.25.7"}
"""CNI release used when ``cni_version`` is not set."""

_KUBE_TAG = re.compile(r"^v1\.(\d+)\.(\d+)$")
MINIMUM_MINOR = 31
"""kubeadm's v1beta4 configuration, which this driver writes, arrived in Kubernetes 1.31."""

SUPPORTED_KUBE_MINORS: tuple[str, ...] = tuple(f"1.{minor}" for minor in range(MINIMUM_MINOR, 36))
"""Kubernetes minors the driver accepts."""


class KubernetesLabels(BaseModel):
    """Labels of the k8s_ubuntu driver (Magnum's label names where Magnum had one)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kube_tag: str = "v1.31.2"
    """Kubernetes version, ``vMAJOR.MINOR.PATCH``."""

    cni: Literal["calico", "flannel"] = "calico"
    """Pod network."""

    cni_version: str | None = None
    """CNI release tag; the driver's tested default per CNI when unset."""

    pod_cidr: str = "10.100.0.0/16"
    """Pod network CIDR (Magnum's calico_ipv4pool default)."""

    service_cidr: str = "10.254.0.0/16"
    """Service network CIDR (Magnum's default)."""

    containerd_version: str | None = None
    """APT version of Ubuntu's ``containerd`` package; the distribution default when unset."""

    cloud_provider_enabled: bool = True
    """Run the OpenStack cloud controller manager and the Cinder CSI plugin, with a
    per-cluster application credential."""

    cloud_provider_tag: str = "v1.31.1"
    """Release of kubernetes/cloud-provider-openstack."""

    openstack_auth_url: str | None = None
    """Keystone URL for the cloud provider; found from the provider's configuration if unset."""

    openstack_region: str | None = None
    """Region for the cloud provider; found from the provider's configuration if unset."""

    @field_validator("kube_tag")
    @classmethod
    def _kube_tag(cls, value: str) -> str:
        match = _KUBE_TAG.match(value)
        if not match:
            raise rule(f"must look like v1.31.2 (got {value!r})")
        if int(match.group(1)) < MINIMUM_MINOR:
            raise rule(f"must be v1.{MINIMUM_MINOR}.0 or newer (got {value!r})")
        if f"1.{match.group(1)}" not in SUPPORTED_KUBE_MINORS:
            raise rule(f"must be a supported Kubernetes release, "
                       f"{', '.join(SUPPORTED_KUBE_MINORS)} (got {value!r})")
        return value

    @field_validator("pod_cidr", "service_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return check_cidr(value)

    @field_validator("cni_version", "cloud_provider_tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^v\d+\.\d+\.\d+$", value):
            raise rule(f"must be a release tag like v1.2.3 (got {value!r})")
        return value

    @field_validator("containerd_version")
    @classmethod
    def _apt_version(cls, value: str | None) -> str | None:
        return check_apt_version(value, "1.7.12-0ubuntu4")

    @property
    def kube_version(self) -> str:
        """Version without the leading ``v``."""
        return self.kube_tag.removeprefix("v")

    @property
    def kube_minor(self) -> str:
        """``MAJOR.MINOR``, the pkgs.k8s.io repository."""
        return ".".join(self.kube_version.split(".")[:2])

    @property
    def resolved_cni_version(self) -> str:
        """The CNI release to install."""
        return self.cni_version or DEFAULT_CNI_VERSIONS[self.cni]


def overlapping_networks(labels: KubernetesLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """Pod, service and node networks must not overlap: routing would break silently."""
    problems: list[tuple[str, str]] = []
    if ipaddress.ip_network(labels.pod_cidr).overlaps(ipaddress.ip_network(labels.service_cidr)):
        problems.append(("service_cidr", f"overlaps pod_cidr {labels.pod_cidr} "
                                         f"(got {labels.service_cidr})"))
    return problems + overlaps_node_subnet(
        spec, {"pod_cidr": [labels.pod_cidr], "service_cidr": [labels.service_cidr]})


__all__ = ["DEFAULT_CNI_VERSIONS", "SUPPORTED_KUBE_MINORS", "KubernetesLabels",
           "overlapping_networks"]
