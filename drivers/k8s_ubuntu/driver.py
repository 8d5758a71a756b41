"""k8s_ubuntu: Kubernetes with kubeadm on Ubuntu cloud images, HA control plane."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import pulumi
import pulumi_openstack as openstack
import pulumi_random as random
from pydantic import BaseModel

from coe_provider.cluster import driverfiles
from coe_provider.cluster.artifacts import Artifacts
from coe_provider.cluster.base import CoeCluster
from coe_provider.cluster.contract import (
    CLUSTER_SOURCES,
    BootstrapFile,
    BootstrapPayload,
    DriverProvides,
    NodeContext,
    ProgramAddons,
    RemovalStep,
    SecurityRule,
    Source,
)
from coe_provider.cluster.network import external_network_id
from coe_provider.cluster.pki import (
    KeyPair,
    certificate_authority,
    issue_certificate,
    private_key,
    public_key_sha256,
)
from coe_provider.health.https import ApiReader
from coe_provider.health.report import ProbeResult
from coe_provider.health.target import TlsCredentials
from coe_provider.openstack.auth import keystone_url, missing_url_rule, region_name
from coe_provider.spec.k8ssyntax import (
    kubelet_label_problem,
    label_key_problem,
    label_value_problem,
)
from coe_provider.spec.models import ClusterSpec

from . import health
from .addon_resources import install_addons
from .bootpath import boot_manifest_urls
from .fetches import fetched_artifacts
from .images import prefix_problems, sandbox_reference
from .kubeadm import JoinSecrets, init_configuration, join_configuration
from .kubeconfig import admin_credentials, admin_kubeconfig
from .labels import (
    CONTAINERD_FROM_UBUNTU,
    KubernetesLabels,
    addons_path,
    boot_path_problems,
    chart_problems,
    containerd_matrix_warning,
    kube_tag_warning,
    overlapping_networks,
    unrecorded_releases,
)
from .registries import CERTS_DIR, hosts_files

API_PORT = 6443
"""kube-apiserver's port."""

PKI_DIR = "/etc/kubernetes/pki"
"""Where kubeadm expects the cluster's CA material."""

CNI_RULES: dict[str, list[tuple[str, int | None, int | None, str]]] = {
    "calico": [("tcp", 179, 179, "Calico BGP"), ("4", None, None, "Calico IP-in-IP")],
    "flannel": [("udp", 8472, 8472, "flannel VXLAN")],
}
"""Ports each pod network needs between nodes."""


class KubernetesUbuntuCluster(CoeCluster):
    """A Kubernetes cluster formed by kubeadm, with no manual step and no SSH."""

    provides: ClassVar[DriverProvides] = DriverProvides(coe="kubernetes", os="ubuntu")
    label_model: ClassVar[type[BaseModel]] = KubernetesLabels
    api_port: ClassVar[int] = API_PORT
    driver_version: ClassVar[str] = driverfiles.driver_version(__package__)
    """The driver's own version (its VERSION file)."""

    @classmethod
    def coe_version(cls, labels: BaseModel) -> str:
        assert isinstance(labels, KubernetesLabels)
        return labels.kube_tag

    @classmethod
    def release_labels(cls, labels: BaseModel) -> dict[str, Any]:
        """Kubernetes, the CNI, cloud-provider-openstack (with Cinder CSI) and containerd."""
        assert isinstance(labels, KubernetesLabels)
        record: dict[str, Any] = {
            "kube_tag": labels.kube_tag, "cni_version": labels.resolved_cni_version,
            "cloud_provider_tag": labels.resolved_cloud_provider_tag,
            "containerd_version": labels.resolved_containerd_version}
        if labels.addons_path is None:
            return record
        # The add-ons' path, and on the program's path the charts (issue 26): a running
        # cluster keeps them, so a newer table reaches new clusters only.
        record["addons_path"] = labels.addons_path
        if labels.addons_from_program:
            record.update({
                "cni_chart_version": labels.resolved_cni_chart_version,
                "cloud_provider_chart_version": labels.resolved_cloud_provider_chart_version,
                "cinder_csi_chart_version": labels.resolved_cinder_csi_chart_version,
                "cinder_csi_plugin_tag": labels.resolved_cinder_csi_plugin_tag})
        return record

    @classmethod
    def release_dependents(cls) -> dict[str, tuple[str, ...]]:
        """Chart versions (and the CSI image) follow the release label they ship."""
        return {"cni_version": ("cni_chart_version",),
                "cloud_provider_tag": ("cloud_provider_chart_version",
                                       "cinder_csi_chart_version", "cinder_csi_plugin_tag")}

    @classmethod
    def first_release_labels(cls, labels: BaseModel,
                             coe_version: str | None = None) -> dict[str, Any]:
        """The table of the release that built a cluster exporting ``coe_version``
        (:func:`unrecorded_releases`), its CNI version for these labels' CNI."""
        assert isinstance(labels, KubernetesLabels)
        table = unrecorded_releases(coe_version)
        cni_versions = table["cni_version"]
        assert isinstance(cni_versions, dict)
        return {**table, "cni_version": cni_versions[labels.cni]}

    @classmethod
    def settle_labels(cls, labels: BaseModel, spec: ClusterSpec, running: bool) -> BaseModel:
        """``addons_path``: kept, set, or settled by :func:`.labels.addons_path`."""
        assert isinstance(labels, KubernetesLabels)
        return labels.model_copy(update={"addons_path": addons_path(labels, spec, running)})

    @classmethod
    def fetched_artifacts(cls, labels: BaseModel, spec: ClusterSpec) -> Artifacts:
        """The distribution's archives and pkgs.k8s.io (or their mirrors), containerd's
        tarball, the add-ons' charts (or the boot-time path's manifests) and every image."""
        assert isinstance(labels, KubernetesLabels)
        return fetched_artifacts(labels, super().fetched_artifacts(labels, spec))

    @classmethod
    def label_warnings(cls, labels: BaseModel) -> list[tuple[str, str]]:
        assert isinstance(labels, KubernetesLabels)
        warnings = [("kube_tag", kube_tag_warning(labels.kube_tag)),
                    ("containerd_version", containerd_matrix_warning(
                        labels.kube_minor, labels.resolved_containerd_version))]
        return [(label, warning) for label, warning in warnings if warning]

    @classmethod
    def check_labels(cls, labels: BaseModel, spec: ClusterSpec) -> list[tuple[str, str]]:
        assert isinstance(labels, KubernetesLabels)
        problems = (overlapping_networks(labels, spec) + chart_problems(labels, spec)
                    + boot_path_problems(labels, spec) + prefix_problems(labels, spec))
        if labels.cloud_provider_enabled and not keystone_url(labels.openstack_auth_url,
                                                              spec.openstack):
            problems.append(("openstack_auth_url",
                             missing_url_rule("cloud_provider_enabled", spec.openstack)))
        return problems

    @classmethod
    def check_spec(cls, spec: ClusterSpec) -> list[tuple[tuple[str | int, ...], str]]:
        """Node-group labels become kubelet's --node-labels: Kubernetes' label syntax, and
        only the reserved labels a kubelet may set on itself."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for position, group in enumerate(spec.node_groups):
            for key, value in group.labels.items():
                problem = (label_key_problem(key) or label_value_problem(value)
                           or kubelet_label_problem(key))
                if problem:
                    problems.append((("nodeGroups", position, "labels", key), problem))
        return problems

    def cloud_resources(self) -> bool:
        """The cloud controller manager makes balancers, Cinder CSI makes volumes."""
        return self.k8s.cloud_provider_enabled

    @property
    def k8s(self) -> KubernetesLabels:
        """The typed labels."""
        assert isinstance(self.labels, KubernetesLabels)
        return self.labels

    def installs_addons(self) -> bool:
        """The add-ons are Helm releases of the program (``addons_path: program``)."""
        return self.k8s.addons_from_program

    def program_addons(self, api_ready: pulumi.Resource) -> ProgramAddons:
        """The CNI, cloud controller manager and Cinder CSI releases, through the cluster's
        own Kubernetes provider, once the API answers (:mod:`.addon_resources`)."""
        return install_addons(
            self.cluster_name, self.k8s, self.extensions["kubeconfig"], self.cloud_config,
            self.network_mtu, self.cloud_resource_tag, api_ready, self)

    def security_rules(self) -> list[SecurityRule]:
        rules = [
            SecurityRule("master", "tcp", API_PORT, API_PORT,
                         (Source.API_CLIENTS, Source.SUBNET, *CLUSTER_SOURCES), "Kubernetes API"),
            SecurityRule("master", "tcp", 2379, 2380, (Source.MASTERS,), "etcd peers and clients"),
        ]
        rules += [
            SecurityRule(role, "tcp", 10250, 10250, CLUSTER_SOURCES, "kubelet API")
            for role in ("master", "worker")
        ]
        rules.append(SecurityRule("worker", "tcp", 30000, 32767,
                                  (Source.SUBNET, *CLUSTER_SOURCES), "NodePort services"))
        for protocol, low, high, what in CNI_RULES[self.k8s.cni]:
            rules += [SecurityRule(role, protocol, low, high, CLUSTER_SOURCES, what)
                      for role in ("master", "worker")]
        return rules

    def prepare(self) -> None:
        """CA material, join secrets, the admin client certificate and the cloud credential."""
        name = self.cluster_name
        self.cluster_ca: KeyPair = certificate_authority(f"{name}-ca", "kubernetes", self)
        """Signs the API server, kubelets and clients."""
        self.front_proxy_ca: KeyPair = certificate_authority(
            f"{name}-front-proxy-ca", "front-proxy-ca", self)
        """Signs the aggregation layer's client."""
        self.etcd_ca: KeyPair = certificate_authority(f"{name}-etcd-ca", "etcd-ca", self)
        """Signs etcd's peers and clients."""
        self.service_account_key = private_key(f"{name}-sa", self)
        """Signs service account tokens."""
        token_id = random.RandomString(f"{name}-token-id", length=6, upper=False, special=False,
                                       opts=pulumi.ResourceOptions(parent=self))
        token_secret = random.RandomString(f"{name}-token-secret", length=16, upper=False,
                                           special=False, opts=pulumi.ResourceOptions(parent=self))
        certificate_key = random.RandomId(f"{name}-certificate-key", byte_length=32,
                                          opts=pulumi.ResourceOptions(parent=self))
        self.join_secrets: pulumi.Output[JoinSecrets] = pulumi.Output.secret(pulumi.Output.all(
            token_id.result, token_secret.result, self.cluster_ca.cert_pem, certificate_key.hex,
        ).apply(lambda v: JoinSecrets(
            token=f"{v[0]}.{v[1]}", ca_cert_hash=public_key_sha256(v[2]), certificate_key=v[3])))
        """Bootstrap token, CA hash and certificate key, as one secret."""
        self.admin_client: KeyPair = issue_certificate(
            f"{name}-admin", self.cluster_ca, "kubernetes-admin", self,
            organization="system:masters")
        """The admin kubeconfig's client certificate."""
        self.cloud_config: pulumi.Output[str] | None = (
            self._cloud_config() if self.k8s.cloud_provider_enabled else None)
        """cloud.conf for the cloud controller manager and Cinder CSI (a secret)."""

    def _cloud_config(self) -> pulumi.Output[str]:
        credential = openstack.identity.ApplicationCredential(
            f"{self.cluster_name}-cloud-provider",
            name=f"{self.cluster_name}-cloud-provider",
            description=f"coe cluster {self.cluster_name}: cloud controller manager and CSI",
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["secret"]),
        )
        external = self.spec.template.external_network
        floating = external_network_id(external, pulumi.InvokeOptions(parent=self)) \
            if external else None
        auth_url = keystone_url(self.k8s.openstack_auth_url, self.spec.openstack)
        region = region_name(self.k8s.openstack_region, self.spec.openstack)

        def render(values: list[Any]) -> str:
            credential_id, secret, subnet_id, floating_id = values
            lines = ["[Global]", f"auth-url={auth_url}", f"region={region}",
                     f"application-credential-id={credential_id}",
                     f"application-credential-secret={secret}", "",
                     "[LoadBalancer]", f"subnet-id={subnet_id}"]
            if floating_id:
                lines.append(f"floating-network-id={floating_id}")
            return "\n".join(lines) + "\n"

        return pulumi.Output.secret(pulumi.Output.all(
            credential.id, credential.secret, self.network.subnet_id, floating or "",
        ).apply(render))

    def _pki_files(self) -> list[BootstrapFile]:
        pairs = {"ca": self.cluster_ca, "front-proxy-ca": self.front_proxy_ca,
                 "etcd/ca": self.etcd_ca}
        files_: list[BootstrapFile] = []
        for stem, pair in pairs.items():
            files_.append(BootstrapFile(f"{PKI_DIR}/{stem}.crt", pair.cert_pem))
            files_.append(BootstrapFile(f"{PKI_DIR}/{stem}.key", pair.key_pem, "0600"))
        files_.append(BootstrapFile(f"{PKI_DIR}/sa.key", pulumi.Output.secret(
            self.service_account_key.private_key_pem), "0600"))
        files_.append(BootstrapFile(f"{PKI_DIR}/sa.pub", self.service_account_key.public_key_pem))
        return files_

    def _kubeadm_config(self, node: NodeContext) -> pulumi.Output[str]:
        labels = self.k8s
        if node.first_master:
            return pulumi.Output.all(
                node.address, self.api_internal_host, self.join_secrets,
                pulumi.Output.all(*self.api_hosts),
            ).apply(lambda v: init_configuration(
                self.cluster_name, node.name, v[0], v[1], API_PORT,
                [*v[3], "localhost", "127.0.0.1"], labels, v[2], node.labels))
        if node.role == "master":
            return pulumi.Output.all(
                node.address, self.api_internal_host, self.join_secrets,
            ).apply(lambda v: join_configuration(
                node.name, v[0], v[1], API_PORT, labels, v[2], control_plane=True,
                node_labels=node.labels, taints=node.taints))
        # A worker's join configuration does not name its address: one apply per worker on
        # the cluster's shared join inputs, not an Output.all over three outputs each.
        return self._worker_join_inputs.apply(lambda v: join_configuration(
            node.name, "", v[0], API_PORT, labels, v[1], control_plane=False,
            node_labels=node.labels, taints=node.taints))

    @functools.cached_property
    def _worker_join_inputs(self) -> pulumi.Output[list[Any]]:
        """The API's internal address and the join secrets, resolved once for all workers."""
        return pulumi.Output.all(self.api_internal_host, self.join_secrets)

    @functools.cached_property
    def _registry_hosts(self) -> list[BootstrapFile]:
        """containerd's ``hosts.toml`` of each mirrored or insecure registry (every node)."""
        return [BootstrapFile(path, content, "0644")
                for path, content in hosts_files(self.k8s).items()]

    @functools.cached_property
    def _environment(self) -> dict[str, str]:
        """driver.env: the same on every node of the cluster."""
        labels = self.k8s
        return {
            "KUBE_VERSION": labels.kube_version,
            "KUBE_MINOR": labels.kube_minor,
            # Empty: Ubuntu's own package (containerd_version "distribution").
            "CONTAINERD_VERSION": "" if labels.containerd_version == CONTAINERD_FROM_UBUNTU
            else labels.resolved_containerd_version,
            "CONTAINERD_TARBALL_URL": labels.resolved_containerd_tarball_url,
            "CONTAINERD_CERTS_DIR": CERTS_DIR,
            "KUBE_APT_REPOSITORY": labels.kube_apt_source,
            "CONTAINERD_TARBALL_SHA256": labels.containerd_tarball_sha256 or "",
            "SANDBOX_IMAGE": sandbox_reference(labels),
            "CNI": labels.cni,
            "CNI_VERSION": labels.resolved_cni_version,
            "POD_CIDR": labels.pod_cidr,
            "SERVICE_CIDR": labels.service_cidr,
            "CLOUD_PROVIDER_ENABLED": "true" if labels.cloud_provider_enabled else "false",
            "CLOUD_PROVIDER_VERSION": labels.resolved_cloud_provider_tag,
        }

    def bootstrap(self, node: NodeContext) -> BootstrapPayload:
        files_ = [BootstrapFile("/etc/coe/kubeadm.yaml", self._kubeadm_config(node), "0600"),
                  *self._registry_hosts]
        if node.role == "master":
            files_ += self._pki_files()
            if self.cloud_config is not None and not self.k8s.addons_from_program:
                files_.append(BootstrapFile("/etc/kubernetes/cloud-config",
                                            self.cloud_config, "0600"))
        environment: dict[str, pulumi.Input[str]] = dict(self._environment)
        if node.role == "master" and not node.first_master:
            # Masters join one after another: each waits for the one before it in etcd.
            position = self.master_names_by_index.index(node.name)
            environment["COE_PREVIOUS_MASTER"] = self.master_names_by_index[position - 1]
            environment["COE_PREVIOUS_MASTER_ADDRESS"] = \
                self.master_addresses_by_index[position - 1]
        if self.k8s.addons_from_program:
            # The program installs the add-ons: the first master fetches no manifest.
            environment["COE_ADDONS"] = "program"
        else:
            environment.update(boot_manifest_urls(self.k8s))
            if self.cloud_resource_tag is not None:
                # The controllers' --cluster-name / --cluster: what the cleanup selects by.
                environment["CLOUD_PROVIDER_CLUSTER_NAME"] = self.cloud_resource_tag
        script = driverfiles.driver_file(__package__, "templates", "bootstrap.sh")
        return BootstrapPayload(script=script, environment=environment, files=files_)

    def removal_step(self, node: NodeContext) -> RemovalStep:
        """Workers are drained and deleted from the first master; a master drains itself and
        leaves etcd with ``kubeadm reset``."""
        if node.role == "master":
            return RemovalStep("self", driverfiles.driver_file(
                __package__, "templates", "remove-master.sh"))
        return RemovalStep("first_master", driverfiles.driver_file(
            __package__, "templates", "remove-worker.sh"))

    def extension_outputs(self) -> dict[str, pulumi.Input[Any]]:
        kubeconfig = pulumi.Output.all(
            self.api_address, self.cluster_ca.cert_pem, self.admin_client.cert_pem,
            self.admin_client.key_pem,
        ).apply(lambda v: admin_kubeconfig(self.cluster_name, v[0], v[1], v[2], v[3]))
        return {
            "kubeconfig": pulumi.Output.secret(kubeconfig),
            "caCertificate": self.cluster_ca.cert_pem,
        }

    @classmethod
    def probe_members(cls, client: ApiReader) -> ProbeResult:
        """``/readyz`` and the Node list, with the admin client certificate."""
        return health.probe(client)

    @classmethod
    def client_credentials(cls, outputs: Mapping[str, Any]) -> TlsCredentials:
        """The admin kubeconfig's CA and client certificate."""
        if "kubeconfig" not in outputs:
            raise ValueError("no kubeconfig output")
        return admin_credentials(outputs["kubeconfig"])
