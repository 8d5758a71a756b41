"""swarm_ubuntu: Docker Swarm mode with the distribution's docker.io, managers as masters."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
from pydantic import BaseModel

from coe_provider.cluster import driverfiles
from coe_provider.cluster.base import CoeCluster
from coe_provider.cluster.contract import (
    CLUSTER_SOURCES,
    BootstrapFile,
    BootstrapPayload,
    DriverProvides,
    NodeContext,
    RemovalStep,
    SecurityRule,
    Source,
)
from coe_provider.health.https import ApiReader
from coe_provider.health.report import ProbeResult
from coe_provider.health.target import TlsCredentials
from coe_provider.spec.models import ClusterSpec

from . import health
from .daemon import (
    DOCKER_TLS_PORT,
    RESERVED_LABEL_PREFIXES,
    daemon_config,
    registry_settings,
    reserved_label,
)
from .dockertls import DockerPki, create_docker_pki, server_certificate
from .joinchannel import JOIN_USER, JoinKeys, TokenKind, create_join_keys, sudoers
from .labels import SwarmLabels, hub_only_mirrors, pool_issues

SWARM_PORT = 2377
"""Cluster management (Raft and the join API) on the managers."""

GOSSIP_PORT = 7946
"""Node discovery and network control plane (TCP and UDP) on every node."""

ESP_PROTOCOL = "50"
"""IPsec ESP: the data path of overlay networks created with ``--opt encrypted``."""

SWARM_DIR = "/etc/coe/swarm"
"""Where cloud-init leaves the driver's files for the bootstrap to install."""

DAEMON_FILES = (("daemon.json", True), ("daemon-before-24.json", False))
"""The daemon configurations the bootstrap picks from by the installed Docker's major: (file
name under ``SWARM_DIR``, whether it carries ``default-network-opts``)."""

PRUNE_FILES = (
    ("prune-nodes.sh", "/usr/local/sbin/coe-swarm-prune", "0755"),
    ("coe-swarm-prune.service", "/etc/systemd/system/coe-swarm-prune.service", "0644"),
    ("coe-swarm-prune.timer", "/etc/systemd/system/coe-swarm-prune.timer", "0644"),
)
"""The managers' clean-up of node entries left by unfinished joins: (template, path, mode)."""


class SwarmUbuntuCluster(CoeCluster):
    """A Docker Swarm mode cluster: masters are managers, node groups are workers."""

    provides: ClassVar[DriverProvides] = DriverProvides(coe="swarm", os="ubuntu",
                                                             also_os=("debian",))
    label_model: ClassVar[type[BaseModel]] = SwarmLabels
    api_port: ClassVar[int] = DOCKER_TLS_PORT
    driver_version: ClassVar[str] = driverfiles.driver_version(__package__)
    """The driver's own version (its VERSION file)."""

    @classmethod
    def coe_version(cls, labels: BaseModel) -> str:
        assert isinstance(labels, SwarmLabels)
        return labels.docker_version or "distribution"

    @classmethod
    def release_labels(cls, labels: BaseModel) -> dict[str, Any]:
        """Docker's package version (None: the distribution's, as in 0.1.0)."""
        assert isinstance(labels, SwarmLabels)
        return {"docker_version": labels.docker_version}

    @classmethod
    def check_labels(cls, labels: BaseModel, spec: ClusterSpec) -> list[tuple[str, str]]:
        assert isinstance(labels, SwarmLabels)
        return pool_issues(labels, spec) + hub_only_mirrors(labels)

    @classmethod
    def check_spec(cls, spec: ClusterSpec) -> list[tuple[tuple[str | int, ...], str]]:
        """Swarm has no taints: refuse them rather than build nodes that ignore them. Group
        labels become engine labels: refuse those dockerd would not start with."""
        problems: list[tuple[tuple[str | int, ...], str]] = [
            (("nodeGroups", position, "taints"),
             "swarm has no taints; keep work off these nodes with node labels and placement "
             "constraints (--constraint engine.labels.<key>==<value>)")
            for position, group in enumerate(spec.node_groups) if group.taints
        ]
        problems += [
            (("nodeGroups", position, "labels", key),
             f"label {key!r} is in a namespace Docker reserves "
             f"({', '.join(p + '*' for p in RESERVED_LABEL_PREFIXES)}); dockerd refuses to "
             "start with it")
            for position, group in enumerate(spec.node_groups)
            for key in group.labels if reserved_label(key)
        ]
        return problems

    @property
    def swarm(self) -> SwarmLabels:
        """The typed labels."""
        assert isinstance(self.labels, SwarmLabels)
        return self.labels

    def api_url(self, host: pulumi.Input[str]) -> pulumi.Output[str]:
        """``DOCKER_HOST`` for the API at ``host``: ``tcp://host:2376``."""
        return pulumi.Output.concat("tcp://", host, ":", str(self.api_port))

    def security_rules(self) -> list[SecurityRule]:
        api_sources = (Source.API_CLIENTS, *CLUSTER_SOURCES)
        if self.spec.template.master_lb_enabled:
            # Octavia's health monitor and member traffic come from the subnet.
            api_sources = (*api_sources, Source.SUBNET)
        port = self.swarm.data_path_port
        rules = [
            SecurityRule("master", "tcp", DOCKER_TLS_PORT, DOCKER_TLS_PORT, api_sources,
                         "Docker API (mutual TLS)"),
            SecurityRule("master", "tcp", SWARM_PORT, SWARM_PORT, CLUSTER_SOURCES,
                         "swarm cluster management"),
            SecurityRule("master", "tcp", 22, 22, CLUSTER_SOURCES,
                         "swarm join tokens (forced-command SSH)"),
        ]
        for role in ("master", "worker"):
            rules += [
                SecurityRule(role, "tcp", GOSSIP_PORT, GOSSIP_PORT, CLUSTER_SOURCES,
                             "swarm node gossip"),
                SecurityRule(role, "udp", GOSSIP_PORT, GOSSIP_PORT, CLUSTER_SOURCES,
                             "swarm node gossip"),
                SecurityRule(role, "udp", port, port, CLUSTER_SOURCES, "overlay data path"),
                SecurityRule(role, ESP_PROTOCOL, None, None, CLUSTER_SOURCES,
                             "encrypted overlay data path"),
            ]
        return rules

    def prepare(self) -> None:
        """The Docker CA and client certificate, and the join channel's SSH keys."""
        self.docker_pki: DockerPki = create_docker_pki(self.cluster_name, self)
        """Mutual TLS of the Docker API."""
        self.join_keys: JoinKeys = create_join_keys(self.cluster_name, self)
        """The managers' host key and the keys that fetch join tokens."""
        self._daemon_configs: dict[tuple[bool, tuple[tuple[str, str], ...]],
                                   list[BootstrapFile]] = {}

    def _server_addresses(self, node: NodeContext) -> list[pulumi.Input[str]]:
        """What a manager's certificate names: its addresses and the load balancer's."""
        addresses: list[pulumi.Input[str]] = [node.address]
        if self.master_floating_addresses:
            addresses.append(self.master_floating_addresses[node.index])
        if self.spec.template.master_lb_enabled:
            addresses += [self.api_internal_host, self.api_external_host]
        return addresses

    def _manager_files(self, node: NodeContext) -> list[BootstrapFile]:
        """Token serving and the Docker API's TLS material, for managers only."""
        server = server_certificate(node.name, self.docker_pki.ca, self._server_addresses(node),
                                    self)
        return [
            BootstrapFile(f"{SWARM_DIR}/authorized_keys",
                          self.join_keys.authorized_keys(self.network.cidr), "0600"),
            BootstrapFile(f"{SWARM_DIR}/sudoers", sudoers(), "0600"),
            *self.docker_pki.server_files(server),
            *(BootstrapFile(path, driverfiles.driver_file(__package__, "templates", template),
                            mode) for template, path, mode in PRUNE_FILES),
        ]

    def _environment(self) -> dict[str, pulumi.Input[str]]:
        labels = self.swarm
        mask = labels.default_addr_pool_mask_length
        return {
            "DOCKER_VERSION": labels.docker_version or "",
            "SWARM_MANAGERS": pulumi.Output.all(*self.master_addresses_by_index).apply(" ".join),
            "SWARM_JOIN_USER": JOIN_USER,
            "SWARM_ADDR_POOLS": " ".join(labels.default_addr_pool),
            "SWARM_ADDR_POOL_MASK": str(mask) if mask is not None else "",
            "SWARM_DATA_PATH_PORT": str(labels.data_path_port),
            "SWARM_AUTOLOCK": "true" if labels.autolock else "false",
        }

    def _daemon_json(self, manager: bool, labels: Mapping[str, str], network_defaults: bool,
                     mtu: int | None) -> str:
        return daemon_config(manager, labels, mtu, network_defaults, registry_settings(
            self.swarm.registry_mirrors, self.swarm.insecure_registry))

    def _daemon_files(self, manager: bool,
                      engine_labels: Mapping[str, str]) -> list[BootstrapFile]:
        """daemon.json for Docker 24 and later (network defaults sized to the network's MTU)
        and for older Docker, which refuses ``default-network-opts``; the bootstrap installs
        the one the installed docker.io takes. One pair per role and group, not per node."""
        key = (manager, tuple(sorted(engine_labels.items())))
        if key not in self._daemon_configs:
            labels = dict(engine_labels)
            self._daemon_configs[key] = [
                BootstrapFile(f"{SWARM_DIR}/{name}", self.network_mtu.apply(
                    functools.partial(self._daemon_json, manager, labels, defaults)))
                for name, defaults in DAEMON_FILES
            ]
        return self._daemon_configs[key]

    def bootstrap(self, node: NodeContext) -> BootstrapPayload:
        manager = node.role == "master"
        kind: TokenKind = "manager" if manager else "worker"
        engine_labels = {**node.labels, "coe.cluster": node.cluster, "coe.group": node.group,
                         "coe.role": node.role}
        files_ = list(self._daemon_files(manager, engine_labels))
        if not node.first_master:
            # The first manager makes the tokens; every other node fetches one.
            files_ += [
                BootstrapFile(f"{SWARM_DIR}/join_key", self.join_keys.client_key(kind), "0600"),
                BootstrapFile(f"{SWARM_DIR}/known_hosts",
                              self.join_keys.known_hosts(self.master_addresses_by_index)),
            ]
        if manager:
            files_ += self._manager_files(node)
        script = driverfiles.driver_file(__package__, "templates", "bootstrap.sh")
        return BootstrapPayload(
            script=script, environment=self._environment(), files=files_,
            ssh_host_keys=self.join_keys.host_keys() if manager else {},
        )

    def removal_step(self, node: NodeContext) -> RemovalStep:
        """Every node is drained, demoted if it is a manager, and removed from the swarm by
        the first manager (master 0 is never removed)."""
        del node
        script = driverfiles.driver_file(__package__, "templates", "remove-node.sh")
        return RemovalStep("first_master", script)

    def extension_outputs(self) -> dict[str, pulumi.Input[Any]]:
        return {
            "dockerHost": self.api_address,
            "dockerTls": self.docker_pki.client_bundle(),
            "caCertificate": self.docker_pki.ca.cert_pem,
        }

    @classmethod
    def probe_members(cls, client: ApiReader) -> ProbeResult:
        """The Docker API's node list, through whichever manager answers."""
        return health.probe(client)

    @classmethod
    def client_credentials(cls, outputs: Mapping[str, Any]) -> TlsCredentials:
        """The ``dockerTls`` bundle handed to the user."""
        bundle = outputs.get("dockerTls")
        if not isinstance(bundle, Mapping):
            raise ValueError("no dockerTls output (a mapping of ca.pem, cert.pem, key.pem)")
        missing = [name for name in ("ca.pem", "cert.pem", "key.pem")
                   if not isinstance(bundle.get(name), str)]
        if missing:
            raise ValueError(f"dockerTls has no {', '.join(missing)}")
        return TlsCredentials(ca_pem=bundle["ca.pem"], cert_pem=bundle["cert.pem"],
                              key_pem=bundle["key.pem"])
