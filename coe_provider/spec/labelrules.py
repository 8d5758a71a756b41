"""Rules that several drivers' label models share.

Single-value rules raise :func:`coe_provider.spec.models.rule` errors from a pydantic validator;
rules against the cluster spec return ``(label, rule)`` pairs for a driver's ``check_labels``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence

from coe_provider.spec.models import ClusterSpec, rule

_APT_VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")


def check_apt_version(value: str | None, example: str) -> str | None:
    """``value`` is unset or an APT version string (``example`` shows one in the message)."""
    if value is not None and not _APT_VERSION.match(value):
        raise rule(f"must be an APT version string such as {example} (got {value!r})")
    return value


def overlaps_node_subnet(
    spec: ClusterSpec, networks: Mapping[str, Sequence[str]]
) -> list[tuple[str, str]]:
    """``(label, rule)`` for every CIDR in ``networks`` (label -> CIDRs) that overlaps the
    managed node subnet, where routing would break silently.

    With ``fixedNetwork`` the subnet is only known in the cloud, so nothing is checked.
    """
    if spec.template.fixed_network:
        return []
    nodes = ipaddress.ip_network(spec.template.subnet_cidr)
    return [
        (label, f"overlaps the node subnet {spec.template.subnet_cidr} (got {cidr})")
        for label, cidrs in networks.items()
        for cidr in cidrs
        if ipaddress.ip_network(cidr).overlaps(nodes)
    ]


__all__ = ["check_apt_version", "overlaps_node_subnet"]
