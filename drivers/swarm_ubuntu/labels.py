"""The template definition of swarm_ubuntu: its labels, typed, with their defaults."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from coe_provider.spec.labelrules import check_apt_version, overlaps_node_subnet
from coe_provider.spec.mirrors import MirrorLabels
from coe_provider.spec.models import ClusterSpec, check_cidr, rule

DEFAULT_ADDR_POOL = ("10.200.0.0/16",)
"""Overlay networks come from here unless set. Docker's own default, 10.0.0.0/8, overlaps the
template's default node subnet 10.0.0.0/24: its first overlay (``ingress``) would take that
very /24."""

DEFAULT_DATA_PATH_PORT = 4789
"""VXLAN port of the overlay data path (Docker's default)."""

SWARM_CONTROL_PORTS = frozenset({22, 2376, 2377, 7946})
"""Ports the cluster already uses, which the data path must not take."""


class SwarmLabels(MirrorLabels):
    """Labels of the swarm_ubuntu driver."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    docker_version: str | None = None
    """APT version of the distribution's ``docker.io`` package; its default when unset."""

    default_addr_pool: list[str] = Field(default_factory=lambda: list(DEFAULT_ADDR_POOL))
    """IPv4 CIDRs overlay networks are carved from (``docker swarm init --default-addr-pool``);
    one CIDR or a list. Must not overlap the node subnet."""

    default_addr_pool_mask_length: int | None = Field(default=None, ge=8, le=29)
    """Prefix length of each overlay network taken from the pools; Docker's 24 when unset."""

    data_path_port: int = Field(default=DEFAULT_DATA_PATH_PORT, ge=1024, le=49151)
    """UDP port of the overlay (VXLAN) data path; the security rules follow it."""

    autolock: bool = False
    """``docker swarm init --autolock``: managers encrypt their Raft keys at rest and need the
    unlock key after every daemon restart (see the driver's README for how to get it)."""

    @field_validator("docker_version")
    @classmethod
    def _docker_version(cls, value: str | None) -> str | None:
        return check_apt_version(value, "24.0.7-0ubuntu4")

    @field_validator("default_addr_pool", mode="before", json_schema_input_type=str | list[str])
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("default_addr_pool")
    @classmethod
    def _pools(cls, value: list[str]) -> list[str]:
        if not value:
            raise rule("must name at least one CIDR")
        networks = []
        for index, item in enumerate(value):
            try:
                check_cidr(item)
            except Exception as exc:  # PydanticCustomError carries the rule text
                raise rule(f"item [{index}] {exc} (got {item!r})") from None
            network = ipaddress.ip_network(item)
            if network.version != 4:
                raise rule(f"item [{index}] must be an IPv4 network (got {item!r})")
            networks.append(network)
        for first, second in itertools.combinations(networks, 2):
            if first.overlaps(second):
                raise rule(f"pools must not overlap ({first} and {second})")
        return value

    @field_validator("data_path_port")
    @classmethod
    def _data_path_port(cls, value: int) -> int:
        if value in SWARM_CONTROL_PORTS:
            raise rule(f"must not be a port the cluster already uses, "
                       f"{sorted(SWARM_CONTROL_PORTS)} (got {value})")
        return value

    @model_validator(mode="after")
    def _mask_fits_pools(self) -> SwarmLabels:
        mask = self.default_addr_pool_mask_length
        if mask is None:
            return self
        for cidr in self.default_addr_pool:
            if ipaddress.ip_network(cidr).prefixlen > mask:
                raise rule(f"default_addr_pool_mask_length {mask} is shorter than the prefix "
                           f"of pool {cidr}: each overlay network must fit in a pool")
        return self


def pool_issues(labels: SwarmLabels, spec: ClusterSpec) -> list[tuple[str, str]]:
    """Overlay pools must not overlap the node subnet."""
    return overlaps_node_subnet(spec, {"default_addr_pool": labels.default_addr_pool})


def hub_only_mirrors(labels: SwarmLabels) -> list[tuple[str, str]]:
    """Docker's ``registry-mirrors`` mirrors Docker Hub only: a mirror of any other registry
    would be silently ignored, so it is refused (name the mirror in the image instead)."""
    others = sorted(host for host in labels.registry_mirrors if host != "docker.io")
    if not others:
        return []
    return [("registry_mirrors", f"Docker mirrors Docker Hub only (key docker.io); Docker "
             f"would ignore a mirror of {', '.join(others)}: pull those images by the "
             f"mirror's own name instead (got {dict(labels.registry_mirrors)!r})")]


__all__ = ["DEFAULT_ADDR_POOL", "DEFAULT_DATA_PATH_PORT", "SwarmLabels", "hub_only_mirrors",
           "pool_issues"]
