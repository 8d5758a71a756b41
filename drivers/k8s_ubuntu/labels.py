"""The template definition of k8s_ubuntu: its labels, typed, with their defaults."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coe_provider.spec.labelrules import check_apt_version, overlaps_node_subnet
from coe_provider.spec.models import ClusterSpec, check_cidr, rule

SUPPORTED_KUBE_MINORS: tuple[str, ...] = ("1.35", "1.36", "1.37")
"""Kubernetes minors ``kube_tag`` may name, oldest first: the three in upstream support on
2026-12-03 (1.35 until 2027-02-28, 1.36 until 2027-06-28, 1.37 until 2027-10-28; 1.34 ended on
2026-10-27). Each has a pkgs.k8s.io repository and reads kubeadm's v1beta4 configuration, which
this driver writes. Older minors are refused, naming this range; so are newer ones, until the
driver is checked against them."""

KUBE_RELEASES: dict[str, str] = {"1.35": "v1.35.9", "1.36": "v1.36.4", "1.37": "v1.37.1"}
"""The newest patch release of each supported minor known to this driver; the one suggested
when a ``kube_tag`` falls outside :data:`SUPPORTED_KUBE_MINORS`."""

DEFAULT_KUBE_TAG = KUBE_RELEASES["1.36"]
"""1.36 rather than the newest minor, 1.37: cloud-provider-openstack, whose release minor
follows the Kubernetes minor it supports, has no 1.37 release yet."""

CLOUD_PROVIDER_TAGS: dict[str, str] = {"1.35": "v1.35.0", "1.36": "v1.36.0"}
"""The kubernetes/cloud-provider-openstack release for each Kubernetes minor that has one."""

NEWEST_CLOUD_PROVIDER_TAG = CLOUD_PROVIDER_TAGS["1.36"]
"""For a minor without its own cloud-provider-openstack release (1.37): the newest one."""

DEFAULT_CNI_VERSIONS = {"calico": "v3.33.1", "flannel": "v0.28.9"}
"""CNI release used when ``cni_version`` is not set; both support every minor above (Calico
3.33 is tested on Kubernetes 1.35 to 1.37)."""

_KUBE_TAG = re.compile(r"^v1\.(\d+)\.(\d+)$")
_MINORS = tuple(int(minor.split(".")[1]) for minor in SUPPORTED_KUBE_MINORS)
_SUPPORTED_KUBE_TAG = rf"^v1\.({'|'.join(map(str, _MINORS))})\.\d+$"


def kube_tag_problem(value: str) -> str | None:
    """Why ``value`` cannot be this driver's ``kube_tag``, or ``None`` when it can."""
    match = _KUBE_TAG.match(value)
    if not match:
        return f"must look like {DEFAULT_KUBE_TAG} (got {value!r})"
    minor = int(match.group(1))
    if minor in _MINORS:
        return None
    too_old = minor < _MINORS[0]
    nearest = KUBE_RELEASES[SUPPORTED_KUBE_MINORS[0 if too_old else -1]]
    why = "is out of upstream support" if too_old else "is newer than this driver supports"
    return (f"Kubernetes 1.{minor} {why}; supported minors are "
            f"{', '.join(SUPPORTED_KUBE_MINORS)} (got {value!r}; nearest supported release: "
            f"{nearest})")


class KubernetesLabels(BaseModel):
    """Labels of the k8s_ubuntu driver (Magnum's label names where Magnum had one)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kube_tag: str = Field(default=DEFAULT_KUBE_TAG,
                          json_schema_extra={"pattern": _SUPPORTED_KUBE_TAG})
    """Kubernetes version, ``vMAJOR.MINOR.PATCH``, of a minor in upstream support."""

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

    cloud_provider_tag: str | None = None
    """Release of kubernetes/cloud-provider-openstack; when unset, the one of ``kube_tag``'s
    minor (the newest release for a minor that has none yet)."""

    openstack_auth_url: str | None = None
    """Keystone URL for the cloud provider; found from the provider's configuration if unset."""

    openstack_region: str | None = None
    """Region for the cloud provider; found from the provider's configuration if unset."""

    @field_validator("kube_tag")
    @classmethod
    def _kube_tag(cls, value: str) -> str:
        problem = kube_tag_problem(value)
        if problem:
            raise rule(problem)
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

    @property
    def resolved_cloud_provider_tag(self) -> str:
        """The cloud-provider-openstack release to deploy."""
        return self.cloud_provider_tag or CLOUD_PROVIDER_TAGS.get(
            self.kube_minor, NEWEST_CLOUD_PROVIDER_TAG)


def overlapping_networks(labels: KubernetesLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """Pod, service and node networks must not overlap: routing would break silently."""
    problems: list[tuple[str, str]] = []
    if ipaddress.ip_network(labels.pod_cidr).overlaps(ipaddress.ip_network(labels.service_cidr)):
        problems.append(("service_cidr", f"overlaps pod_cidr {labels.pod_cidr} "
                                         f"(got {labels.service_cidr})"))
    return problems + overlaps_node_subnet(
        spec, {"pod_cidr": [labels.pod_cidr], "service_cidr": [labels.service_cidr]})


__all__ = [
    "CLOUD_PROVIDER_TAGS",
    "DEFAULT_CNI_VERSIONS",
    "DEFAULT_KUBE_TAG",
    "KUBE_RELEASES",
    "SUPPORTED_KUBE_MINORS",
    "KubernetesLabels",
    "kube_tag_problem",
    "overlapping_networks",
]
