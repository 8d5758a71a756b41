"""The base bay component: the contract every COE driver implements.

:class:`CoeCluster` owns the build order (validate -> network -> security groups -> load
balancer -> driver preparation -> server groups -> masters -> node groups -> outputs) and the
bay interface of Magnum's driver spec:

* create, update, delete: the Pulumi engine's operations on the component;
* get: the component's outputs (``detail``), exported by the root program per cluster;
* list and list detailed: :meth:`CoeCluster.summary` and :meth:`CoeCluster.detail`.

A driver subclasses it and implements the abstract hooks below; a driver class that misses
one fails when its module is imported, with a message that names the hook.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_openstack as openstack
from pydantic import BaseModel

from coe_provider.bootstrap import ProxySettings
from coe_provider.bootstrap.cloudconfig import (
    CloudConfigRenderer,
    render_bastion_cloud_config,
    source_entries,
)
from coe_provider.cleanup.target import OUTPUT_KEY as CLEANUP_OUTPUT
from coe_provider.cleanup.target import TAG_OUTPUT_KEY
from coe_provider.cleanup.wiring import (
    cleanup_environment,
    cleanup_output,
    cloud_resource_tag,
    create_cleanup,
    create_retired_command,
)
from coe_provider.cluster.apiroute import ApiRoute, api_route, load_balancer_floating_ip_wanted
from coe_provider.cluster.artifacts import Artifacts, distribution_repositories
from coe_provider.cluster.bastion import Bastion, create_bastion
from coe_provider.cluster.compute import (
    ImageResolver,
    ReplacementPolicy,
    ServerSpec,
    create_floating_ip,
    create_port,
    create_server,
    create_server_group,
    create_state_volume,
    port_address,
)
from coe_provider.cluster.contract import (
    CLUSTER_SOURCES,
    BootstrapPayload,
    DriverProvides,
    NodeContext,
    ProgramAddons,
    RemovalStep,
    SecurityRule,
    Source,
)
from coe_provider.cluster.loadbalancer import create_api_load_balancer
from coe_provider.cluster.naming import live_indices, node_name
from coe_provider.cluster.network import cluster_network, network_mtu
from coe_provider.cluster.pacing import RegistrationWindow
from coe_provider.cluster.pki import ssh_key
from coe_provider.cluster.registry import DriverInfo, driver_directory
from coe_provider.cluster.releases import (
    RECORD_KEY,
    kept_releases,
    previous_cluster,
    previous_stack_outputs,
    quorum_issues,
)
from coe_provider.cluster.scaling import SSH_USER, SshPath, create_removal_command
from coe_provider.cluster.security import create_security_groups
from coe_provider.health.gate import API_STAGE, ReadinessGate, gate_inputs
from coe_provider.health.https import ApiReader
from coe_provider.health.report import ProbeResult
from coe_provider.health.target import ExpectedNode, TlsCredentials
from coe_provider.openstack.provider import cluster_provider
from coe_provider.spec.errors import SpecError, join_path
from coe_provider.spec.mirrors import MirrorLabels
from coe_provider.spec.models import MASTER_GROUP, ClusterSpec, NodeGroupSpec, Role
from coe_provider.spec.validation import ResolvedCluster, check_cluster, resolve_cluster

TYPE_PREFIX = "coe:index:"
"""Component type tokens are ``coe:index:<ClassName>``, as a multi-language host expects."""

SERVER_GROUP_POLICY = "soft-anti-affinity"
"""Spread nodes across hypervisors where possible without failing when there are too few."""

REQUIRED_CLASS_ATTRIBUTES = ("provides", "label_model", "api_port", "driver_version")
"""Class attributes every driver must define."""


class CoeCluster(pulumi.ComponentResource, abc.ABC):
    """A container orchestration cluster on OpenStack, built by one COE driver."""

    provides: ClassVar[DriverProvides]
    """What the driver builds (coe, os, server_type): how it is found without being named."""

    label_model: ClassVar[type[BaseModel]]
    """The driver's template definition: a pydantic model of its labels (extra fields
    forbidden, so an unknown label is an error)."""

    api_port: ClassVar[int]
    """TCP port of the COE's API on the masters (and on the load balancer)."""

    driver_version: ClassVar[str]
    """The driver's own version."""

    # ----------------------------------------------------------------- the contract (abstract)

    @classmethod
    @abc.abstractmethod
    def coe_version(cls, labels: BaseModel) -> str:
        """The COE version the labels select (e.g. ``v1.36.4``), for list-detailed output."""

    @abc.abstractmethod
    def security_rules(self) -> list[SecurityRule]:
        """Ingress rules per role that the COE needs; SSH and ICMP come from the base."""

    @abc.abstractmethod
    def bootstrap(self, node: NodeContext) -> BootstrapPayload:
        """The payload that turns a booted server of ``node.role`` into a cluster member."""

    @abc.abstractmethod
    def removal_step(self, node: NodeContext) -> RemovalStep:
        """The scale manager: how ``node`` leaves the COE (drain, leave etcd or Raft) before
        its server is deleted. Used when the cluster sets ``drainOnDelete``."""

    @abc.abstractmethod
    def extension_outputs(self) -> dict[str, pulumi.Input[Any]]:
        """COE-specific outputs (a kubeconfig, a Docker TLS bundle); secrets must be secret."""

    @classmethod
    @abc.abstractmethod
    def probe_members(cls, client: ApiReader) -> ProbeResult:
        """The bay's *get*: every member the COE lists, ready or not and why, and
        cluster-wide problems, read through the COE's own API. The base matches members to
        the declared nodes by name; the readiness gate and ``coe status`` both call this."""

    @classmethod
    @abc.abstractmethod
    def client_credentials(cls, outputs: Mapping[str, Any]) -> TlsCredentials:
        """The API client's TLS credentials, read from the cluster's own outputs (what
        :meth:`detail` returns, values resolved): the gate and ``coe status`` share them."""

    # ----------------------------------------------------------- optional hooks (no-op default)

    @classmethod
    def check_labels(cls, labels: BaseModel, spec: ClusterSpec) -> list[tuple[str, str]]:
        """Rules across labels and the spec, as ``(label, rule)`` pairs; none by default."""
        del labels, spec
        return []

    @classmethod
    def check_spec(cls, spec: ClusterSpec) -> list[tuple[tuple[str | int, ...], str]]:
        """Rules on the cluster's own fields that only this driver has, as ``(path, rule)``
        pairs where ``path`` is relative to the cluster (``("nodeGroups", 0, "taints")``);
        none by default. For settings a driver cannot honour, so none is silently ignored."""
        del spec
        return []

    @classmethod
    def release_labels(cls, labels: BaseModel) -> dict[str, Any]:
        """Every label that chooses a release (a COE, CNI, runtime or add-on version), with the
        value it resolves to under these labels and this driver's current defaults; none by
        default. A cluster records them when it is created and keeps them (see
        :mod:`coe_provider.cluster.releases`): a newer driver's defaults reach new clusters only."""
        del labels
        return {}

    @classmethod
    def release_dependents(cls) -> dict[str, tuple[str, ...]]:
        """Release labels that follow another one (a chart version follows the release it
        ships): when the label is set explicitly, its dependents are resolved anew rather
        than kept from the record. None by default."""
        return {}

    @classmethod
    def first_release_labels(cls, labels: BaseModel,
                             coe_version: str | None = None) -> dict[str, Any]:
        """What the code that kept no record (0.1.0, and main up to 0.2.0) resolved
        :meth:`release_labels` to for these labels, for a cluster that exported
        ``coe_version``: a running cluster found without a record keeps these. By default the
        current resolution (for a driver that changed no default since)."""
        del coe_version
        return cls.release_labels(labels)

    @classmethod
    def settle_labels(cls, labels: BaseModel, spec: ClusterSpec, running: bool) -> BaseModel:
        """Labels whose unset value depends on the spec or on whether the cluster runs already
        (``running``: the previous outputs name it), settled after the kept record is applied
        and before :meth:`release_labels` records them; unchanged by default."""
        del spec, running
        return labels

    @classmethod
    def fetched_artifacts(cls, labels: BaseModel, spec: ClusterSpec) -> Artifacts:
        """Everything the cluster's nodes and releases fetch (``coe images``), for settled
        ``labels``: by default the distribution's archives (or their ``apt_mirror``). A driver
        that runs images, installs charts or downloads files adds them, and raises
        :class:`~coe_provider.cluster.artifacts.ArtifactError` for one it cannot name."""
        del spec
        return Artifacts(package_repositories=distribution_repositories(labels, cls.provides.os))

    @classmethod
    def label_warnings(cls, labels: BaseModel) -> list[tuple[str, str]]:
        """Accepted labels worth a warning (a release out of upstream support, a pin outside a
        support matrix), as ``(label,
        message)`` pairs; none by default. Shown by ``coe validate`` (``--strict`` fails on
        them) and in the log of ``pulumi preview`` and ``pulumi up``."""
        del labels
        return []

    def prepare(self) -> None:
        """Create cluster-wide resources the bootstrap needs (keys, tokens); none by default.

        Runs after the load balancer and before any server, so API addresses are known.
        """

    def cloud_resources(self) -> bool:
        """Whether software in the cluster creates OpenStack objects Pulumi does not register
        (a cloud controller manager's load balancers, CSI volumes); none by default.

        True makes the base draw the cluster's cloud resource tag (``self.cloud_resource_tag``,
        for the driver to hand to that software) and add the cleanup that deletes the objects
        carrying it after the servers and before the network (:mod:`coe_provider.cleanup`).
        """
        return False

    def installs_addons(self) -> bool:
        """Whether the program installs add-ons once the API answers (:meth:`program_addons`);
        then the readiness gate has two stages. None by default."""
        return False

    def program_addons(self, api_ready: pulumi.Resource) -> ProgramAddons:
        """The add-ons the program installs after ``api_ready`` (the first readiness stage:
        the API answers), with :meth:`installs_addons`; none by default."""
        del api_ready
        return ProgramAddons(resources=[])

    def api_url(self, host: pulumi.Input[str]) -> pulumi.Output[str]:
        """The URL clients use for the API at ``host``."""
        return pulumi.Output.concat("https://", host, ":", str(self.api_port))

    # ------------------------------------------------------------------------ class machinery

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        # ABCMeta fills __abstractmethods__ only after __init_subclass__, so look ourselves.
        missing = sorted(
            name for name in dir(cls)
            if getattr(getattr(cls, name, None), "__isabstractmethod__", False)
        )
        missing += [name for name in REQUIRED_CLASS_ATTRIBUTES if not hasattr(cls, name)]
        if missing:
            raise TypeError(
                f"COE driver {cls.__module__}.{cls.__qualname__} does not implement the "
                f"required hook(s): {', '.join(missing)} (see coe_provider.cluster.base.CoeCluster)"
            )

    @classmethod
    def driver_name(cls) -> str:
        """The driver's name: the directory its class lives in."""
        return driver_directory(cls)

    @classmethod
    def type_token(cls) -> str:
        """The component's Pulumi type token."""
        return f"{TYPE_PREFIX}{cls.__name__}"

    # ----------------------------------------------------------------------------- building

    def __init__(
        self,
        name: str,
        spec: ClusterSpec | Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        base_dir: Path | None = None,
        resolved: ResolvedCluster | None = None,
    ) -> None:
        """Validate ``spec`` (nothing is registered when it is invalid), then build the cluster.

        ``spec`` is a :class:`ClusterSpec` or its camelCase mapping; ``base_dir`` resolves a
        ``templateFile``; ``resolved`` skips re-validation when the caller already checked.
        """
        if resolved is None:
            resolved = self._validate(name, spec, base_dir or Path.cwd())
        # The running cluster's checks (quorum) refuse before anything registers, the
        # cluster's own provider included.
        labels = self._keep_running_cluster(name, resolved)
        opts, openstack_settings = cluster_provider(name, resolved.spec.openstack, opts)
        super().__init__(self.type_token(), name, None, opts)
        self.openstack_settings = openstack_settings
        """The OpenStack cloud, region and settings of the cluster's provider, for the gate
        and the cleanup."""
        self.cluster_name: str = name
        """The cluster's name, prefix of every resource name."""
        self.spec: ClusterSpec = resolved.spec
        """The validated spec."""
        self.labels: BaseModel = labels
        """The driver's typed labels, with the releases a running cluster keeps."""
        self.proxy = ProxySettings(
            http_proxy=self.spec.template.http_proxy,
            https_proxy=self.spec.template.https_proxy,
            no_proxy=self._no_proxy(),
        )
        """Proxy settings handed to every bootstrap."""
        self._build()

    def _keep_running_cluster(self, name: str, resolved: ResolvedCluster) -> BaseModel:
        """Read what the stack's previous outputs say about this cluster: refuse to remove
        running masters without drainOnDelete, and keep the releases it was built with (labels
        set explicitly win). Sets the release record and ``coeVersion``; logs label warnings."""
        previous = previous_cluster(previous_stack_outputs(), name, self.driver_name())
        issues = quorum_issues(previous, name, resolved.spec, name)
        if issues:
            raise SpecError(issues)
        labels = resolved.labels
        kept = kept_releases(previous, self.first_release_labels(
            labels, str(previous["coeVersion"]) if previous else None))
        if kept is not None:
            explicit = labels.model_fields_set
            # A release set explicitly brings its own dependents (a chart version follows
            # the release it ships), not the kept ones.
            followed = {dependent for label in explicit
                        for dependent in self.release_dependents().get(label, ())}
            labels = labels.model_copy(update={
                label: value for label, value in kept.items()
                if label in type(labels).model_fields and label not in explicit
                and label not in followed})
        labels = self.settle_labels(labels, resolved.spec, running=previous is not None)
        self.release_record: dict[str, Any] = self.release_labels(labels)
        """The release labels this cluster's nodes install (output ``releases``)."""
        self.coe_version_string: str = (str(previous["coeVersion"]) if previous
                                        else self.coe_version(labels))
        """What the control plane runs: the COE version the cluster was created with."""
        for label, message in self.label_warnings(labels):
            pulumi.log.warn(f"{join_path(name, 'labels', label)}: {message}")
        return labels

    @classmethod
    def _validate(cls, name: str, spec: ClusterSpec | Mapping[str, Any],
                  base_dir: Path) -> ResolvedCluster:
        info = DriverInfo(name=cls.driver_name(), cls=cls)
        named = spec.driver if isinstance(spec, ClusterSpec) else (
            spec.get("driver") if isinstance(spec, Mapping) else None)
        if named and named != info.name:
            raise SpecError.single(
                f"{name}.driver",
                f"names driver {named!r} but the cluster is built with {info.name!r}",
            )
        if isinstance(spec, ClusterSpec):
            return check_cluster(name, spec, name, driver=info)
        return resolve_cluster(name, spec, name, base_dir, driver=info)

    @property
    def mirrors(self) -> MirrorLabels | None:
        """The mirror labels, when the driver's label model has them (both in-tree drivers)."""
        return self.labels if isinstance(self.labels, MirrorLabels) else None

    def _no_proxy(self) -> str | None:
        template = self.spec.template
        if not (template.http_proxy or template.https_proxy):
            return template.no_proxy
        # Cluster traffic must never go through the proxy.
        entries = [template.no_proxy] if template.no_proxy else []
        entries += ["localhost", "127.0.0.1", template.subnet_cidr, ".svc", ".cluster.local"]
        if self.mirrors and self.mirrors.mirrors_bypass_proxy:
            listed = ",".join(entries).split(",")
            entries += [host for host in self.mirrors.mirror_hosts() if host not in listed]
        return ",".join(entries)

    def _build(self) -> None:
        template = self.spec.template
        self.network = cluster_network(self.cluster_name, template, self)
        """Where the cluster's ports live."""
        self.security_groups = create_security_groups(
            self.cluster_name, template, self.network.cidr,
            self._base_rules() + self.security_rules(), self,
            with_bastion=bool(template.bastion),
        )
        """Security group per role."""
        self._build_cleanup()
        self.ssh_key = ssh_key(f"{self.cluster_name}-ssh", self)
        """The cluster's own SSH key: authorised for the ``coe`` user on every node."""
        self.bastion: Bastion | None = create_bastion(
            self.cluster_name, template, self.network, self.security_groups.ids("bastion")[0],
            render_bastion_cloud_config(self.ssh_key.public_key_openssh), self,
        ) if template.bastion else None
        """The bastion, when the template asks for one."""
        self._ssh_path = SshPath(
            private_key=pulumi.Output.secret(self.ssh_key.private_key_openssh),
            bastion_host=self.bastion.address if self.bastion else None)
        self._images = ImageResolver(self)
        self._servers: list[openstack.compute.Instance] = []
        self.expected_nodes: list[ExpectedNode] = []
        """Every node the spec declares, masters first, in the order they are built."""
        master_indices = live_indices(self.spec.master_count)
        master_names = [node_name(self.cluster_name, MASTER_GROUP, i) for i in master_indices]
        master_ports = [
            create_port(n, self.network, self.security_groups.ids("master"),
                        self.cluster_name, self)
            for n in master_names
        ]
        master_addresses = [port_address(port) for port in master_ports]
        self.master_addresses_by_index: list[pulumi.Output[str]] = master_addresses
        """Fixed IP of each master, in index order."""
        self.master_names_by_index: list[str] = master_names
        """Name of each master, in index order (as :attr:`master_addresses_by_index`)."""
        self.master_floating_addresses: list[pulumi.Output[str]] = [
            create_floating_ip(n, template.external_network, port, self)
            for n, port in zip(master_names, master_ports, strict=True)
        ] if template.floating_ip_enabled and template.external_network else []
        """Public addresses of the masters, when nodes get floating IPs."""
        self._build_endpoint(master_names, master_addresses)
        self.network_mtu: pulumi.Output[int | None] = network_mtu(
            template.network_mtu, self.network.mtu)
        """The MTU the nodes size overlay and pod networks by: the template's ``networkMtu``,
        else the Neutron network's; ``None`` when neither is known."""
        # The nodes' cloud-configs render a window at a time, as their servers register, not
        # all at once when the API's address resolves (see coe_provider/cluster/pacing.py).
        self._render_window = RegistrationWindow()
        self._cloud_configs = CloudConfigRenderer(
            self.api_internal_host, self.api_port, self.proxy, self.ssh_key.public_key_openssh,
            network_mtu=self.network_mtu, window=self._render_window, sources=source_entries(
                self.mirrors.apt_cloud_config() if self.mirrors else None,
                template.trusted_ca_bundle))
        self.prepare()
        master_group = create_server_group(
            f"{self.cluster_name}-{MASTER_GROUP}", SERVER_GROUP_POLICY, self)
        self._first_master: openstack.compute.Instance | None = None
        self._first_removal: pulumi.Resource | None = None
        for position, (index, port, address) in enumerate(
                zip(master_indices, master_ports, master_addresses, strict=True)):
            floating = (self.master_floating_addresses[position]
                        if self.master_floating_addresses else None)
            self._build_node(
                role="master", group=MASTER_GROUP, index=index, port=port, address=address,
                first_master=position == 0, server_group_id=master_group, node_group=None,
                floating=floating,
            )
        self.master_addresses: pulumi.Output[list[str]] = pulumi.Output.all(*master_addresses)
        """Fixed IPs of the masters, by index."""
        node_addresses: dict[str, pulumi.Output[list[str]]] = {}
        for group in self.spec.node_groups:
            node_addresses[group.name] = self._build_node_group(group)
        self.node_addresses: pulumi.Output[dict[str, list[str]]] = pulumi.Output.all(
            **node_addresses) if node_addresses else pulumi.Output.from_input({})
        """Fixed IPs of the workers, per node group."""
        self.coe: str = self.provides.coe
        """The orchestration engine."""
        self.extensions: dict[str, pulumi.Input[Any]] = {
            **self.extension_outputs(), **self._access_outputs(), **self._cleanup_outputs}
        """The driver's extension outputs, and the SSH access outputs."""
        self.api_gate: ReadinessGate | None = None
        """The first readiness stage, when the program installs add-ons: the API answers."""
        self.addons = ProgramAddons(resources=[])
        """What the program installs once the API answers."""
        if self.spec.wait_for_ready and self.installs_addons():
            self.api_gate = self._build_readiness_gate(stage=API_STAGE)
            self.addons = self.program_addons(self.api_gate)
        self.readiness_gate: ReadinessGate | None = (
            self._build_readiness_gate() if self.spec.wait_for_ready else None)
        """The resource that waits until every declared node is ready (``waitForReady``), and
        the add-ons' workloads."""
        self.register_outputs({
            "apiAddress": self.api_address,
            "masterAddresses": self.master_addresses,
            "nodeAddresses": self.node_addresses,
            "coe": self.coe,
            "coeVersion": self.coe_version_string,
            RECORD_KEY: self.release_record,
            "nodeGroups": self.node_group_summary(),
            "nodes": self.node_list(),
            "apiInternalHost": self.api_internal_host,
            **self.extensions,
        })

    def _build_readiness_gate(self, stage: str | None = None) -> ReadinessGate:
        """After every server (and the bastion it tunnels through), wait for the COE to
        report every declared node ready, through the API with the cluster's own
        credentials; ``stage`` :data:`API_STAGE`: only for the API to answer. The final stage
        comes after the program's add-ons and waits for their workloads too."""
        route = api_route(self.spec.template)
        tunnelled = route is ApiRoute.BASTION and self.bastion is not None
        credentials = pulumi.Output.from_input(self.extensions).apply(
            lambda outputs: self.client_credentials(outputs).to_dict())
        inputs = gate_inputs(
            cluster=self.cluster_name, driver=self.driver_name(),
            api_host=self.api_internal_host if tunnelled else self.api_external_host,
            api_port=self.api_port, credentials=credentials,
            # The first stage watches the first master only (its console tells a bootstrap
            # that stopped): scaling the workers leaves it alone.
            expected=self.expected_nodes[:1] if stage else self.expected_nodes,
            server_ids=[server.id for server in (self._servers[:1] if stage else self._servers)],
            bastion_host=self.bastion.address if tunnelled and self.bastion else None,
            ssh_user=SSH_USER, ssh_private_key=self._ssh_path.private_key,
            openstack=self.openstack_settings, stage=stage,
            workloads=() if stage else self.addons.workloads)
        depends_on: list[pulumi.Resource] = list(self._servers)
        if tunnelled and self.bastion is not None:
            depends_on.append(self.bastion.server)
        if stage is None:
            depends_on += self.addons.resources
        name = f"{self.cluster_name}-{'api-ready' if stage == API_STAGE else 'ready'}"
        return ReadinessGate(name, inputs, self.spec.ready_timeout,
                             pulumi.ResourceOptions(parent=self, depends_on=depends_on))

    def _build_cleanup(self) -> None:
        """With :meth:`cloud_resources`, the cloud resource tag and the cleanup command that
        every server depends on (so the engine deletes the servers first)."""
        self.cloud_resource_tag: pulumi.Output[str] | None = None
        """The identity of the cluster's cloud objects (None without cloud resources)."""
        self._server_dependencies: list[pulumi.Resource] = list(self.network.ready)
        self._cleanup_outputs: dict[str, pulumi.Input[Any]] = {}
        if not self.cloud_resources():
            return
        self.cloud_resource_tag = cloud_resource_tag(self.cluster_name, self)
        environment = cleanup_environment(self.cluster_name, self.cloud_resource_tag,
                                          self.network, self.spec.retain_volumes_on_delete,
                                          self.openstack_settings)
        network_parts = [*self.network.ready, *self.security_groups.by_role.values()]
        self._server_dependencies += [
            create_retired_command(self.cluster_name, environment, network_parts, self),
            create_cleanup(self.cluster_name, environment, self.openstack_settings,
                           network_parts, self)]
        self._cleanup_outputs = {
            TAG_OUTPUT_KEY: self.cloud_resource_tag,
            CLEANUP_OUTPUT: cleanup_output(environment),
        }

    def _access_outputs(self) -> dict[str, pulumi.Input[Any]]:
        """The cluster's SSH private key (a secret) and the bastion's address."""
        outputs: dict[str, pulumi.Input[Any]] = {
            "sshPrivateKey": pulumi.Output.secret(self.ssh_key.private_key_openssh),
            "sshUser": SSH_USER,
        }
        if self.bastion is not None:
            outputs["bastionAddress"] = self.bastion.address
        return outputs

    def _base_rules(self) -> list[SecurityRule]:
        """Rules every COE shares: ping inside the cluster; SSH from the bastion if there is
        one, else from the explicit CIDR list."""
        rules = [
            SecurityRule(role, "icmp", None, None, CLUSTER_SOURCES, "ping inside the cluster")
            for role in ("master", "worker")
        ]
        template = self.spec.template
        ssh_source = Source.BASTION if template.bastion else Source.SSH_CLIENTS
        if template.bastion or template.ssh_allowed_cidrs:
            rules += [
                SecurityRule(role, "tcp", 22, 22, (ssh_source,), "SSH from operators")
                for role in ("master", "worker")
            ]
        if template.bastion:
            rules.append(SecurityRule("bastion", "tcp", 22, 22, (Source.SSH_CLIENTS,),
                                      "SSH to the bastion"))
        return rules

    def _build_endpoint(self, master_names: list[str],
                        master_addresses: list[pulumi.Output[str]]) -> None:
        template = self.spec.template
        fip_wanted = load_balancer_floating_ip_wanted(template)
        if template.master_lb_enabled:
            balancer = create_api_load_balancer(
                self.cluster_name, self.api_port, self.network.network_id, self.network.subnet_id,
                list(zip(master_names, master_addresses, strict=True)),
                template.api_allowed_cidrs,
                # A managed subnet's CIDR is the template's; an existing one is looked up.
                self.network.cidr if template.fixed_network else template.subnet_cidr,
                template.external_network if fip_wanted else None, self,
            )
            internal = balancer.vip_address
            external = balancer.floating_address or balancer.vip_address
            extra = [balancer.vip_address] + (
                [balancer.floating_address] if balancer.floating_address is not None else [])
        else:
            internal = master_addresses[0]
            floating = self.master_floating_addresses
            external = floating[0] if floating else master_addresses[0]
            extra = floating[:1]
        self.api_internal_host: pulumi.Output[str] = internal
        """Address nodes use to reach the API from inside the cluster network."""
        self.api_external_host: pulumi.Output[str] = external
        """Address clients use to reach the API."""
        self.api_hosts: list[pulumi.Output[str]] = extra + list(master_addresses)
        """Every address the API answers on (for server certificates)."""

    def _node_context(self, role: Role, group: str, index: int, address: pulumi.Output[str],
                      first_master: bool, etcd_volume_id: pulumi.Output[str] | None,
                      node_group: NodeGroupSpec | None) -> NodeContext:
        return NodeContext(
            cluster=self.cluster_name, role=role, group=group, index=index,
            name=node_name(self.cluster_name, group, index), first_master=first_master,
            address=address, etcd_volume_id=etcd_volume_id,
            data_volume_gib=self.spec.template.docker_volume_size,
            labels=dict(node_group.labels) if node_group else {},
            taints=tuple(node_group.taints) if node_group else (),
        )

    def _build_node(self, role: Role, group: str, index: int, port: Any,
                    address: pulumi.Output[str], first_master: bool,
                    server_group_id: pulumi.Output[str], node_group: NodeGroupSpec | None,
                    floating: pulumi.Output[str] | None) -> None:
        """One server with its state volume and, with drainOnDelete, its removal command."""
        template = self.spec.template
        name = node_name(self.cluster_name, group, index)
        zone = node_group.availability_zone if node_group else (
            template.master_availability_zone)
        retain = self.spec.retain_volumes_on_delete
        state_volume = None
        if role == "master" and template.etcd_volume_size:
            state_volume = create_state_volume(
                f"{name}-etcd", template.etcd_volume_size, template.volume_type, zone,
                retain=retain, parent=self)
        node = self._node_context(role, group, index, address, first_master,
                                  state_volume.id if state_volume else None, node_group)
        user_data = self._cloud_configs.render(node, self.bootstrap(node))
        flavor = self.spec.master_flavor if role == "master" else (
            (node_group.flavor if node_group else None) or template.flavor)
        server = ServerSpec(
            name=name, flavor=flavor,
            image=(node_group.image if node_group else None) or template.image,
            metadata={"coe_cluster": self.cluster_name, "coe_role": role,
                      "coe_group": group, "coe_index": str(index)},
            availability_zone=zone, key_pair=template.keypair,
            boot_volume_size=template.boot_volume_size,
            data_volume_size=template.docker_volume_size, volume_type=template.volume_type,
        )
        replace = index in (node_group.replace if node_group else self.spec.master_replace)
        instance = create_server(
            server, port, user_data, server_group_id, self._images, state_volume,
            retain_volumes=retain, depends_on=self._server_dependencies, parent=self,
            policy=ReplacementPolicy.RECREATE if replace else ReplacementPolicy.KEEP)
        self._render_window.leave_after(name, instance)
        if first_master:
            self._first_master = instance
        self._servers.append(instance)
        self.expected_nodes.append(ExpectedNode(name=name, role=role, group=group))
        if role == "worker" and template.floating_ip_enabled and template.external_network:
            floating = create_floating_ip(name, template.external_network, port, self)
        if self.spec.drain_on_delete:
            self._removal_command(node, instance, address, floating)

    def _removal_command(self, node: NodeContext, instance: openstack.compute.Instance,
                         address: pulumi.Output[str], floating: pulumi.Output[str] | None) -> None:
        """Wire the driver's removal step so it runs before the node's server is deleted."""
        step = self.removal_step(node)
        depends_on: list[pulumi.Resource] = [instance]
        if self.bastion is not None:
            depends_on.append(self.bastion.server)
        if self._first_removal is not None:
            # On a destroy, the first master leaves last: every other removal runs through it
            # or needs the quorum it anchors.
            depends_on.append(self._first_removal)
        if step.run_on == "first_master":
            assert self._first_master is not None
            if self._first_master is not instance:
                depends_on.append(self._first_master)
            target = (self.master_addresses_by_index[0] if self.bastion
                      else self.master_floating_addresses[0])
        else:
            target = address if self.bastion or floating is None else floating
        removal = create_removal_command(node.name, step, self.spec.drain_timeout, target,
                                         self._ssh_path, depends_on, self)
        if node.first_master:
            self._first_removal = removal

    def _build_node_group(self, group: NodeGroupSpec) -> pulumi.Output[list[str]]:
        server_group = create_server_group(
            f"{self.cluster_name}-{group.name}", SERVER_GROUP_POLICY, self)
        addresses = []
        for index in live_indices(group.count, group.remove):
            name = node_name(self.cluster_name, group.name, index)
            port = create_port(name, self.network, self.security_groups.ids("worker"),
                               self.cluster_name, self)
            address = port_address(port)
            self._build_node("worker", group.name, index, port, address, False,
                             server_group, group, None)
            addresses.append(address)
        return pulumi.Output.all(*addresses)

    # -------------------------------------------------------------------- the bay interface

    @property
    def api_address(self) -> pulumi.Output[str]:
        """The API URL clients use."""
        return self.api_url(self.api_external_host)

    def node_group_summary(self) -> list[dict[str, Any]]:
        """Name, count, min, max, flavor and image of every node group (masters first)."""
        template = self.spec.template
        groups = [{"name": MASTER_GROUP, "role": "master", "count": self.spec.master_count,
                   "minCount": 1, "maxCount": self.spec.master_count,
                   "flavor": self.spec.master_flavor, "image": template.image}]
        groups += [
            {"name": g.name, "role": "worker", "count": g.count, "minCount": g.min_count,
             "maxCount": g.max_count, "flavor": g.flavor or template.flavor,
             "image": g.image or template.image}
            for g in self.spec.node_groups
        ]
        return groups

    def node_list(self) -> list[dict[str, Any]]:
        """Every declared node (name, role, group): what the COE should list as members; with
        its server's ID (``coe status --consoles`` reads that server's console log)."""
        return [{**node.to_dict(), "serverId": server.id}
                for node, server in zip(self.expected_nodes, self._servers, strict=True)]

    def summary(self) -> pulumi.Output[dict[str, Any]]:
        """One line of Magnum's List call."""
        return pulumi.Output.all(api=self.api_address).apply(lambda v: {
            "name": self.cluster_name,
            "driver": self.driver_name(),
            "coe": self.coe,
            "coeVersion": self.coe_version_string,
            RECORD_KEY: self.release_record,
            "masterCount": self.spec.master_count,
            "nodeCount": sum(g.count for g in self.spec.node_groups),
            "apiAddress": v["api"],
        })

    def detail(self) -> dict[str, Any]:
        """Magnum's List detailed fields plus the driver's extension outputs.

        A mapping of outputs rather than one output, so a secret extension (a kubeconfig)
        keeps only itself secret, not the addresses beside it.
        """
        return {
            "name": self.cluster_name,
            "driver": self.driver_name(),
            "coe": self.coe,
            "coeVersion": self.coe_version_string,
            RECORD_KEY: self.release_record,
            "apiAddress": self.api_address,
            "masterAddresses": self.master_addresses,
            "nodeAddresses": self.node_addresses,
            "nodeGroups": self.node_group_summary(),
            "nodes": self.node_list(),
            "apiInternalHost": self.api_internal_host,
            **self.extensions,
        }
