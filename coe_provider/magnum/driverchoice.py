"""Choose the coe-provider driver as Magnum chose its driver: coe, server_type and distro."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coe_provider.cluster.registry import DriverInfo, DriverNotFound, find_driver

COE_NAMES = {"kubernetes": "kubernetes", "swarm": "swarm", "swarm-mode": "swarm"}
"""Magnum's coe values (``swarm-mode`` is swarm_fedora_atomic_v2's) -> the registry's."""


class DriverRefused(LookupError):
    """No driver builds what the template describes; the message says what to do."""


@dataclass(frozen=True)
class DriverChoice:
    """The driver and whether the template's image must change for it."""

    driver: DriverInfo
    """The driver chosen."""

    distro_changes: bool
    """True when the template's distro has no driver here and ``--image`` replaces it."""


def choose_driver(template: dict[str, Any], image: str | None) -> DriverChoice:
    """The driver for a Magnum template; ``image`` (``--image``) allows a distro change."""
    coe = COE_NAMES.get(str(template.get("coe") or ""))
    if coe is None:
        raise DriverRefused(f"coe {template.get('coe')!r}: no coe-provider driver builds it "
                            f"(known: {', '.join(sorted(set(COE_NAMES.values())))})")
    server_type = str(template.get("server_type") or "vm")
    distro = str(template.get("cluster_distro") or "") or None
    try:
        return DriverChoice(find_driver(coe, distro, server_type), distro_changes=False)
    except DriverNotFound:
        pass
    try:
        target = find_driver(coe, None, server_type)
    except DriverNotFound as exc:
        raise DriverRefused(f"coe {coe!r} on server_type {server_type!r}: {exc}") from None
    if image is None:
        raise DriverRefused(
            f"cluster_distro {distro!r}: no coe-provider driver runs {coe} on it; move to "
            f"driver {target.name} ({' or '.join(target.os_distros)} images): the image must "
            f"change, so name the new image with --image (the template's image_id "
            f"{template.get('image_id')!r} will not boot this driver's bootstrap)")
    return DriverChoice(target, distro_changes=True)
