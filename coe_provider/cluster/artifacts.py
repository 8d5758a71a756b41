"""What a cluster's nodes and releases fetch from outside the cloud: container images, Helm
charts, package repositories and files. ``coe images`` prints it, so that an operator can fill
the mirrors of an air-gapped cloud (``skopeo copy``, a Harbor replication rule, an APT mirror)
before the first ``pulumi up``.

Each driver names what it fetches explicitly (``CoeCluster.fetched_artifacts``); a reference a
driver cannot compute is an error, never an omission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from coe_provider.spec.mirrors import MirrorLabels

DISTRIBUTION_ARCHIVES: dict[str, tuple[str, str]] = {
    "ubuntu": ("http://archive.ubuntu.com/ubuntu", "http://security.ubuntu.com/ubuntu"),
    "debian": ("http://deb.debian.org/debian", "http://deb.debian.org/debian-security"),
}
"""The archive and security archive each distribution's cloud images point APT at."""


class ArtifactError(ValueError):
    """A driver cannot name something its cluster would fetch: the label and the reason."""

    def __init__(self, label: str, reason: str) -> None:
        super().__init__(f"{label}: {reason}")
        self.label = label
        """The label whose value has no known artifact."""
        self.reason = reason
        """Why, with the value."""


@dataclass(frozen=True)
class Image:
    """A container image the cluster runs."""

    reference: str
    """What the nodes pull: ``registry/repository:tag``, under the mirror prefix when set."""

    upstream: str
    """Where the image is published; equal to ``reference`` without a mirror."""

    used_by: str
    """What runs it (``kubeadm``, a release's chart)."""


@dataclass(frozen=True)
class Chart:
    """A Helm chart a release of the cluster installs."""

    name: str
    """The chart's name."""

    version: str
    """The chart version."""

    repository: str
    """Where Helm fetches it: the https repository or the ``oci://`` path."""

    upstream: str
    """The chart's upstream repository."""


@dataclass(frozen=True)
class PackageRepository:
    """An APT repository the nodes install from."""

    url: str
    """Its base URL, as written into the node's sources."""

    upstream: str
    """The repository it mirrors."""

    purpose: str
    """What comes from it."""


@dataclass(frozen=True)
class Artifacts:
    """Everything one cluster fetches, by kind."""

    images: tuple[Image, ...] = ()
    """Container images, the nodes' and every release's."""

    charts: tuple[Chart, ...] = ()
    """Helm charts of the releases."""

    package_repositories: tuple[PackageRepository, ...] = ()
    """APT repositories."""

    files: tuple[str, ...] = field(default=())
    """Other downloads (URLs; ``{arch}`` stands for each node architecture)."""

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping, kinds as lists of objects (files as strings)."""
        return {
            "images": [vars(image) for image in self.images],
            "charts": [vars(chart) for chart in self.charts],
            "packageRepositories": [vars(repository)
                                    for repository in self.package_repositories],
            "files": list(self.files),
        }


def distribution_repositories(labels: BaseModel, os: str) -> tuple[PackageRepository, ...]:
    """The distribution's archive and security archive, or their mirrors (``apt_mirror``)."""
    archive, security = DISTRIBUTION_ARCHIVES.get(os, DISTRIBUTION_ARCHIVES["ubuntu"])
    mirrors = labels if isinstance(labels, MirrorLabels) else None
    primary = (mirrors.apt_mirror if mirrors else None) or archive
    security_mirror = (mirrors.resolved_apt_security_mirror if mirrors else None) or security
    return (PackageRepository(primary, archive, f"{os} archive: the nodes' packages"),
            PackageRepository(security_mirror, security, f"{os} security updates"))


__all__ = [
    "DISTRIBUTION_ARCHIVES",
    "ArtifactError",
    "Artifacts",
    "Chart",
    "Image",
    "PackageRepository",
    "distribution_repositories",
]
