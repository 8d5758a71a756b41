"""The template definition of k8s_ubuntu: its labels, typed, with their defaults."""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import Literal, TypeVar

from pydantic import ConfigDict, Field, field_validator

from coe_provider.cluster.apiroute import ApiRoute, api_route
from coe_provider.spec.labelrules import check_apt_version, overlaps_node_subnet
from coe_provider.spec.mirrors import MirrorLabels, check_http_url
from coe_provider.spec.models import ClusterSpec, check_cidr, rule

from .addons import (
    ADDON_TABLE,
    CLOUD_PROVIDER_CHARTS,
    cloud_provider_charts,
    cni_chart,
    cni_pin,
)
from .prefix import prefix_problem

_T = TypeVar("_T")

INSTALLABLE_KUBE_MINORS: tuple[str, ...] = ("1.31", "1.32", "1.33", "1.34", "1.35", "1.36",
                                            "1.37")
"""Kubernetes minors ``kube_tag`` may name, oldest first: each has a pkgs.k8s.io repository and
reads kubeadm's v1beta4 configuration (new in 1.31), which this driver writes. Newer minors are
refused until the driver is checked against them."""

SUPPORT_ENDS: dict[str, str] = {
    "1.31": "2025-10-28", "1.32": "2026-02-28", "1.33": "2026-06-28", "1.34": "2026-10-27",
    "1.35": "2027-02-28", "1.36": "2027-06-28", "1.37": "2027-10-28"}
"""The day upstream patch support of each installable minor ends (kubernetes.io/releases)."""

SUPPORTED_KUBE_MINORS: tuple[str, ...] = ("1.35", "1.36", "1.37")
"""The installable minors in upstream support on 2026-12-03 (see :data:`SUPPORT_ENDS`). A
``kube_tag`` of an older installable minor is accepted with a warning."""

KUBE_RELEASES: dict[str, str] = {
    "1.31": "v1.31.14", "1.32": "v1.32.13", "1.33": "v1.33.11", "1.34": "v1.34.9",
    "1.35": "v1.35.8", "1.36": "v1.36.4", "1.37": "v1.37.0"}
"""The newest patch release of each installable minor known to this driver; named in every
version message. For the supported minors, the newest patch confirmed upstream (README:
"Default releases, checked against upstream"): v1.35.9 and v1.37.1, pinned before, were not
found and fell back to the newest confirmed patch of their minor."""

DEFAULT_KUBE_TAG = KUBE_RELEASES["1.36"]
"""1.36 rather than the newest minor, 1.37: cloud-provider-openstack, whose release minor
follows the Kubernetes minor it supports, has no 1.37 release yet."""

CLOUD_PROVIDER_TAGS: dict[str, str] = {
    minor: row.cloud_controller.release for minor, row in ADDON_TABLE.items()
    if row.cloud_controller.release.startswith(f"v{minor}.")}
"""The kubernetes/cloud-provider-openstack release for each Kubernetes minor that has one (from
the add-on table, :data:`.addons.ADDON_TABLE`)."""

NEWEST_CLOUD_PROVIDER_TAG = CLOUD_PROVIDER_TAGS["1.36"]
"""For a minor without its own cloud-provider-openstack release (1.37): the newest one."""

DEFAULT_CNI_VERSIONS = {cni: cni_pin(ADDON_TABLE["1.36"], cni).release
                        for cni in ("calico", "flannel")}
"""CNI release of the default minor's row: the newest tag of each found upstream (Calico
v3.33.1, pinned before, was not found; v3.32.1 is Calico's newest release)."""

ADDONS_FROM_PROGRAM = "program"
"""``addons_path``: the add-ons are Helm releases of the program (:mod:`.addon_resources`)."""

ADDONS_AT_BOOT = "boot"
"""``addons_path``: the first master applies the add-ons' manifests at boot."""

CONTAINERD_RELEASES: dict[str, str] = {"1.35": "2.3.4", "1.36": "2.3.4", "1.37": "2.3.4"}
"""containerd release installed (from its release tarball) for each Kubernetes minor when
``containerd_version`` is unset. 2.3 is containerd's long-term line (support to 2028-04-30)
and is in its matrix for 1.36; every line the matrix lists for 1.35 (2.2, 2.1, 1.7) reached
its end of life in 2026, so 1.35 gets the newer 2.3 line too. 1.37 has no row yet."""

CONTAINERD_MATRIX: dict[str, tuple[str, ...]] = {
    "1.32": ("2.1.0", "2.0.1", "1.7.24", "1.6.36"),
    "1.33": ("2.1.0", "2.0.4", "1.7.24", "1.6.36"),
    "1.34": ("2.1.3", "2.0.6", "1.7.28", "1.6.39"),
    "1.35": ("2.2.0", "2.1.5", "1.7.28"),
    "1.36": ("2.3.0", "2.2.0"),
}
"""containerd's Kubernetes support matrix (RELEASES.md, "Kubernetes Support", containerd main
as of 2026-08-22): for each Kubernetes minor, the oldest recommended release of each
containerd line. A minor without a row uses the nearest row."""

PAUSE_IMAGES: dict[str, str] = {
    "1.31": "registry.k8s.io/pause:3.10",
    "1.32": "registry.k8s.io/pause:3.10",
    "1.33": "registry.k8s.io/pause:3.10",
    "1.34": "registry.k8s.io/pause:3.10.1",
    "1.35": "registry.k8s.io/pause:3.10.1",
    "1.36": "registry.k8s.io/pause:3.10.2",
    "1.37": "registry.k8s.io/pause:3.10.2",
}
"""The sandbox (pause) image kubeadm pins for each minor (its ``PauseVersion`` constant),
written into containerd's configuration so that the kubelet and containerd agree. 1.31 to
1.36: ``kubeadm config images list`` of each minor's releases (kubernetes/minikube
``pkg/minikube/constants/constants_kubeadm_images.go``, 2026-08-10); 1.37 is assumed."""

KUBE_APT_REPOSITORY = "https://pkgs.k8s.io"
"""Where kubeadm, kubelet and kubectl come from unless ``kube_apt_repository`` names a
mirror."""

CONTAINERD_TARBALL_URL = ("https://github.com/containerd/containerd/releases/download/"
                          "v{version}/containerd-{version}-linux-{arch}.tar.gz")
"""containerd's release tarball on GitHub, unless ``containerd_tarball_url`` names a mirror."""

CONTAINERD_FROM_UBUNTU = "distribution"
"""``containerd_version`` value for Ubuntu's own ``containerd`` package, whatever version the
image's archive has (what earlier releases of this driver installed)."""

_RELEASE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_UPSTREAM_PART = re.compile(r"^(?:\d+:)?(\d+)\.(\d+)\.(\d+)")


def _nearest(table: dict[str, _T], minor: str) -> _T:
    """``table``'s entry for ``minor``, else the one of the nearest minor it has."""
    if minor in table:
        return table[minor]
    number = int(minor.split(".")[1])
    keys = sorted(table, key=lambda key: int(key.split(".")[1]))
    return table[keys[0] if number < int(keys[0].split(".")[1]) else keys[-1]]


def containerd_matrix_warning(kube_minor: str, version: str) -> str | None:
    """Why ``version`` (a containerd release or an APT version of Ubuntu's package) is outside
    containerd's matrix for ``kube_minor``, or ``None``. A release line newer than every line
    of the row is accepted: the matrix lists the lines tested when the row was written."""
    row = _nearest(CONTAINERD_MATRIX, kube_minor)
    floors = {(int(f.split(".")[0]), int(f.split(".")[1])): f for f in row}
    listed = ", ".join(f"{floor}+" for floor in row)
    if version == CONTAINERD_FROM_UBUNTU:
        return (f"installs whatever containerd the image's Ubuntu archive has, which "
                f"containerd's matrix may not list for Kubernetes {kube_minor} ({listed})")
    match = _UPSTREAM_PART.match(version)
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    found = (major, minor, patch)
    floor = floors.get((major, minor))
    if floor is not None:
        if found >= tuple(int(part) for part in floor.split(".")):
            return None
    elif (major, minor) > max(floors):
        return None
    return (f"containerd {'.'.join(map(str, found))} is outside containerd's support matrix "
            f"for Kubernetes {kube_minor} ({listed}; got {version!r}; the driver's release: "
            f"{_nearest(CONTAINERD_RELEASES, kube_minor)})")


RELEASE_0_1_0: dict[str, object] = {
    "kube_tag": "v1.31.2",
    "cni_version": {"calico": "v3.28.2", "flannel": "v0.25.7"},
    "cloud_provider_tag": "v1.31.1",
    "containerd_version": CONTAINERD_FROM_UBUNTU,
    # Its add-ons were applied at boot: Helm cannot adopt them.
    "addons_path": "boot",
}
"""What coe-provider 0.1.0 (commit 581c030) installed for each release label left unset
(``cni_version`` per CNI; containerd: the distribution's package). Its clusters kept no record
of their releases, so a cluster found without one resolves to this table."""

RELEASE_MAIN_2026_12_04: dict[str, object] = {
    "kube_tag": "v1.36.4",
    "cni_version": {"calico": "v3.33.1", "flannel": "v0.28.9"},
    "cloud_provider_tag": "v1.36.0",
    "containerd_version": CONTAINERD_FROM_UBUNTU,
    # Its add-ons were applied at boot: Helm cannot adopt them.
    "addons_path": "boot",
}
"""What main between 0.1.0 and 0.2.0 (up to commit ec8d179) installed for labels left unset:
its clusters kept no record either, and are told apart from 0.1.0's by the ``coeVersion`` they
exported (this table's ``kube_tag``)."""

UNRECORDED_RELEASES: tuple[dict[str, object], ...] = (RELEASE_0_1_0, RELEASE_MAIN_2026_12_04)
"""The tables of the code that kept no release record, oldest first."""


def unrecorded_releases(coe_version: str | None) -> dict[str, object]:
    """The table a running cluster without a release record was built from: the one whose
    default ``kube_tag`` is the ``coeVersion`` it exported; otherwise (a ``kube_tag`` set in
    the stack, which stays set) 0.1.0's, with the exported version as ``kube_tag``."""
    for table in UNRECORDED_RELEASES:
        if coe_version == table["kube_tag"]:
            return dict(table)
    table = dict(RELEASE_0_1_0)
    if coe_version and _KUBE_TAG.match(coe_version):
        table["kube_tag"] = coe_version
    return table

_KUBE_TAG = re.compile(r"^v1\.(\d+)\.(\d+)$")
_MINORS = tuple(int(minor.split(".")[1]) for minor in INSTALLABLE_KUBE_MINORS)
_INSTALLABLE_KUBE_TAG = rf"^v1\.({'|'.join(map(str, _MINORS))})\.\d+$"


class Support(enum.Enum):
    """Where a Kubernetes minor stands for this driver."""

    SUPPORTED = "supported"
    """Installable and in upstream support."""
    OUT_OF_SUPPORT = "out-of-support"
    """Installable, but upstream no longer patches it: accepted with a warning."""
    TOO_OLD = "too-old"
    """Older than kubeadm v1beta4 and pkgs.k8s.io: refused."""
    TOO_NEW = "too-new"
    """Newer than this driver knows: refused."""


def minor_support(minor: str) -> Support:
    """Where Kubernetes ``minor`` (``"1.34"``) stands: the support table as a function, for
    any policy that must treat out-of-support minors differently."""
    number = int(minor.split(".")[1])
    if number < _MINORS[0]:
        return Support.TOO_OLD
    if number > _MINORS[-1]:
        return Support.TOO_NEW
    return Support.SUPPORTED if minor in SUPPORTED_KUBE_MINORS else Support.OUT_OF_SUPPORT


def version_range() -> str:
    """The installable and supported minors with the newest patch of each, for messages."""
    releases = ", ".join(KUBE_RELEASES[minor] for minor in INSTALLABLE_KUBE_MINORS)
    return (f"installable: {INSTALLABLE_KUBE_MINORS[0]} to {INSTALLABLE_KUBE_MINORS[-1]}, in "
            f"upstream support: {SUPPORTED_KUBE_MINORS[0]} to {SUPPORTED_KUBE_MINORS[-1]}; "
            f"newest patches: {releases}")


def kube_tag_problem(value: str) -> str | None:
    """Why ``value`` cannot be this driver's ``kube_tag``, or ``None`` when it can."""
    match = _KUBE_TAG.match(value)
    if not match:
        return f"must look like {DEFAULT_KUBE_TAG} (got {value!r}; {version_range()})"
    support = minor_support(f"1.{match.group(1)}")
    if support not in (Support.TOO_OLD, Support.TOO_NEW):
        return None
    why = ("predates kubeadm's v1beta4 configuration, which this driver writes"
           if support is Support.TOO_OLD else "is newer than this driver knows")
    return f"Kubernetes 1.{match.group(1)} {why} (got {value!r}; {version_range()})"


def kube_tag_warning(value: str) -> str | None:
    """The warning an accepted ``kube_tag`` of a minor out of upstream support earns."""
    match = _KUBE_TAG.match(value)
    if not match or minor_support(f"1.{match.group(1)}") is not Support.OUT_OF_SUPPORT:
        return None
    minor = f"1.{match.group(1)}"
    return (f"Kubernetes {minor} is out of upstream support since {SUPPORT_ENDS[minor]}: "
            f"{value} gets no more fixes; new clusters should use a supported minor "
            f"(got {value!r}; {version_range()})")


class KubernetesLabels(MirrorLabels):
    """Labels of the k8s_ubuntu driver (Magnum's label names where Magnum had one)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    kube_tag: str = Field(default=DEFAULT_KUBE_TAG,
                          json_schema_extra={"pattern": _INSTALLABLE_KUBE_TAG})
    """Kubernetes version, ``vMAJOR.MINOR.PATCH``, of an installable minor (one out of
    upstream support earns a warning)."""

    cni: Literal["calico", "flannel"] = "calico"
    """Pod network."""

    cni_version: str | None = None
    """CNI release tag; the driver's tested default per CNI when unset."""

    pod_cidr: str = "10.100.0.0/16"
    """Pod network CIDR (Magnum's calico_ipv4pool default)."""

    service_cidr: str = "10.254.0.0/16"
    """Service network CIDR (Magnum's default)."""

    containerd_version: str | None = None
    """containerd release (``2.3.4``) installed from its release tarball; the driver's release
    for ``kube_tag``'s minor when unset. An APT version (``1.7.12-0ubuntu4``) or
    ``distribution`` installs Ubuntu's ``containerd`` package instead, as earlier releases did.
    ``coe validate`` warns on a version outside containerd's support matrix."""

    containerd_tarball_url: str | None = None
    """Where to download the containerd release tarball (a mirror); containerd's GitHub
    release of ``containerd_version`` for the node's architecture when unset. ``{version}``
    and ``{arch}`` in the URL become the release and the node's Debian architecture
    (``https://files.example.com/containerd-{version}-linux-{arch}.tar.gz``), so one URL
    serves every release."""

    containerd_tarball_sha256: str | None = None
    """SHA-256 of the tarball; when unset, the checksum file published next to it
    (``<url>.sha256sum``, as containerd's releases have) is checked."""

    cloud_provider_enabled: bool = True
    """Run the OpenStack cloud controller manager and the Cinder CSI plugin, with a
    per-cluster application credential."""

    cloud_provider_tag: str | None = None
    """Release of kubernetes/cloud-provider-openstack; when unset, the one of ``kube_tag``'s
    minor (the newest release for a minor that has none yet)."""

    cinder_csi_plugin_tag: str | None = None
    """Cinder CSI plugin image tag (Magnum's label); ``cloud_provider_tag`` when unset."""

    cni_chart_version: str | None = None
    """Version of the CNI's chart (tigera-operator or flannel); when unset, the chart that
    ships ``cni_version``. Needed with a ``cni_version`` the driver knows no chart of."""

    cloud_provider_chart_version: str | None = None
    """Version of the openstack-cloud-controller-manager chart; when unset, the chart that
    ships ``cloud_provider_tag``."""

    cinder_csi_chart_version: str | None = None
    """Version of the openstack-cinder-csi chart; when unset, the chart that ships
    ``cloud_provider_tag``."""

    addons_path: Literal["program", "boot"] | None = None
    """Where the CNI, cloud controller manager and Cinder CSI come from: ``program`` (Helm
    releases of the stack, upgraded by ``pulumi up``) or ``boot`` (the first master applies
    their manifests once). Unset: ``program`` for a new cluster whose API the gate reaches
    directly with ``waitForReady``, else ``boot``; a running cluster keeps its path."""

    kube_apt_repository: str | None = None
    """Base URL of a mirror of pkgs.k8s.io's Debian repositories
    (``https://k8s-apt.example.com``): kubeadm, kubelet and kubectl come from
    ``<base>/core:/stable:/v<minor>/deb/``, pkgs.k8s.io's own layout, signed by the
    ``Release.key`` found there. pkgs.k8s.io when unset."""

    chart_repository: str | None = None
    """One Helm repository that holds every chart the cluster installs (tigera-operator or
    flannel, openstack-cloud-controller-manager, openstack-cinder-csi), in place of their
    upstream repositories: an https repository with an index (``https://charts.example.com``)
    or an OCI registry path (``oci://registry.example.com/charts``, the chart found as
    ``<path>/<chart>``). Needs the add-ons from the program (``addons_path: program``)."""

    # container_infra_prefix (issue 27, images): one block.
    container_infra_prefix: str | None = None
    """Registry path every image the cluster runs is pulled from (Magnum's label):
    ``host[:port]/path``, trailing slash optional. Flat layout (Magnum's):
    ``<prefix>/<name>:<tag>``, ``<name>`` being the last component of the upstream repository
    (``<prefix>/kube-apiserver:v1.36.4``, ``<prefix>/cni:v3.32.1``); ``coe images`` lists
    them. Needs ``addons_path: program``."""

    @field_validator("container_infra_prefix")
    @classmethod
    def _container_infra_prefix(cls, value: str | None) -> str | None:
        problem = None if value is None else prefix_problem(value)
        if problem:
            raise rule(problem)
        return value

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

    @field_validator("cni_version", "cloud_provider_tag", "cinder_csi_plugin_tag",
                     "cni_chart_version")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^v\d+\.\d+\.\d+$", value):
            raise rule(f"must be a release tag like v1.2.3 (got {value!r})")
        return value

    @field_validator("cloud_provider_chart_version", "cinder_csi_chart_version")
    @classmethod
    def _chart_version(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\d+\.\d+\.\d+$", value):
            raise rule(f"must be a chart version like 2.36.0 (got {value!r})")
        return value

    @field_validator("containerd_version")
    @classmethod
    def _containerd_version(cls, value: str | None) -> str | None:
        if value == CONTAINERD_FROM_UBUNTU:
            return value
        return check_apt_version(value, "2.3.4 (a release) or 1.7.12-0ubuntu4 (Ubuntu's)")

    @field_validator("containerd_tarball_url")
    @classmethod
    def _tarball_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://\S+$", value):
            raise rule(f"must be an http(s) URL (got {value!r})")
        return value

    @field_validator("kube_apt_repository")
    @classmethod
    def _kube_apt_repository(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value, "https://k8s-apt.example.com")

    @field_validator("chart_repository")
    @classmethod
    def _chart_repository(cls, value: str | None) -> str | None:
        if value is None or re.match(r"^oci://[^\s/@]+(/[^\s@]*)?$", value):
            return value
        return check_http_url(value, "https://charts.example.com or "
                                     "oci://registry.example.com/charts")

    @field_validator("containerd_tarball_sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[0-9a-f]{64}$", value):
            raise rule(f"must be 64 lowercase hex digits (got {value!r})")
        return value

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
        """The CNI release to install: ``cni_version``, else the minor's row."""
        return self.cni_version or cni_pin(_nearest(ADDON_TABLE, self.kube_minor),
                                           self.cni).release

    @property
    def resolved_cni_chart_version(self) -> str | None:
        """The CNI chart's version, or None when no chart of the release is known."""
        return self.cni_chart_version or cni_chart(self.cni, self.resolved_cni_version)

    @property
    def resolved_cloud_provider_chart_version(self) -> str | None:
        """The cloud controller manager chart's version, or None when none is known."""
        charts = cloud_provider_charts(self.resolved_cloud_provider_tag)
        return self.cloud_provider_chart_version or (charts[0] if charts else None)

    @property
    def resolved_cinder_csi_chart_version(self) -> str | None:
        """The Cinder CSI chart's version, or None when none is known."""
        charts = cloud_provider_charts(self.resolved_cloud_provider_tag)
        return self.cinder_csi_chart_version or (charts[1] if charts else None)

    @property
    def resolved_cinder_csi_plugin_tag(self) -> str:
        """The Cinder CSI plugin image tag."""
        return self.cinder_csi_plugin_tag or self.resolved_cloud_provider_tag

    @property
    def addons_from_program(self) -> bool:
        """Whether the add-ons are Helm releases of the program (``addons_path`` settled)."""
        return self.addons_path == ADDONS_FROM_PROGRAM

    @property
    def resolved_containerd_version(self) -> str:
        """The containerd to install: ``containerd_version``, else the minor's release."""
        return self.containerd_version or _nearest(CONTAINERD_RELEASES, self.kube_minor)

    @property
    def containerd_from_release(self) -> bool:
        """Whether containerd comes from its release tarball (else from Ubuntu's archive)."""
        return bool(_RELEASE.match(self.resolved_containerd_version))

    @property
    def kube_apt_source(self) -> str:
        """The APT repository of ``kube_tag``'s minor, pkgs.k8s.io's or its mirror's."""
        base = (self.kube_apt_repository or KUBE_APT_REPOSITORY).rstrip("/")
        return f"{base}/core:/stable:/v{self.kube_minor}/deb/"

    @property
    def resolved_containerd_tarball_url(self) -> str:
        """The tarball's URL with ``{version}`` filled in; ``{arch}`` is the node's to fill."""
        template = self.containerd_tarball_url or CONTAINERD_TARBALL_URL
        return template.replace("{version}", self.resolved_containerd_version)

    @property
    def sandbox_image(self) -> str:
        """The pause image kubeadm pins for ``kube_tag``'s minor."""
        return _nearest(PAUSE_IMAGES, self.kube_minor)

    @property
    def resolved_cloud_provider_tag(self) -> str:
        """The cloud-provider-openstack release to deploy."""
        return self.cloud_provider_tag or _nearest(
            ADDON_TABLE, self.kube_minor).cloud_controller.release


def program_route(spec: ClusterSpec) -> bool:
    """Whether ``pulumi up`` can drive the cluster's API: the gate waits (``waitForReady``)
    and reaches it directly (the Kubernetes provider does not tunnel through a bastion)."""
    return spec.wait_for_ready and api_route(spec.template) is ApiRoute.DIRECT


def addons_path(labels: KubernetesLabels, spec: ClusterSpec, running: bool) -> str:
    """Where the add-ons come from: ``addons_path`` when set (or kept), else the boot-time
    path for a running cluster (its add-ons were applied at boot, which Helm cannot adopt) and
    for one the program cannot reach, else the program."""
    if labels.addons_path is not None:
        return labels.addons_path
    return ADDONS_AT_BOOT if running or not program_route(spec) else ADDONS_FROM_PROGRAM


PROGRAM_PATH_LABELS: dict[str, str] = {
    "chart_repository": "needs the add-ons from the program (addons_path program, which needs "
                        "waitForReady and an API the gate reaches directly); the boot-time "
                        "path installs no chart",
    "container_infra_prefix": "needs addons_path program (the add-ons as Helm releases whose "
                              "images the driver sets; the boot-time path applies upstream "
                              "manifests), which needs waitForReady and an API the gate "
                              "reaches directly",
}
"""Labels only the add-ons' Helm releases honour, with the rule a boot-time cluster breaks."""


def boot_path_problems(labels: KubernetesLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """Each of :data:`PROGRAM_PATH_LABELS` set on a cluster whose add-ons come at boot."""
    if addons_path(labels, spec, running=False) == ADDONS_FROM_PROGRAM:
        return []
    return [(label, f"{rule} (got {value!r})") for label, rule in PROGRAM_PATH_LABELS.items()
            if (value := getattr(labels, label)) is not None]


def chart_problems(labels: KubernetesLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """A version label whose release has no chart in the table, for a cluster whose add-ons
    come from the program, unless the chart version label is given with it."""
    if labels.addons_path == ADDONS_FROM_PROGRAM and not program_route(spec):
        # No release would be installed, and the first master applies none.
        return [("addons_path", "program needs waitForReady and an API the gate reaches "
                                "directly (a floating IP), not through the bastion")]
    if addons_path(labels, spec, running=False) != ADDONS_FROM_PROGRAM:
        return []  # no release: the labels only releases use are boot_path_problems'
    problems: list[tuple[str, str]] = []
    if labels.cni_version and labels.resolved_cni_chart_version is None:
        problems.append(("cni_version", f"{labels.cni} {labels.cni_version} has no "
                         f"{'tigera-operator' if labels.cni == 'calico' else 'flannel'} chart "
                         "in the driver's table: set cni_chart_version too (got "
                         f"{labels.cni_version!r})"))
    if labels.cloud_provider_enabled and labels.cloud_provider_tag:
        for label, chart, found in (
                ("cloud_provider_chart_version", "openstack-cloud-controller-manager",
                 labels.resolved_cloud_provider_chart_version),
                ("cinder_csi_chart_version", "openstack-cinder-csi",
                 labels.resolved_cinder_csi_chart_version)):
            if found is None:
                problems.append(("cloud_provider_tag", f"{labels.cloud_provider_tag} has no "
                                 f"{chart} chart in the driver's table: set {label} too (got "
                                 f"{labels.cloud_provider_tag!r}; charts known for "
                                 f"{', '.join(CLOUD_PROVIDER_CHARTS)})"))
    return problems



def overlapping_networks(labels: KubernetesLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """Pod, service and node networks must not overlap: routing would break silently."""
    problems: list[tuple[str, str]] = []
    if ipaddress.ip_network(labels.pod_cidr).overlaps(ipaddress.ip_network(labels.service_cidr)):
        problems.append(("service_cidr", f"overlaps pod_cidr {labels.pod_cidr} "
                                         f"(got {labels.service_cidr})"))
    return problems + overlaps_node_subnet(
        spec, {"pod_cidr": [labels.pod_cidr], "service_cidr": [labels.service_cidr]})


__all__ = [
    "ADDONS_AT_BOOT",
    "ADDONS_FROM_PROGRAM",
    "CLOUD_PROVIDER_TAGS",
    "CONTAINERD_FROM_UBUNTU",
    "CONTAINERD_MATRIX",
    "CONTAINERD_RELEASES",
    "DEFAULT_CNI_VERSIONS",
    "DEFAULT_KUBE_TAG",
    "INSTALLABLE_KUBE_MINORS",
    "KUBE_RELEASES",
    "PAUSE_IMAGES",
    "PROGRAM_PATH_LABELS",
    "RELEASE_0_1_0",
    "RELEASE_MAIN_2026_12_04",
    "SUPPORTED_KUBE_MINORS",
    "SUPPORT_ENDS",
    "UNRECORDED_RELEASES",
    "KubernetesLabels",
    "Support",
    "addons_path",
    "boot_path_problems",
    "chart_problems",
    "containerd_matrix_warning",
    "kube_tag_problem",
    "kube_tag_warning",
    "minor_support",
    "overlapping_networks",
    "program_route",
    "unrecorded_releases",
    "version_range",
]
