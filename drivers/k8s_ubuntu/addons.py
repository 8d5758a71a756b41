"""The Kubernetes add-ons' versions: one table per Kubernetes minor, and what each chart is.

The CNI (Calico through the tigera-operator chart, or flannel), the OpenStack cloud controller
manager and Cinder CSI are installed from their official Helm charts by the program
(:mod:`.addon_resources`), or, on the boot-time path, from the same releases' manifests by the
first master. Both paths read their versions from :data:`ADDON_TABLE`.

Facts, read from the charts upstream (snapshots fetched 2026-12-04):

* kubernetes/cloud-provider-openstack ``charts/openstack-cloud-controller-manager/Chart.yaml``
  and ``charts/cinder-csi-plugin/Chart.yaml`` at the release commits (``git log --
  charts/*/Chart.yaml``): app v1.36.0 -> charts 2.36.0 / 2.36.0 (bae07f493), v1.35.0 -> 2.35.0
  (a031201ff), v1.34.1 -> 2.34.1 (0973c523d), v1.34.0 -> 2.34.0 (9a6c890c0), v1.33.0 -> 2.33.0
  (259ed77f5), v1.32.0 -> 2.32.0 (a70c0b342), v1.31.2 -> 2.31.2 / 2.31.5 (d228854cf), v1.31.0
  -> 2.31.0 (64766c127). No chart was ever released for v1.31.1.
* projectcalico/calico ``charts/tigera-operator/Chart.yaml``: the chart's version is set to
  the Calico release when the chart is published ("overridden at chart compilation time").
* flannel-io/flannel ``chart/kube-flannel/Chart.yaml``: version and appVersion are the flannel
  release (v0.28.9 at v0.28.9, v0.25.7 at v0.25.7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CALICO_CHART_REPOSITORY = "https://docs.tigera.io/calico/charts"
"""Where Calico publishes the tigera-operator chart."""

FLANNEL_CHART_REPOSITORY = "https://flannel-io.github.io/flannel/"
"""Where flannel publishes its chart (chart name ``flannel``)."""

CLOUD_PROVIDER_CHART_REPOSITORY = "https://kubernetes.github.io/cloud-provider-openstack"
"""Where cloud-provider-openstack publishes its charts."""


@dataclass(frozen=True)
class ChartPin:
    """One add-on release: the software's release tag and the chart version that ships it."""

    release: str
    """The software's release tag (``v3.32.1``), also what the boot-time path installs."""

    chart: str
    """The chart version (``v3.32.1``, ``2.36.0``)."""


@dataclass(frozen=True)
class AddonRow:
    """The add-on releases of one Kubernetes minor."""

    calico: ChartPin
    """Calico, through the tigera-operator chart."""

    flannel: ChartPin
    """flannel, through the flannel chart."""

    cloud_controller: ChartPin
    """openstack-cloud-controller-manager."""

    cinder_csi: ChartPin
    """openstack-cinder-csi."""


CLOUD_PROVIDER_CHARTS: dict[str, tuple[str, str]] = {
    "v1.31.0": ("2.31.0", "2.31.0"), "v1.31.2": ("2.31.2", "2.31.5"),
    "v1.32.0": ("2.32.0", "2.32.0"), "v1.33.0": ("2.33.0", "2.33.0"),
    "v1.34.0": ("2.34.0", "2.34.0"), "v1.34.1": ("2.34.1", "2.34.1"),
    "v1.35.0": ("2.35.0", "2.35.0"), "v1.36.0": ("2.36.0", "2.36.0"),
}
"""Every cloud-provider-openstack release with charts, as (cloud controller manager chart,
Cinder CSI chart) versions (module docstring)."""

CNI_CHART_FLOORS: dict[str, tuple[int, int, int]] = {"calico": (3, 28, 0),
                                                    "flannel": (0, 25, 0)}
"""The oldest release of each CNI whose chart version is its release tag, as checked in the
snapshots (every tag from here on has the chart in the tree)."""

_CALICO = ChartPin("v3.32.1", "v3.32.1")
_FLANNEL = ChartPin("v0.28.9", "v0.28.9")


def _cloud_provider(release: str) -> tuple[ChartPin, ChartPin]:
    controller, csi = CLOUD_PROVIDER_CHARTS[release]
    return ChartPin(release, controller), ChartPin(release, csi)


def _row(cloud_provider: str) -> AddonRow:
    controller, csi = _cloud_provider(cloud_provider)
    return AddonRow(calico=_CALICO, flannel=_FLANNEL, cloud_controller=controller,
                    cinder_csi=csi)


ADDON_TABLE: dict[str, AddonRow] = {
    "1.31": _row("v1.31.2"), "1.32": _row("v1.32.0"), "1.33": _row("v1.33.0"),
    "1.34": _row("v1.34.0"), "1.35": _row("v1.35.0"), "1.36": _row("v1.36.0"),
    # cloud-provider-openstack's release minor follows Kubernetes': no 1.37 release yet.
    "1.37": _row("v1.36.0"),
}
"""The add-on releases of each installable Kubernetes minor: the one table both paths read.
1.31 takes v1.31.2 (v1.31.1, which the boot-time path installed before, has no chart)."""

_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")


def cni_pin(row: AddonRow, cni: str) -> ChartPin:
    """The row's release of ``cni``."""
    return row.calico if cni == "calico" else row.flannel


def cni_chart(cni: str, release: str) -> str | None:
    """The chart version that ships ``release`` of ``cni``, or None when none is known."""
    match = _TAG.match(release)
    if not match:
        return None
    found = tuple(int(part) for part in match.groups())
    return release if found >= CNI_CHART_FLOORS[cni] else None


def cloud_provider_charts(release: str) -> tuple[str, str] | None:
    """The (cloud controller manager, Cinder CSI) chart versions of ``release``, or None."""
    return CLOUD_PROVIDER_CHARTS.get(release)


__all__ = [
    "ADDON_TABLE",
    "CALICO_CHART_REPOSITORY",
    "CLOUD_PROVIDER_CHARTS",
    "CLOUD_PROVIDER_CHART_REPOSITORY",
    "CNI_CHART_FLOORS",
    "FLANNEL_CHART_REPOSITORY",
    "AddonRow",
    "ChartPin",
    "cloud_provider_charts",
    "cni_chart",
    "cni_pin",
]

