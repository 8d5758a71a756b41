"""The user-facing cluster description: Magnum's ClusterTemplate (BayModel), clusters, groups.

Field names are snake_case in Python and camelCase in YAML and stack configuration. Unknown
fields are errors. Rules that involve one field live on the model; rules across fields and the
driver's label check live in :mod:`coe_provider.spec.validation`, which also names every path.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from coe_provider.spec.k8ssyntax import taint_problem

MAX_NODES = 5000
"""Upper bound on nodes in one cluster: Kubernetes' published limit of 5000 nodes."""

MAX_MASTERS = 7
"""Upper bound on masters; etcd and Raft clusters beyond seven members only slow writes."""

MASTER_GROUP = "master"
"""Group name used for the masters in resource names (``{cluster}-master-{index}``)."""

DNS_LABEL_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
"""RFC 1123 label (without its 63-character limit): cluster and node group names."""

_DNS_LABEL = re.compile(DNS_LABEL_PATTERN)

TAINT_PATTERN = r"^[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$"
"""A node taint, ``key=value:Effect`` (the value may be left out)."""

_PROXY_URL = re.compile(r"^https?://([^/@\s]+@)?[A-Za-z0-9.\-\[\]:]+(:\d{1,5})?/?$")


DEFAULT_READY_TIMEOUT = 3600
"""Seconds the readiness gate waits by default: Magnum's default create timeout, enough for a
100-node cluster on a slow cloud (image pulls and package installs dominate, in parallel)."""


def pem_certificates_problem(value: str) -> str | None:
    """Why ``value`` is not one or more PEM certificates, or None when it is."""
    from cryptography import x509  # only a template with a bundle pays for the import

    if "-----BEGIN CERTIFICATE-----" not in value:
        return "must be PEM certificates (-----BEGIN CERTIFICATE----- blocks)"
    try:
        x509.load_pem_x509_certificates(value.encode())
    except ValueError as exc:
        return f"must be PEM certificates; one does not parse ({exc})"
    return None


def rule(message: str) -> PydanticCustomError:
    """A validation failure whose text is exactly ``message`` (no ``Value error,`` prefix)."""
    return PydanticCustomError("coe_rule", message)


def check_dns_label(value: str, what: str) -> str:
    """Names end up in hostnames and Kubernetes label values: RFC 1123 labels fit both."""
    if not value:
        raise rule(f"{what} must not be empty")
    if len(value) > 63:
        raise rule(f"{what} must be at most 63 characters (got {len(value)})")
    if not _DNS_LABEL.match(value):
        raise rule(
            f"{what} must be lowercase letters, digits and '-', starting and ending with a "
            f"letter or digit, valid as a hostname and a Kubernetes label value (got {value!r})"
        )
    return value


def check_cidr(value: str) -> str:
    """A network in CIDR notation with no host bits set."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise rule(f"must be a network in CIDR notation such as 10.0.0.0/24 ({exc})") from None
    return value


def check_ip(value: str) -> str:
    """A single IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise rule(f"must be an IP address (got {value!r})") from None
    return value


class SpecModel(BaseModel):
    """Common configuration: camelCase aliases, snake_case names, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_default=True,
        frozen=True,
        use_attribute_docstrings=True,
    )


class BastionSpec(SpecModel):
    """A jump host: one server with a floating IP; SSH to nodes only from it."""

    flavor: str | None = None
    """Flavor of the bastion; the template's worker flavor when unset."""

    image: str | None = None
    """Image of the bastion; the template's image when unset."""


class ClusterTemplate(SpecModel):
    """Magnum's ClusterTemplate (BayModel): what clusters built from it have in common."""

    image: str
    """Glance image name or ID for every node (a node group may override it)."""

    flavor: str
    """Nova flavor name or ID for workers (a node group may override it)."""

    master_flavor: str | None = None
    """Nova flavor for masters; defaults to ``flavor``."""

    keypair: str | None = None
    """Existing Nova key pair injected on every node; optional."""

    external_network: str | None = None
    """Name or ID of the external (provider) network: router gateway and floating IP pool;
    required with a managed network (no ``fixed_network``) and with a bastion."""

    fixed_network: str | None = None
    """Existing network (name or ID) to use instead of a managed one."""

    fixed_subnet: str | None = None
    """Existing subnet (name or ID) inside ``fixed_network``."""

    subnet_cidr: str = "10.0.0.0/24"
    """IPv4 CIDR of the managed subnet (ignored with ``fixed_network``)."""

    dns_nameservers: list[str] = Field(default_factory=lambda: ["8.8.8.8"])
    """DNS servers of the managed subnet."""

    network_mtu: int | None = Field(default=None, ge=1280, le=9216)
    """MTU of the cluster network; overlay and pod networks are sized to fit inside it. When
    unset, the Neutron network's own ``mtu``; either way only nodes built afterwards take it."""

    docker_volume_size: int = Field(default=0, ge=0, le=16384)
    """GiB of container storage on its own volume per node; 0 keeps it on the root disk."""

    etcd_volume_size: int = Field(default=0, ge=0, le=16384)
    """GiB of a dedicated Cinder volume for etcd (or the COE's state) on each master; 0 = none."""

    boot_volume_size: int = Field(default=0, ge=0, le=16384)
    """GiB of a boot volume created from the image; 0 boots from the image on local disk."""

    volume_type: str | None = None
    """Cinder volume type for every volume the cluster creates."""

    master_availability_zone: str | None = None
    """Nova availability zone for the masters (node groups set their own)."""

    master_lb_enabled: bool | None = None
    """Put an Octavia load balancer in front of the masters' API; required with several masters."""

    floating_ip_enabled: bool = False
    """Give every node a floating IP from ``external_network``."""

    master_lb_floating_ip_enabled: bool | None = None
    """Give the API load balancer a floating IP; by default, when an external network is set."""

    api_allowed_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])
    """Source CIDRs allowed to reach the COE API (listener ``allowed_cidrs`` and master rules)."""

    ssh_allowed_cidrs: list[str] = Field(default_factory=list)
    """Source CIDRs allowed to reach SSH on the nodes; empty closes SSH from outside."""

    bastion: bool | BastionSpec = False
    """A bastion host (``true``, or its flavor and image): the SSH path to the nodes; needs
    ``ssh_allowed_cidrs`` (who may SSH to it) and ``external_network``."""

    http_proxy: str | None = None
    """HTTP proxy handed to the bootstrap (package installs, container pulls)."""

    https_proxy: str | None = None
    """HTTPS proxy handed to the bootstrap."""

    no_proxy: str | None = None
    """Comma-separated hosts and CIDRs that bypass the proxy; cluster addresses are added."""

    trusted_ca_bundle: str | None = None
    """PEM certificates of the certificate authorities that sign the cloud's own mirrors,
    registries and proxy: installed in every node's trust store, which APT, containerd,
    Docker and the bootstrap's downloads use."""

    labels: dict[str, Any] = Field(default_factory=dict)
    """Driver-specific labels, validated by the driver's own label model."""

    @field_validator("subnet_cidr")
    @classmethod
    def _subnet_cidr(cls, value: str) -> str:
        check_cidr(value)
        network = ipaddress.ip_network(value)
        if network.version == 6:
            # The managed subnet is built with ipVersion 4; dual stack does not exist yet.
            raise rule(f"must be an IPv4 network such as 10.0.0.0/24; IPv6 subnets are not "
                       f"supported (got {value})")
        if network.prefixlen > 28:
            raise rule(f"must be /28 or larger to hold a cluster (got {value})")
        return value

    @field_validator("api_allowed_cidrs", "ssh_allowed_cidrs")
    @classmethod
    def _cidr_list(cls, value: list[str]) -> list[str]:
        for index, item in enumerate(value):
            try:
                check_cidr(item)
            except PydanticCustomError as exc:
                raise rule(f"item [{index}] {exc.message()} (got {item!r})") from None
        return value

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, value: list[str]) -> list[str]:
        for index, item in enumerate(value):
            try:
                check_ip(item)
            except PydanticCustomError:
                raise rule(f"item [{index}] must be an IP address (got {item!r})") from None
        return value

    @field_validator("http_proxy", "https_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is not None and not _PROXY_URL.match(value):
            raise rule(
                f"must be a proxy URL such as http://proxy.example.com:3128 (got {value!r})"
            )
        return value

    @field_validator("trusted_ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None) -> str | None:
        if value is None:
            return value
        problem = pem_certificates_problem(value)
        if problem:
            raise rule(problem)
        return value

    @field_validator("no_proxy")
    @classmethod
    def _no_proxy(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for item in value.split(","):
            entry = item.strip()
            if not entry or any(c.isspace() for c in entry) or "/" in entry.split("/")[0]:
                raise rule(f"must be a comma-separated list of hosts or CIDRs (got {value!r})")
            if "/" in entry:
                check_cidr(entry)
        return value


class NodeGroupSpec(SpecModel):
    """A group of workers that share flavor, image and labels (Magnum's node group)."""

    name: str = Field(json_schema_extra={
        "pattern": DNS_LABEL_PATTERN, "maxLength": 63, "not": {"const": MASTER_GROUP}})
    """Group name; part of every node's name, a hostname and a Kubernetes label value."""

    count: int = Field(default=1, ge=0, le=MAX_NODES)
    """Number of live nodes."""

    min_count: int = Field(default=0, ge=0, le=MAX_NODES)
    """Lower bound for ``count`` (and for an autoscaler)."""

    max_count: int | None = Field(default=None, ge=0, le=MAX_NODES)
    """Upper bound for ``count``; unset means the cluster-wide limit."""

    flavor: str | None = None
    """Flavor override for this group."""

    image: str | None = None
    """Image override for this group."""

    availability_zone: str | None = None
    """Nova availability zone for this group's servers."""

    labels: dict[str, str] = Field(default_factory=dict)
    """Node labels the COE puts on this group's nodes; Kubernetes' label syntax for
    Kubernetes, where labels kubelet may not set on itself (``node-role.kubernetes.io/*``,
    other ``kubernetes.io`` and ``k8s.io`` ones) are refused."""

    taints: list[str] = Field(default_factory=list,
                              json_schema_extra={"items": {"pattern": TAINT_PATTERN}})
    """Node taints, ``key=value:Effect`` (Effect ``NoSchedule``, ``PreferNoSchedule`` or
    ``NoExecute``)."""

    remove: list[int] = Field(default_factory=list)
    """Node indices retired from the group (Magnum's ``nodes_to_remove``); never reused."""

    replace: list[int] = Field(default_factory=list)
    """Live node indices to recreate with the group's current image, flavor and bootstrap;
    other nodes keep what they were built with."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        check_dns_label(value, "node group name")
        if value == MASTER_GROUP:
            raise rule(f"node group name {MASTER_GROUP!r} is reserved for the masters")
        return value

    @field_validator("remove", "replace")
    @classmethod
    def _indices(cls, value: list[int]) -> list[int]:
        for index in value:
            if index < 0:
                raise rule(f"node indices must be >= 0 (got {index})")
        if len(set(value)) != len(value):
            raise rule(f"node indices must be unique (got {value})")
        return value

    @field_validator("taints")
    @classmethod
    def _taints(cls, value: list[str]) -> list[str]:
        problems = [problem for taint in value if (problem := taint_problem(taint))]
        if problems:
            raise rule("; ".join(problems))
        return value


class ClusterOpenStack(SpecModel):
    """The cluster's own OpenStack provider: another cloud or region than the stack's
    ``openstack:*`` settings."""

    cloud: str | None = None
    """The clouds.yaml entry (credentials, project and region as that entry says)."""

    region: str | None = None
    """The region (over the entry's own)."""

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None, info: Any) -> str | None:
        if value is None and info.data.get("cloud") is None:
            raise rule("give cloud, region or both")
        return value


class ClusterSpec(SpecModel):
    """One cluster: which driver builds it, from which template, with how many nodes."""

    driver: str | None = None
    """Driver name (its directory under ``drivers/``); or give ``coe`` (and ``os``)."""

    coe: str | None = None
    """Container orchestration engine (``kubernetes``, ``swarm``) when no driver is named."""

    os: str | None = None
    """Operating system distro to narrow the driver lookup by ``coe``."""

    template: ClusterTemplate
    """The cluster template after merging ``templateFile`` and the cluster's own fields."""

    master_count: int = Field(default=1, json_schema_extra={
        "minimum": 1, "maximum": MAX_MASTERS, "not": {"type": "integer", "multipleOf": 2}})
    """Number of masters; odd, for etcd (or Raft) quorum."""

    node_groups: list[NodeGroupSpec] = Field(default_factory=list)
    """Worker node groups."""

    labels: dict[str, Any] = Field(default_factory=dict)
    """Labels that override the template's."""

    master_replace: list[int] = Field(default_factory=list)
    """Master indices to recreate with current values (never 0: it initialised the cluster)."""

    drain_on_delete: bool = False
    """Drain a node through the COE (and leave etcd/Raft) before its server is deleted; needs
    an SSH path from where ``pulumi up`` runs: a bastion, or master floating IPs."""

    drain_timeout: int = Field(default=600, ge=30, le=86400)
    """Seconds a drain may take before the removal goes on regardless."""

    retain_volumes_on_delete: bool = False
    """Keep etcd and container-storage volumes when servers or the stack are deleted, and
    the volumes the cluster's CSI driver made (detached, listed by the destroy)."""

    wait_for_ready: bool = True
    """``pulumi up`` ends only when the COE reports every declared node ready (the readiness
    gate); needs a route to the API from where ``pulumi up`` runs: the API's floating IP, a
    master floating IP, or the bastion. ``false`` turns the gate off."""

    ready_timeout: int = Field(default=DEFAULT_READY_TIMEOUT, ge=60, le=86400)
    """Seconds the readiness gate waits for every declared node before failing
    ``pulumi up`` with one line per node that is not ready."""

    openstack: ClusterOpenStack | None = None
    """The cluster's own OpenStack provider (``{cloud, region}``), which its readiness gate
    and cleanup use too; unset: the stack's default provider (``openstack:*``)."""

    @field_validator("master_replace")
    @classmethod
    def _master_replace(cls, value: list[int]) -> list[int]:
        if 0 in value:
            raise rule("master 0 initialised the cluster and is never replaced; replace "
                       "other masters, or build a new cluster")
        if len(set(value)) != len(value) or any(index < 0 for index in value):
            raise rule(f"master indices must be unique and >= 0 (got {value})")
        return value

    @field_validator("master_count")
    @classmethod
    def _master_count(cls, value: int) -> int:
        if value < 1:
            raise rule(f"must be at least 1 (got {value})")
        if value % 2 == 0:
            raise rule(f"must be odd for etcd quorum (got {value})")
        if value > MAX_MASTERS:
            raise rule(f"must be at most {MAX_MASTERS} (got {value})")
        return value

    @property
    def merged_labels(self) -> dict[str, Any]:
        """Template labels overridden by the cluster's own."""
        return {**self.template.labels, **self.labels}

    @property
    def master_flavor(self) -> str:
        """The masters' flavor: the template's master flavor, else the worker flavor."""
        return self.template.master_flavor or self.template.flavor


Role = Literal["master", "worker"]
"""The two roles a node has in every COE."""
